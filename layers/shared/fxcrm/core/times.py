"""The seed's time strings ("YYYY-MM-DD HH:MM:SS") in the broker's time zone:
the one time format on the wire (`WireTime`); items store epoch seconds."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, WithJsonSchema

from fxcrm.core.errors import InvalidInput
from fxcrm.core.settings import Settings

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


def wire(value: Any) -> Any:
    """A stored time (epoch seconds) as the seed's string in the broker's time
    zone (`BROKER_TIMEZONE`); a string is taken as already shown."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    from fxcrm.core.settings import get_settings

    return show(int(value), get_settings().broker_timezone)


# A response field that carries a time: stored as epoch seconds, answered as the seed's string.
WireTime = Annotated[
    str,
    BeforeValidator(wire),
    WithJsonSchema({"type": "string", "description": "YYYY-MM-DD HH:MM:SS in the broker's time zone"}),
]


def wire_row(row: dict[str, Any]) -> dict[str, Any]:
    """An untyped row (back-office detail, audit entries) with each time field
    (`at`, `*_at`, `*_time`) as `wire` shows it; nested values stay as stored."""
    return {k: wire(v) if k == "at" or k.endswith(("_at", "_time")) else v for k, v in row.items()}


def months(settings: Settings, first: int, last: int, now: int) -> list[str]:
    """The months (yyyy-mm) a staff-wide query reads, newest first: from the
    window's start (or the broker's first month) to its end (or now)."""
    start = datetime.fromtimestamp(max(first, since_epoch(settings)), UTC)
    end = datetime.fromtimestamp(min(last, now), UTC)
    found = []
    year, month = end.year, end.month
    while (year, month) >= (start.year, start.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def since_epoch(settings: Settings) -> int:
    """The broker's first month (`REPORTS_SINCE`) as epoch seconds."""
    return int(datetime.strptime(settings.reports_since, "%Y-%m").replace(tzinfo=UTC).timestamp())


# A list that the seed lets run over all time is read over a window (docs/api.md):
# without `start_time`, the 90 days up to its end; never more than 366 days.
DEFAULT_WINDOW_DAYS = 90
MAX_WINDOW_DAYS = 366


def bounded(first: int, last: int, now: int, timezone: str, start_given: bool) -> tuple[int, int]:
    """A list's window [first, last] with the default start (the start of the
    day 89 days before its end, so its days are whole) and the longest span."""
    end = min(last, now)
    if not start_given:
        day = datetime.fromtimestamp(end - (DEFAULT_WINDOW_DAYS - 1) * 86400, ZoneInfo(timezone)).date()
        first = max(first, int(datetime.combine(day, datetime.min.time(), ZoneInfo(timezone)).timestamp()))
    elif end - first > MAX_WINDOW_DAYS * 86400:
        raise InvalidInput(
            f"must be at most {MAX_WINDOW_DAYS} days before end_time (or now)", "start_time", "window_too_long"
        )
    return first, last
