"""The one place that reads the wall clock, so tests can move time."""

import time


def now() -> int:
    return int(time.time())
