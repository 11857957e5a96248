"""The seed's time strings ("YYYY-MM-DD HH:MM:SS") in the broker's time zone."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from fxcrm.errors import InvalidInput

FORMAT = "%Y-%m-%d %H:%M:%S"
FOREVER = 2**31 - 1
# strptime reads any script's digits; times are ASCII.
SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def parse(text: str | None, field: str, timezone: str, default: int) -> int:
    if not text:
        return default
    if not SHAPE.fullmatch(text):
        raise InvalidInput("must look like 2026-11-21 18:30:00", field, "invalid_time")
    try:
        return int(datetime.strptime(text, FORMAT).replace(tzinfo=ZoneInfo(timezone)).timestamp())
    except ValueError as error:
        raise InvalidInput("must look like 2026-11-21 18:30:00", field, "invalid_time") from error


def window(start: str | None, end: str | None, timezone: str) -> tuple[int, int]:
    first, last = parse(start, "start_time", timezone, 0), parse(end, "end_time", timezone, FOREVER)
    if first > last:
        raise InvalidInput("must not be after end_time", "start_time", "invalid_time")
    return first, last


def show(epoch: int, timezone: str) -> str:
    return datetime.fromtimestamp(epoch, ZoneInfo(timezone)).strftime(FORMAT)
