"""Tracing mode decides whether the X-Ray SDK is loaded at all."""

import os
import subprocess
import sys

from localcloud.template import ROOT

PROBE = (
    "import sys; sys.path.insert(0, 'layers/shared')\n"
    "from fxcrm.core.observability import tracer\n"
    "print(type(tracer.provider).__name__, 'aws_xray_sdk.core' in sys.modules)\n"
)


def _run(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_TRACE", "AWS_LAMBDA"))}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_platform_tracing_never_loads_the_xray_sdk() -> None:
    assert _run(AWS_LAMBDA_FUNCTION_NAME="f", POWERTOOLS_TRACE_DISABLED="true") == "_OffProvider False"


def test_sdk_tracing_uses_the_xray_recorder() -> None:
    assert _run(AWS_LAMBDA_FUNCTION_NAME="f", POWERTOOLS_TRACE_DISABLED="false") == "AsyncAWSXRayRecorder True"
