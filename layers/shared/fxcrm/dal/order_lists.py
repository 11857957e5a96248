"""Orders as lists: the index keys an order is written with, the counts kept
with it, and pages that read their page (issue #20).

gsi1  USERORDERS#<user id>#<kind> / <status>#<created_at>#<number>
      one user's orders; a status is one key range, so a status filter reads
      only matching orders and all statuses merge the ranges.
gsi2  ORDERS#<kind>#<yyyy-mm>#<shard> / <status>#<created_at>#<number>
      (withdrawals: <status>#<method>#<created_at>#<number>)
      every order of a kind by month (the broker's time zone), spread over
      SHARDS keys so no single GSI key takes every order; a month's page
      merges its shards and the ranges its filters select.

Counts (fxcrm.dal.counts, day and month buckets in the broker's time zone),
written in the order's own transaction and moved by every status change:
orders#<kind>#<status> (sharded) and orders#u<user id>#<kind>#<status>, each
also with the withdrawal's method (…#<kind>#<method>#<status>), and the same
for the counted sets of statuses (STATUS_SETS) in place of one status."""

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from fxcrm.core.settings import get_settings
from fxcrm.dal import counts, listing
from fxcrm.dal.table import Item, Table, to_ddb, transact, values

SHARDS = 2  # gsi2 keys per kind and month; raising it needs a backfill (docs/operations.md)
COUNTER_SHARDS = 2  # staff-wide counters, which every order of a kind writes; readers read every shard,
# so raising it needs no backfill (new shards start at 0)
STATUSES = ("pending", "auditing", "approved", "disapproved")
METHODS = ("bank_transfer", "international_wire_transfer", "cryptocurrency")  # a withdrawal's methods
# Counted sets of statuses besides each status: every status (a client's
# history, a transfer report's `all`) and what a deposit or withdrawal report's
# `all` shows (a deposit's draft is not one).
STATUS_SETS = {"*": frozenset(STATUSES), "reported": frozenset(STATUSES) - {"pending"}}
WITHDRAWAL = "withdrawal"


def _timezone() -> str:
    return get_settings().broker_timezone


def month_of(at: int, timezone: str) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(timezone)).strftime("%Y-%m")


def shard_of(number: str) -> int:
    return zlib.crc32(number.encode()) % SHARDS


def _staff_sort_key(order: Item, status: str) -> str:
    created = f"{int(order['created_at']):010d}#{order['order_number']}"
    if order["kind"] == WITHDRAWAL:
        return f"{status}#{order.get('method', '')}#{created}"
    return f"{status}#{created}"


def index_keys(order: Item, status: str | None = None) -> Item:
    """The order's gsi1 and gsi2 keys while it is in `status` (its own by default)."""
    status = status or order["status"]
    created, number = int(order["created_at"]), order["order_number"]
    month = month_of(created, _timezone())
    return {
        "gsi1pk": f"USERORDERS#{order['user_id']}#{order['kind']}",
        "gsi1sk": f"{status}#{created:010d}#{number}",
        "gsi2pk": f"ORDERS#{order['kind']}#{month}#{shard_of(number)}",
        "gsi2sk": _staff_sort_key(order, status),
    }


# ---------------------------------------------------------------- counters


def staff_counter(kind: str, status: str, method: str | None = None) -> counts.Counter:
    return counts.Counter(f"orders#{kind}#{method + '#' if method else ''}{status}", COUNTER_SHARDS)


def user_counter(user_id: int, kind: str, status: str, method: str | None = None) -> counts.Counter:
    return counts.Counter(f"orders#u{user_id}#{kind}#{method + '#' if method else ''}{status}")


def _counters(order: Item, status: str) -> list[counts.Counter]:
    kind, user_id = order["kind"], int(order["user_id"])
    found = [staff_counter(kind, status), user_counter(user_id, kind, status)]
    if kind == WITHDRAWAL and order.get("method"):
        found += [staff_counter(kind, status, order["method"]), user_counter(user_id, kind, status, order["method"])]
    return found


def _count(table: Table, order: Item, counted: Iterable[str], by: int) -> list[dict[str, Any]]:
    at, tz = int(order["created_at"]), _timezone()
    return [
        entry for name in counted for c in _counters(order, name) for entry in counts.changes_at(table, c, at, tz, by)
    ]


def _counted(status: str) -> set[str]:
    """The status and the counted sets it belongs to."""
    return {status} | {name for name, members in STATUS_SETS.items() if status in members}


def new_order_entries(order: Item, table: Table) -> list[dict[str, Any]]:
    """The order (new) and its counts, as TransactWriteItems entries."""
    stored = {**order, "pk": f"ORDER#{order['order_number']}", "sk": "ORDER", **index_keys(order)}
    put = {"Put": {"TableName": table.name, "Item": to_ddb(stored), "ConditionExpression": "attribute_not_exists(pk)"}}
    return [put, *_count(table, order, sorted(_counted(order["status"])), 1)]


def move_status(
    table: Table, current: Item, fields: Item, expression: str, names: dict[str, str], expression_values: Item
) -> Item:
    """Move `current` (as just read) to `fields["status"]` with `fields`, its
    index keys and its counts in one transaction, only if it is still in its
    read status. Raises ClientError when the condition failed; a conflict with
    a concurrent transaction on a shared counter is retried (`transact`)."""
    was, to = current["status"], fields["status"]
    keys = index_keys(current, to)
    names = names | {f"#k{i}": k for i, k in enumerate(keys)} | {"#status": "status"}
    set_keys = ", ".join(f"#k{i} = :k{i}" for i in range(len(keys)))
    update = {
        "Update": {
            "TableName": table.name,
            "Key": values({"pk": current["pk"], "sk": current["sk"]}),
            "UpdateExpression": f"{expression}, {set_keys}",
            "ConditionExpression": "#status = :was",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values(
                expression_values | {f":k{i}": v for i, v in enumerate(keys.values())} | {":was": was}
            ),
        }
    }
    left, joined = _counted(was) - _counted(to), _counted(to) - _counted(was)
    entries = [update, *_count(table, current, sorted(left), -1), *_count(table, current, sorted(joined), 1)]
    transact(table.client, entries)
    return {**current, **fields, **keys}


# ---------------------------------------------------------------- reading


def order_key(item: Item) -> tuple[int, str]:
    """A list's order: creation time, then order number (newest first read backwards)."""
    return int(item["created_at"]), str(item["order_number"])


def _between(status: str, first: int, last: int, method: str | None = None) -> Item:
    prefix = f"{status}#{method}#" if method else f"{status}#"
    return {":start": f"{prefix}{first:010d}#", ":end": f"{prefix}{last:010d}#~"}


def _method_filter(methods: frozenset[str] | None) -> tuple[str | None, Item]:
    if not methods or methods >= frozenset(METHODS):
        return None, {}
    names = {f":m{i}": m for i, m in enumerate(sorted(methods))}
    return f"#method IN ({', '.join(names)})", names


def user_parts(
    user_id: int, kind: str, statuses: Iterable[str], first: int, last: int, methods: frozenset[str] | None = None
) -> list[listing.Part]:
    """One Query per status of a user's orders of a kind in [first, last]. A
    method filter (a client's own withdrawals) is a filter within one client's
    range of one status: the key has no room for it, and what it drops is
    that client's withdrawals by the other methods."""
    condition, extra = _method_filter(methods if kind == WITHDRAWAL else None)
    return [
        listing.Part(
            "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
            {":pk": f"USERORDERS#{user_id}#{kind}", **_between(status, first, last), **extra},
            index="gsi1",
            names={"#method": "method"} if condition else {},
            where=condition,
        )
        for status in _in_flow(statuses)
    ]


def _in_flow(statuses: Iterable[str]) -> list[str]:
    """Statuses in the order an order moves through them, which is the order
    their Queries run: an order that moves on while a page is read is then
    found at least once (a second sighting is dropped by the merge)."""
    return [s for s in STATUSES if s in set(statuses)]


def _staff_parts(
    kind: str, month: str, statuses: Iterable[str], methods: frozenset[str] | None, first: int, last: int
) -> list[listing.Part]:
    ranges = (
        [_between(s, first, last, m) for s in _in_flow(statuses) for m in sorted(methods or METHODS)]
        if kind == WITHDRAWAL
        else [_between(s, first, last) for s in _in_flow(statuses)]
    )
    return [
        listing.Part(
            "gsi2pk = :pk AND gsi2sk BETWEEN :start AND :end",
            {":pk": f"ORDERS#{kind}#{month}#{shard}", **between},
            index="gsi2",
        )
        for between in ranges
        for shard in range(SHARDS)
    ]


def _scopes(statuses: frozenset[str], counter: Callable[[str], counts.Counter]) -> list[counts.Counter]:
    """The counters whose sum is the count of `statuses`: a counted set's own, or each status's."""
    named = [name for name, members in STATUS_SETS.items() if members == statuses]
    return [counter(named[0])] if named else [counter(s) for s in sorted(statuses)]


def _months(first: int, last: int, timezone: str) -> list[str]:
    """The months (yyyy-mm, the broker's time zone) of [first, last], newest first."""
    start, end = (datetime.fromtimestamp(t, ZoneInfo(timezone)).date() for t in (first, last))
    found: list[str] = []
    month = date(end.year, end.month, 1)
    while month >= date(start.year, start.month, 1):
        found.append(f"{month:%Y-%m}")
        month = date(month.year - (month.month == 1), 12 if month.month == 1 else month.month - 1, 1)
    return found


class StaffList:
    """Every order of a kind in a window, filtered by status (and a
    withdrawal's method) through the keys, newest first: the month counts
    (from the counters, edge days by a bounded Query) give the total and let
    a page skip the months before it unread."""

    def __init__(
        self,
        kind: str,
        statuses: frozenset[str],
        methods: frozenset[str] | None,
        first: int,
        last: int,
        now: int,
        table: Table | None = None,
    ) -> None:
        self.table = table or Table()
        self.kind, self.statuses = kind, statuses
        self.methods = methods if kind == WITHDRAWAL and methods and not methods >= frozenset(METHODS) else None
        self.first, self.last = first, min(last, now)
        self.timezone = _timezone()
        self.window = counts.window(first, last, now, self.timezone)
        self.months = _months(self.first, self.last, self.timezone) if self.first <= self.last else []
        self._counts: dict[str, int] | None = None

    def _parts(self, month: str, first: int, last: int) -> list[listing.Part]:
        return _staff_parts(self.kind, month, self.statuses, self.methods, first, last)

    def month_counts(self) -> dict[str, int]:
        if self._counts is None:
            scopes = [
                c
                for method in (sorted(self.methods) if self.methods else [None])
                for c in _scopes(self.statuses, partial(staff_counter, self.kind, method=method))
            ]
            read = counts.read(self.table, scopes, self.window.buckets)
            found = dict.fromkeys(self.months, 0)
            for month, buckets in self.window.months().items():
                found[month] = found.get(month, 0) + sum(read[(c.scope, b)] for c in scopes for b in buckets)
            for low, high in self.window.edges:
                month = month_of(low, self.timezone)
                found[month] = found.get(month, 0) + sum(p.count(self.table) for p in self._parts(month, low, high))
            self._counts = found
        return self._counts

    def total(self) -> int:
        return sum(self.month_counts().values())

    def page(self, number: int, size: int) -> list[Item]:
        known = self.month_counts()
        groups = (
            listing.Group(self._parts(month, self.first, self.last), known.get(month, 0)) for month in self.months
        )
        return listing.grouped_page(self.table, groups, number, size, order=order_key)

    def __iter__(self) -> Iterator[Item]:
        """Every order of the list, newest first, read lazily (exports)."""
        for month in self.months:
            yield from listing.merged(self.table, self._parts(month, self.first, self.last), order_key, grow=True)


class UserList:
    """One user's orders of a kind in a window, by status (and method):
    counted from the user's counters, edge days by a bounded Query."""

    def __init__(
        self,
        user_id: int,
        kind: str,
        statuses: frozenset[str],
        first: int,
        last: int,
        now: int,
        methods: frozenset[str] | None = None,
        table: Table | None = None,
    ) -> None:
        self.table = table or Table()
        self.user_id, self.kind, self.statuses = user_id, kind, statuses
        self.methods = methods if kind == WITHDRAWAL and methods and not methods >= frozenset(METHODS) else None
        self.first, self.last = first, min(last, now)
        self.window = counts.window(first, last, now, _timezone())

    def parts(self, first: int | None = None, last: int | None = None) -> Sequence[listing.Part]:
        low = self.first if first is None else first
        high = self.last if last is None else last
        return user_parts(self.user_id, self.kind, self.statuses, low, high, self.methods)

    def total(self) -> int:
        scopes = [
            c
            for method in (sorted(self.methods) if self.methods else [None])
            for c in _scopes(self.statuses, partial(user_counter, self.user_id, self.kind, method=method))
        ]
        read = counts.read(self.table, scopes, self.window.buckets)
        found = sum(read[(c.scope, b)] for c in scopes for b in self.window.buckets)
        return found + sum(p.count(self.table) for low, high in self.window.edges for p in self.parts(low, high))

    def page(self, number: int, size: int) -> list[Item]:
        if self.first > self.last:
            return []
        return listing.grouped_page(self.table, [listing.Group(self.parts())], number, size, order=order_key)

    def __iter__(self) -> Iterator[Item]:
        if self.first <= self.last:
            yield from listing.merged(self.table, self.parts(), order_key, grow=True)
