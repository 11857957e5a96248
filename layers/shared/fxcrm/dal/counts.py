"""Counts kept as items change, so a list's `total` costs a few reads, not a
read of the list.

A counter is a scope (what is counted: `orders#deposit`, `user#<id>#deposit`,
`approvals#waiting`) split into buckets (usually a day, `2026-12-01`, so a
window's total is the sum of its days). A scope that every request of the
broker touches is spread over `shards` items per bucket — one hot item would
cap the write rate and conflict in transactions — and a read sums the shards.

Item: `COUNT#<scope>` / `<bucket>#<shard>`, attribute `n`. The increment is a
TransactWriteItems entry, written in the same transaction as the item it counts,
so a count is never ahead of or behind its items."""

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fxcrm.dal.table import Table, values


@dataclass(frozen=True)
class Counter:
    scope: str
    shards: int = 1

    @property
    def pk(self) -> str:
        return f"COUNT#{self.scope}"

    def keys(self, bucket: str) -> list[tuple[str, str]]:
        return [(self.pk, f"{bucket}#{shard}") for shard in range(self.shards)]


def change(table: Table, counter: Counter, bucket: str, by: int = 1) -> dict[str, Any]:
    """The transaction entry that adds `by` (negative to take away) to one
    shard of the bucket, chosen at random so writers spread over the shards."""
    shard = random.randrange(counter.shards) if counter.shards > 1 else 0  # noqa: S311 - spreading, not secrecy
    return {
        "Update": {
            "TableName": table.name,
            "Key": values({"pk": counter.pk, "sk": f"{bucket}#{shard}"}),
            "UpdateExpression": "ADD n :by",
            "ExpressionAttributeValues": values({":by": by}),
        }
    }


def total(table: Table, counter: Counter, buckets: Iterable[str]) -> int:
    """The sum over the buckets (one BatchGetItem per 100 shard items)."""
    keys = [key for bucket in buckets for key in counter.keys(bucket)]
    return sum(int(item.get("n", 0)) for item in table.batch_get(keys)) if keys else 0


def read(table: Table, counters: Iterable[Counter], buckets: Iterable[str]) -> dict[tuple[str, str], int]:
    """Each counter's count per bucket, shards summed, in one BatchGetItem per
    100 shard items: {(scope, bucket): n}; a bucket nothing was counted in is 0."""
    wanted = list(counters)
    names = list(buckets)
    found = {(c.scope, b): 0 for c in wanted for b in names}
    keys = [key for c in wanted for b in names for key in c.keys(b)]
    for item in table.batch_get(keys) if keys else []:
        bucket = str(item["sk"]).rsplit("#", 1)[0]
        found[(str(item["pk"]).removeprefix("COUNT#"), bucket)] += int(item.get("n", 0))
    return found


# ---------------------------------------------------------------- counts by time

DAY = "d"
MONTH = "m"


def day_of(at: int, timezone: str) -> date:
    return datetime.fromtimestamp(at, ZoneInfo(timezone)).date()


def time_buckets(at: int, timezone: str) -> list[str]:
    """The buckets an item created at `at` counts in: its day and its month, in
    the broker's time zone, so a report's whole-day window reads whole buckets."""
    day = day_of(at, timezone)
    return [f"{DAY}{day.isoformat()}", f"{MONTH}{day:%Y-%m}"]


def changes_at(table: Table, counter: Counter, at: int, timezone: str, by: int = 1) -> list[dict[str, Any]]:
    """The transaction entries that count an item of time `at` (day and month)."""
    return [change(table, counter, bucket, by) for bucket in time_buckets(at, timezone)]


def _start_of(day: date, timezone: str) -> int:
    return int(datetime.combine(day, time(), ZoneInfo(timezone)).timestamp())


@dataclass(frozen=True)
class Window:
    """A time window as the counters see it: whole months and days read from
    their buckets, and the partial days at its edges (`edges`, inclusive epoch
    ranges), which a caller counts with a bounded query of that day."""

    buckets: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    def months(self) -> dict[str, list[str]]:
        """The buckets of each month (yyyy-mm)."""
        found: dict[str, list[str]] = {}
        for bucket in self.buckets:
            found.setdefault(bucket[1:8], []).append(bucket)
        return found


def window(first: int, last: int, now: int, timezone: str) -> Window:
    """Split [first, last] into buckets and edge ranges. Nothing is created
    after `now`, so a window reaching past it covers its last day whole."""
    last = min(last, now)
    if first > last:
        return Window((), ())
    edges: list[tuple[int, int]] = []
    day, end_day = day_of(first, timezone), day_of(last, timezone)
    whole_last = last >= now or last == _start_of(end_day + timedelta(days=1), timezone) - 1
    if day == end_day:
        if first == _start_of(day, timezone) and whole_last:
            return Window((f"{DAY}{day.isoformat()}",), ())
        return Window((), ((first, last),))
    if first != _start_of(day, timezone):
        edges.append((first, _start_of(day + timedelta(days=1), timezone) - 1))
        day += timedelta(days=1)
    if not whole_last:
        edges.append((_start_of(end_day, timezone), last))
        end_day -= timedelta(days=1)
    buckets: list[str] = []
    while day <= end_day:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= end_day:
            buckets.append(f"{MONTH}{day:%Y-%m}")
            day = month_end + timedelta(days=1)
        else:
            buckets.append(f"{DAY}{day.isoformat()}")
            day += timedelta(days=1)
    return Window(tuple(buckets), tuple(edges))
