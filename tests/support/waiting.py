"""A bounded poll, for what runs elsewhere (a state machine on moto's
interpreter, the local cloud's process): never a fixed sleep."""

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    probe: Callable[[], Any], expected: str, key: str = "status", timeout: float = 30, every: float = 0.1
) -> dict[str, Any]:
    """Poll `probe()` until its `key` is `expected`, within `timeout` seconds: the last answer."""
    deadline = time.monotonic() + timeout
    while (row := probe())[key] != expected:
        assert time.monotonic() < deadline, f"still {row[key]}, expected {expected}: {row}"
        time.sleep(every)
    return dict(row)
