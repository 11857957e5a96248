"""The reports' data: where each reads its rows (a Query on a key or index,
never a Scan; docs/data-model.md), how the seed's filters apply, and how a
stored item becomes a row with the seed's fields.

Each report yields stored items newest first (a source) and formats one item
as a row, so a page formats only its rows and an export streams; which
source and row make which report is declared in `reports.descriptors`."""

import heapq
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fxcrm.adapters.trading.servers import SERVERS, server_name
from fxcrm.core import choices, times
from fxcrm.core.caller import full_name, name_matches
from fxcrm.core.money import show
from fxcrm.core.settings import Settings
from fxcrm.core.times import months
from fxcrm.dal import funding as funding_dal
from fxcrm.dal import ib_index, listing, order_lists
from fxcrm.dal import rebates as rebates_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal import users as users_dal
from fxcrm.dal.table import Table, plain
from fxcrm.reports.scope import Scope

SERVER_IDS = {1: "MT4-Demo", 2: "MT4-Live", 3: "MT5-Demo", 4: "MT5-Live"}
SIDES = {"BUY": 0, "SELL": 1}
PENDING_TYPES = {
    2: "BUY_LIMIT",
    3: "SELL_LIMIT",
    4: "BUY_STOP",
    5: "SELL_STOP",
    6: "BUY_STOP_LIMIT",
    7: "SELL_STOP_LIMIT",
}
ACCOUNT_CURRENCY = "USD"


# What a report shows of a user: kept instead of the whole item, so the cache stays small.
NAME_FIELDS = ("full_name", "first_name", "last_name", "email", "name_search")
NAMES_KEPT = 20_000  # users cached per run (least recently used go first): memory flat in the rows


class Names:
    """Users' display names within a report run: read in batches (`prefetch`,
    BatchGetItem) or one by one, and cached."""

    def __init__(self) -> None:
        self._users: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def _keep(self, user_id: int, user: dict[str, Any]) -> dict[str, Any]:
        slim = {k: user[k] for k in NAME_FIELDS if k in user}
        self._users[user_id] = slim
        if len(self._users) > NAMES_KEPT:
            self._users.popitem(last=False)
        return slim

    def prefetch(self, user_ids: Iterable[int]) -> None:
        """Read the users not cached yet, 100 to a BatchGetItem."""
        missing = sorted({u for u in user_ids if u not in self._users})
        found = {int(u["id"]): u for u in users_dal.get_users(missing)} if missing else {}
        for user_id in missing:
            self._keep(user_id, found.get(user_id, {}))

    def _user(self, user_id: int) -> dict[str, Any]:
        if user_id in self._users:
            self._users.move_to_end(user_id)
            return self._users[user_id]
        return self._keep(user_id, users_dal.get_user(user_id) or {})

    def email(self, user_id: int) -> str:
        return str(self._user(user_id).get("email", ""))

    def of(self, user_id: int) -> str:
        user = self._user(user_id)
        return full_name(user) or str(user.get("email", ""))

    def match(self, user_id: int, typed: str | None) -> bool:
        """A name filter: the user's stored casefolded name holds every word typed."""
        return name_matches(self._user(user_id), typed)


USER_FIELDS = ("user_id", "client_user_id", "ib_id", "sub_ib_id")


def named_users(item: dict[str, Any]) -> Iterator[int]:
    """The users whose names an item's row shows (its owner, client, IBs, account owner)."""
    for source in (item, item.get("_account") or {}):
        for name in USER_FIELDS:
            if source.get(name) is not None:
                yield int(source[name])


@dataclass
class Run:
    """One report run: its settings, scope, filters and window."""

    settings: Settings
    scope: Scope
    filters: Any
    first: int
    last: int
    now: int
    names: Names
    extra: dict[str, Any] = field(default_factory=dict)

    def show_time(self, epoch: Any) -> str:
        return times.show(int(epoch), self.settings.broker_timezone) if epoch is not None else ""


def _newest_first(lists: Iterable[Iterable[dict[str, Any]]], key: str) -> Iterator[dict[str, Any]]:
    """Merge per-user (or per-account) streams that are each newest first."""
    return heapq.merge(*lists, key=lambda item: (int(item[key]), str(item.get("sk", ""))), reverse=True)


# ---------------------------------------------------------------- deposits, withdrawals, transfers


def _order_list(kind: str, run: Run) -> order_lists.StaffList | order_lists.UserList | None:
    """The staff or client list the filters select (`all` is every status the
    report's enum lists: a deposit's draft is not one); None for an IB's
    downline, which is read per user."""
    f = run.filters
    wanted = choices.chosen(f, "status")
    methods = choices.chosen(f, "method") if "method" in type(f).model_fields else None
    tz = run.settings.broker_timezone
    first, last = times.bounded(run.first, run.last, run.now, tz, start_given=f.start_time is not None)
    if run.scope.everyone:
        return order_lists.StaffList(kind, wanted, methods, max(first, times.since_epoch(run.settings)), last, run.now)
    if run.scope.user_ids == {run.scope.caller}:
        return order_lists.UserList(run.scope.caller, kind, wanted, first, last, run.now, methods)
    return None


def _one_order(kind: str, run: Run, number: str) -> list[dict[str, Any]]:
    """The order_number filter: one GetItem, kept only if the other filters and the scope let it through."""
    order = funding_dal.get_order(number)
    f = run.filters
    first, last = times.bounded(
        run.first, run.last, run.now, run.settings.broker_timezone, start_given=f.start_time is not None
    )
    if (
        order is None
        or order.kind != kind
        or not run.scope.allows(order.user_id)
        or order.status not in choices.chosen(f, "status")
        or not first <= order.created_at <= last
    ):
        return []
    return [plain(order.to_item())]


def orders(kind: str) -> Callable[[Run], Iterator[dict[str, Any]]]:
    def source(run: Run) -> Iterator[dict[str, Any]]:
        number = getattr(run.filters, "order_number", None)
        if number:
            yield from _one_order(kind, run, number)
            return
        listed = _order_list(kind, run)
        if listed is None:  # an IB's downline: each user's list, merged
            f = run.filters
            wanted = choices.chosen(f, "status")
            methods = choices.chosen(f, "method") if "method" in type(f).model_fields else None
            tz = run.settings.broker_timezone
            first, last = times.bounded(run.first, run.last, run.now, tz, start_given=f.start_time is not None)
            users = sorted(run.scope.user_ids)
            yield from map(plain, funding_dal.users_orders(users, kind, wanted, first, last, run.now, methods))
            return
        yield from (plain(item) for item in listed)

    return source


def order_page(kind: str) -> Callable[[Run, int, int], tuple[list[dict[str, Any]], int] | None]:
    """One page and the total of a staff or client order report, read as a
    page (None for an IB's downline: its source is read instead)."""

    def paged(run: Run, number: int, size: int) -> tuple[list[dict[str, Any]], int] | None:
        order_number = getattr(run.filters, "order_number", None)
        if order_number:
            one = _one_order(kind, run, order_number)
            return (one if number == 1 else []), len(one)
        listed = _order_list(kind, run)
        if listed is None:
            return None
        return [plain(item) for item in listed.page(number, size)], listed.total()

    return paged


def money_row(run: Run, order: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(order["id"]),
        "order_number": order["order_number"],
        "account": order["account"]["account"],
        "amount": show(Decimal(str(order["amount"])), order["currency"]),
        "currency": order["currency"],
        "fee": show(Decimal(str(order.get("fee") or 0)), order["currency"]),
        "method": order.get("method", ""),
        "server_name": order["account"]["server_name"],
        "server_type": order["account"]["server_type"],
        "status": order["status"],
        "submit_time": run.show_time(order.get("submit_time") or order["created_at"]),
        "auditor_name": order.get("auditor_name", ""),
        "user_name": run.names.of(int(order["user_id"])),
    }


def transfer_row(run: Run, order: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_number": order["order_number"],
        "amount": show(Decimal(str(order["amount"])), order["currency"]),
        "currency": order["currency"],
        "status": order["status"],
        "submit_time": run.show_time(order.get("submit_time") or order["created_at"]),
        "source_trading_account": order["account"],
        "target_trading_account": order["target_account"],
        "user_name": run.names.of(int(order["user_id"])),
    }


# ---------------------------------------------------------------- trading: accounts in scope


def _accounts(run: Run) -> list[dict[str, Any]]:
    """The trading accounts the report covers, after the account filters."""
    f = run.filters
    if f.trading_account_id is not None:
        one = trading_dal.get_trading_account(f.trading_account_id)
        found = [one] if one is not None and run.scope.allows(int(one["user_id"])) else []
    elif run.scope.everyone:
        servers = [SERVER_IDS[f.server_id]] if f.server_id else sorted(SERVERS.values())
        found = [a for s in servers for a in trading_dal.list_server_accounts(s)]
    elif run.scope.ib:
        # the IB's own accounts and its downline's, from its index: no Query per client
        ids = _own_accounts(run) + ib_index.account_ids(run.scope.caller, f.account or None)
        found = trading_dal.get_trading_accounts(ids) if ids else []
    else:
        ids = [int(e["account_id"]) for u in sorted(run.scope.user_ids) for e in trading_dal.list_user_account_ids(u)]
        found = trading_dal.get_trading_accounts(ids) if ids else []
    return [
        plain(a)
        for a in found
        if (not f.server_id or a["server"] == SERVER_IDS[f.server_id])
        and (not f.account or str(a["login"]) == f.account)
    ]


def _own_accounts(run: Run) -> list[int]:
    return [int(e["account_id"]) for e in trading_dal.list_user_account_ids(run.scope.caller)]


def _account_ref(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": str(account["login"]),
        "id": int(account["account_id"] if "account_id" in account else account["id"]),
        "server_name": server_name(account["server"]),
        "server_type": account["server"],
    }


def _text(value: Any) -> str:
    return (
        ""
        if value is None
        else str(Decimal(str(value)).normalize() if isinstance(value, Decimal | int | float) else value)
    )


def _price(value: Any) -> str:
    return "" if value is None else format(Decimal(str(value)).normalize(), "f")


def _symbol_matches(f: Any, symbol: str) -> bool:
    return not f.symbol or symbol.upper() == f.symbol.upper()


# ---------------------------------------------------------------- history orders


def history(run: Run) -> Iterator[dict[str, Any]]:
    f = run.filters
    by_open = f.time_type == "open"
    # a trade opened in the window closed at or after the window's start
    low, high = run.first, (times.FOREVER if by_open else run.last)
    narrowed = f.trading_account_id is not None or f.account or not run.scope.everyone
    items: Iterable[dict[str, Any]]
    if run.scope.ib and f.trading_account_id is None and not f.account:
        items = _ib_history(run, low, high)
    elif narrowed:
        items = _newest_first(
            (trading_dal.stream_account_history(int(a["id"]), low, high) for a in _accounts(run)), "close_time"
        )
    else:
        # each month's shards merged lazily: a page reads about its rows
        items = (
            item
            for month in months(run.settings, low, high, run.now)
            for item in trading_dal.stream_month_history(month, low, high)
        )
    wanted_server = SERVER_IDS.get(f.server_id or 0)
    sides = {SIDES[side] for side in choices.chosen(f, "trading_type")}
    for item in items:
        if by_open and not (item.get("open_time") is not None and run.first <= int(item["open_time"]) <= run.last):
            continue
        if wanted_server and item["server"] != wanted_server:
            continue
        if int(item["side"]) not in sides:
            continue
        if not _symbol_matches(f, str(item["symbol"])):
            continue
        if f.order_number and f.order_number not in (str(item["position_id"]), str(item["ticket"])):
            continue
        yield plain(item)


def _ib_history(run: Run, low: int, high: int) -> Iterator[dict[str, Any]]:
    """An IB's closed trades: its downline's from its own index (one Query per
    month of the window, read a page at a time) and its own accounts', merged
    newest first. Without filters beyond the window, the total is counted
    ahead (`ib_index.trade_total`)."""
    f, ib = run.filters, run.scope.caller
    own = _own_accounts(run)
    parts = [
        listing.Part("pk = :pk AND sk BETWEEN :low AND :high", {":pk": pk, ":low": a, ":high": b})
        for pk, a, b in ib_index.trade_parts(ib, months(run.settings, low, high, run.now), low, high)
    ] + [
        listing.Part(
            "gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high",
            {":pk": f"ACCTHIST#{a}", ":low": f"{low:010d}#", ":high": f"{high:010d}#~"},
            index="gsi1",
        )
        for a in own
    ]
    unfiltered = (
        not f.server_id and not f.symbol and not f.order_number and set(choices.chosen(f, "trading_type")) == set(SIDES)
    )
    by = "open" if f.time_type == "open" else "close"
    start, end = ib_index.counted_window(run.first, run.last, times.since_epoch(run.settings), run.now)
    ahead = ib_index.trade_total(ib, start, end, by) if unfiltered else None
    if ahead is not None:
        # the IB's own accounts (few) are counted by reading them
        mine = sum(
            1
            for a in own
            for t in trading_dal.list_account_history(a, start if by == "close" else low, high)
            if by == "close" or (t.get("open_time") is not None and start <= int(t["open_time"]) <= end)
        )
        run.extra["count"] = lambda: ahead + mine
    order = lambda i: (int(i["close_time"]), str(i["server"]), int(i["ticket"]))  # noqa: E731
    return (i for i in listing.merged(Table(), parts, order) if "gone" not in i)


def history_row(run: Run, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_number": str(item["position_id"]),
        "trading_account": _account_ref(item),
        "trading_type": "BUY" if int(item["side"]) == 0 else "SELL",
        "symbol": item["symbol"],
        "volume": _price(item["volume_lots"]),
        "open_time": run.show_time(item.get("open_time")),
        "open_price": _price(item.get("open_price")),
        "close_time": run.show_time(item["close_time"]),
        "close_price": _price(item["close_price"]),
        "sl": "",
        "tp": "",
        "commission": show(Decimal(str(item["commission"])), ACCOUNT_CURRENCY),
        "swap": show(Decimal(str(item["swap"])), ACCOUNT_CURRENCY),
        "profit": show(Decimal(str(item["profit"])), ACCOUNT_CURRENCY),
        "currency": ACCOUNT_CURRENCY,
        "user_name": run.names.of(int(item["user_id"])),
    }


# ---------------------------------------------------------------- open positions and pending orders


def _snapshot_rows(run: Run, kind: str, time_field: str) -> Iterator[dict[str, Any]]:
    accounts = {int(a["id"]): a for a in _accounts(run)}
    snapshots = trading_dal.get_snapshots(sorted(accounts), kind) if accounts else {}
    rows = [
        plain(row) | {"_account": accounts[account_id]}
        for account_id, snapshot in snapshots.items()
        for row in snapshot.get("rows", [])
        if run.first <= int(row[time_field]) <= run.last
    ]
    return iter(sorted(rows, key=lambda r: (int(r[time_field]), int(r["ticket"])), reverse=True))


def positions(run: Run) -> Iterator[dict[str, Any]]:
    f = run.filters
    sides = {SIDES[side] for side in choices.chosen(f, "trading_type")}
    for row in _snapshot_rows(run, "POSITIONS", "open_time"):
        if int(row["action"]) not in sides:
            continue
        if _symbol_matches(f, str(row["symbol"])) and (not f.order_number or f.order_number == str(row["ticket"])):
            yield row


def position_row(run: Run, row: dict[str, Any]) -> dict[str, Any]:
    account = row["_account"]
    return {
        "order_number": str(row["ticket"]),
        "trading_account": _account_ref(account),
        "trading_type": "BUY" if int(row["action"]) == 0 else "SELL",
        "symbol": row["symbol"],
        "volume": _price(row["volume_lots"]),
        "leverage": int(account.get("leverage", 0)),
        "open_time": run.show_time(row["open_time"]),
        "open_price": _price(row["open_price"]),
        "close_price": _price(row["current_price"]),
        "sl": _price(row["sl"]) if Decimal(str(row["sl"])) else "",
        "tp": _price(row["tp"]) if Decimal(str(row["tp"])) else "",
        "commission": show(Decimal(0), ACCOUNT_CURRENCY),
        "swap": show(Decimal(str(row["swap"])), ACCOUNT_CURRENCY),
        "profit": show(Decimal(str(row["profit"])), ACCOUNT_CURRENCY),
        "currency": ACCOUNT_CURRENCY,
        "user_name": run.names.of(int(account["user_id"])),
    }


def pending(run: Run) -> Iterator[dict[str, Any]]:
    f = run.filters
    kinds = choices.chosen(f, "trading_type")
    for row in _snapshot_rows(run, "ORDERS", "setup_time"):
        if PENDING_TYPES.get(int(row["type"])) not in kinds:
            continue
        if _symbol_matches(f, str(row["symbol"])) and (not f.order_number or f.order_number == str(row["ticket"])):
            yield row


def pending_row(run: Run, row: dict[str, Any]) -> dict[str, Any]:
    account = row["_account"]
    return {
        "order_number": str(row["ticket"]),
        "trading_account": _account_ref(account),
        "trading_type": PENDING_TYPES.get(int(row["type"]), str(row["type"])),
        "symbol": row["symbol"],
        "volume": _price(row["volume_lots"]),
        "pending_price": _price(row["price"]),
        "pending_time": run.show_time(row["setup_time"]),
        "sl": _price(row["sl"]) if Decimal(str(row["sl"])) else "",
        "tp": _price(row["tp"]) if Decimal(str(row["tp"])) else "",
        "currency": ACCOUNT_CURRENCY,
        "user_name": run.names.of(int(account["user_id"])),
    }


# ---------------------------------------------------------------- IB commissions


class Records:
    """Commission records read once per run (the details' grant time and IB)."""

    def __init__(self) -> None:
        self._known: dict[int, dict[str, Any]] = {}

    def get(self, aggregation_id: int) -> dict[str, Any]:
        if aggregation_id not in self._known:
            self._known[aggregation_id] = plain(rebates_dal.get_aggregation(aggregation_id) or {})
        return self._known[aggregation_id]


def _granted_in(run: Run, record: dict[str, Any]) -> bool:
    granted = record.get("grant_at")
    return granted is not None and run.first <= int(granted) <= run.last


def commissions(run: Run) -> Iterator[dict[str, Any]]:
    by_grant = run.filters.time_search_type == "grant_at"
    # a record is granted at or after it is calculated: by grant time, read from the start
    low = 0 if by_grant else run.first
    if run.scope.everyone:
        items: Iterable[dict[str, Any]] = (
            r
            for month in months(run.settings, low, run.last, run.now)
            for r in rebates_dal.list_month_aggregations(month, low, run.last)
        )
    else:
        items = rebates_dal.list_ib_aggregations(run.scope.caller, low, run.last)
    for record in map(plain, items):
        if not by_grant or _granted_in(run, record):
            yield record


def commission_row(run: Run, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(record["id"]),
        "order_number": f"RB{record['id']}",
        "login_id": str(record["ib_id"]),
        "user_name": run.names.of(int(record["ib_id"])),
        "user_email": run.names.email(int(record["ib_id"])),
        "total_amount": show(Decimal(str(record["total_amount"])), str(record["currency"])),
        "total_orders": int(record["total_orders"]),
        "currency": record["currency"],
        "calculate_at": run.show_time(record["calculate_at"]),
        "grant_at": run.show_time(record.get("grant_at")),
    }


def commission_details(run: Run) -> Iterator[dict[str, Any]]:
    f = run.filters
    records = Records()
    run.extra["records"] = records
    by_grant = f.time_search_type == "grant_at"
    if f.rebate_aggregation_id is not None:
        record = records.get(int(f.rebate_aggregation_id))
        if not record or not (run.scope.everyone or int(record["ib_id"]) == run.scope.caller):
            return
        items: Iterable[dict[str, Any]] = rebates_dal.stream_aggregation_details(int(f.rebate_aggregation_id))
    elif run.scope.everyone:
        items = (d for record in commissions(run) for d in rebates_dal.stream_aggregation_details(int(record["id"])))
    else:
        items = rebates_dal.stream_ib_details(run.scope.caller, 0 if by_grant else run.first, run.last)
    for detail in map(plain, items):
        record = records.get(int(detail["aggregation_id"]))
        if by_grant and not _granted_in(run, record):
            continue
        if not by_grant and not run.first <= int(detail["calculate_at"]) <= run.last:
            continue
        if not run.names.match(int(detail["client_user_id"]), f.client_user_name):
            continue
        yield detail


def explain(detail: dict[str, Any]) -> str:
    """Which rule, level, volume (or commission) and rate produced the amount."""
    rate, basis = Decimal(str(detail["rate"])), Decimal(str(detail["basis"]))
    if detail["kind"] == "per_lot":
        how = f"{_price(basis)} lots x {_price(rate)} {detail['currency']}/lot"
    else:
        how = f"{_price(rate * 100)}% of {_price(basis)} {detail['currency']} commission"
    amount = show(Decimal(str(detail["amount"])), str(detail["currency"]))
    event = f"trade closed; rule {detail['rule_id']}, level {detail['level']}: {how} = {amount}"
    if detail.get("previous_amount") is not None:
        event += f" (recomputed; was {show(Decimal(str(detail['previous_amount'])), str(detail['currency']))})"
    return event


def commission_detail_row(run: Run, detail: dict[str, Any]) -> dict[str, Any]:
    record = run.extra["records"].get(int(detail["aggregation_id"])) if "records" in run.extra else {}
    sub_ib = detail.get("sub_ib_id")
    return {
        "order_number": str(detail["position_id"]),
        "mt_order_number": str(detail["ticket"]),
        "symbol": detail["symbol"],
        "volume": float(Decimal(str(detail["volume_lots"]))),
        "open_price": _price(detail.get("open_price")),
        "close_price": _price(detail.get("close_price")),
        "profit": show(Decimal(str(detail["profit"])), str(detail["currency"])),
        "amount": show(Decimal(str(detail["amount"])), str(detail["currency"])),
        "currency": detail["currency"],
        "client_user_name": run.names.of(int(detail["client_user_id"])),
        "ib_user_name": run.names.of(int(detail["ib_id"])),
        "sub_ib_user_name": run.names.of(int(sub_ib)) if sub_ib is not None else "",
        "trigger_event": explain(detail),
        "calculate_at": run.show_time(detail["calculate_at"]),
        "grant_at": run.show_time((record or {}).get("grant_at")),
    }


def _whole_day(value: str | None, clock: str) -> str | None:
    """A date-only filter (YYYY-MM-DD) covers the whole day."""
    return f"{value} {clock}" if value and len(value) == 10 else value


def start(settings: Settings, scope: Scope, filters: Any, now: int) -> Run:
    first, last = times.window(
        _whole_day(filters.start_time, "00:00:00"), _whole_day(filters.end_time, "23:59:59"), settings.broker_timezone
    )
    return Run(settings, scope, filters, first, last, now, Names())
