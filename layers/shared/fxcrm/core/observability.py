"""One Logger, Tracer and Metrics per process (Powertools).

Tracing: Powertools' Tracer imports the X-Ray SDK even when tracing is
disabled, and the SDK builds two botocore clients at import (about 270 ms of
cold start). When tracing is off (the template's TracingMode=platform, or
outside Lambda) the Tracer gets a no-op provider through Powertools' own
provider interface, so the SDK is never loaded; Lambda's active tracing still
records every invocation. With TracingMode=sdk it uses the X-Ray SDK as usual.
"""

import os
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _OffSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class _OffProvider(BaseProvider):
    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _OffSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _OffSegment()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Sequence[str]) -> None: ...
    def patch_all(self) -> None: ...


def _tracing_off() -> bool:
    """Powertools' own rule: off when told so, or when not running in Lambda."""
    told = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return told or "AWS_LAMBDA_FUNCTION_NAME" not in os.environ or "AWS_SAM_LOCAL" in os.environ


logger = Logger()
tracer = Tracer(provider=_OffProvider(), disabled=True) if _tracing_off() else Tracer()
metrics = Metrics()
