"""TradeSync: copy deals, open positions and pending orders from the trading
platform into the domain table, for reports and rebates.

Deals are keyed by server and ticket, so a deal fetched twice (overlapping
windows, a retried run, two runs at once) is one item. Each account resumes
from its watermark, minus an overlap that catches deals the platform records
late; a first sync starts `initial_days` back.

Every server's accounts are split into shards (gsi1 `SERVER#<server>#<shard>`);
a worker syncs one shard a batch of accounts at a time with the platform's
batch reads, and keeps a cursor per shard, so a worker that stops (its time is
up, it failed) leaves the rest of the pass to the next one. TradeSyncFlow runs
the shards as a Map with several workers at once.
"""

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from fxcrm import ledger
from fxcrm.adapters.trading.port import Deal, PlatformError
from fxcrm.adapters.trading.servers import SERVERS, platform_for
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import trade_sync as sync_dal
from fxcrm.dal import trading as dal

OVERLAP_SECONDS = 300


@dataclass
class SyncResult:
    accounts: int = 0
    deals: int = 0
    positions: int = 0
    orders: int = 0
    failed_accounts: int = 0
    demo_not_due: int = 0  # demo accounts synced less than DEMO_INTERVAL ago, left for a later run

    def add(self, other: "SyncResult") -> None:
        self.accounts += other.accounts
        self.deals += other.deals
        self.positions += other.positions
        self.orders += other.orders
        self.failed_accounts += other.failed_accounts
        self.demo_not_due += other.demo_not_due


def _plain(value: Any) -> Any:
    """Dataclass fields as DynamoDB-friendly values: Decimal stays, datetime becomes epoch seconds."""
    return int(value.timestamp()) if isinstance(value, datetime) else value


def _row(item: Any, **extra: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in asdict(item).items()} | extra


def _window_start(account: dict[str, Any], watermark: int | None, initial_days: int) -> int:
    return (watermark - OVERLAP_SECONDS) if watermark is not None else int(account["created_at"]) - initial_days * 86400


def _owner(account: dict[str, Any]) -> dict[str, Any]:
    return {"account_id": int(account["id"]), "user_id": int(account["user_id"]), "server": str(account["server"])}


def _digest(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def sync_account(settings: Settings, account: dict[str, Any], now: int, initial_days: int) -> SyncResult:
    """One account, one platform call per kind (also the fallback of a batch that failed)."""
    account_id, server, login = int(account["id"]), str(account["server"]), int(account["login"])
    platform = platform_for(settings, server)
    start = _window_start(account, dal.get_watermark(account_id), initial_days)
    deals = platform.deals(login, datetime.fromtimestamp(start, tz=UTC), datetime.fromtimestamp(now, tz=UTC))
    owner = _owner(account)
    dal.put_deals([_row(d, **owner) for d in deals])
    _store_history_orders(server, [(owner | {"login": login}, deals)], now)
    if platform.balance_includes_trading and not account["is_demo"]:
        _post_trading_results(account, deals, now)
    positions = [_row(p) for p in platform.positions(login)]
    orders = [_row(o) for o in platform.orders(login)]
    dal.put_snapshot(account_id, "POSITIONS", positions, now)
    dal.put_snapshot(account_id, "ORDERS", orders, now)
    # only after everything above is stored
    dal.set_watermark(account_id, now, positions_digest=_digest(positions), orders_digest=_digest(orders))
    return SyncResult(1, len(deals), len(positions), len(orders))


def sync_accounts(
    settings: Settings, server: str, accounts: list[dict[str, Any]], now: int, initial_days: int
) -> SyncResult:
    """A batch of one server's accounts with batch reads: one platform call per kind
    (per group of similar windows) and batched DynamoDB reads and writes. If the
    platform refuses the batch, the accounts are synced one by one, so that one
    account the platform cannot serve does not hold up the others."""
    states = sync_dal.get_sync_states([int(a["id"]) for a in accounts])
    due = [a for a in accounts if _due(a, states.get(int(a["id"])), now)]
    skipped = SyncResult(demo_not_due=len(accounts) - len(due))
    if not due:
        return skipped
    try:
        total = _sync_batch(settings, server, due, states, now, initial_days)
    except PlatformError as error:
        logger.warning("trade sync batch failed; syncing its accounts one by one", extra={"error": str(error)})
    else:
        total.add(skipped)
        return total
    total = skipped
    for account in due:
        try:
            total.add(sync_account(settings, account, now, initial_days))
        except PlatformError as error:
            # One unreachable account must not stop the others; its watermark stays put.
            logger.warning(
                "trade sync failed for an account", extra={"account_id": int(account["id"]), "error": str(error)}
            )
            total.failed_accounts += 1
    return total


def _due(account: dict[str, Any], state: dict[str, Any] | None, now: int) -> bool:
    """Live accounts every run; a demo account once DEMO_INTERVAL has passed since its last sync."""
    return not account["is_demo"] or state is None or int(state["deals_until"]) <= now - DEMO_INTERVAL


def _sync_batch(
    settings: Settings,
    server: str,
    accounts: list[dict[str, Any]],
    states: dict[int, dict[str, Any]],
    now: int,
    initial_days: int,
) -> SyncResult:
    platform = platform_for(settings, server)
    starts = {int(a["id"]): _window_start(a, _deals_until(states.get(int(a["id"]))), initial_days) for a in accounts}
    # Accounts whose windows start close together share one call (from the earliest
    # start); each keeps only its own window. A first sync (30 days) does not widen the rest.
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for account in accounts:
        groups[starts[int(account["id"])] // WINDOW_GROUP_SECONDS].append(account)
    until = datetime.fromtimestamp(now, tz=UTC)
    deals: dict[int, list[Deal]] = {}
    for group in groups.values():
        earliest = min(starts[int(a["id"])] for a in group)
        found = platform.deals_batch([int(a["login"]) for a in group], datetime.fromtimestamp(earliest, tz=UTC), until)
        for account in group:
            own = datetime.fromtimestamp(starts[int(account["id"])], tz=UTC)
            deals[int(account["id"])] = [d for d in found.get(int(account["login"]), []) if d.time >= own]
    logins = [int(a["login"]) for a in accounts]
    positions, orders = platform.positions_batch(logins), platform.orders_batch(logins)

    total = SyncResult()
    dal.put_deals([_row(d, **_owner(a)) for a in accounts for d in deals[int(a["id"])]])
    _store_history_orders(
        server, [(_owner(a) | {"login": int(a["login"])}, deals[int(a["id"])]) for a in accounts], now
    )
    snapshots: list[tuple[int, str, list[dict[str, Any]]]] = []
    marks = []
    for account in accounts:
        account_id, login = int(account["id"]), int(account["login"])
        if platform.balance_includes_trading and not account["is_demo"]:
            _post_trading_results(account, deals[account_id], now)
        state = states.get(account_id) or {}
        mark: dict[str, Any] = {"account_id": account_id, "deals_until": now}
        for kind, rows in (("POSITIONS", positions.get(login, [])), ("ORDERS", orders.get(login, []))):
            plain_rows = [_row(r) for r in rows]
            digest = _digest(plain_rows)
            if state.get(f"{kind.lower()}_digest") != digest:  # an unchanged snapshot is not written again
                snapshots.append((account_id, kind, plain_rows))
            mark[f"{kind.lower()}_digest"] = digest
        marks.append(mark)
        total.add(SyncResult(1, len(deals[account_id]), len(positions.get(login, [])), len(orders.get(login, []))))
    sync_dal.put_snapshots(snapshots, now)
    sync_dal.put_sync_states(marks)  # only after everything above is stored
    return total


def _deals_until(state: dict[str, Any] | None) -> int | None:
    return int(state["deals_until"]) if state else None


TRADES = (0, 1)  # MT deal actions buy and sell; balance operations are the CRM's own
OPENING, CLOSING = (0,), (1, 3)  # MT deal entries: in; out and out-by


def _store_history_orders(server: str, owned: list[tuple[dict[str, Any], list[Deal]]], now: int) -> None:
    """Each closing deal becomes a history order (a closed trade), joined to
    the deal that opened its position: from this batch, or remembered from
    an earlier sync. A trade seen for the first time is recorded at `now`,
    which is when rebate settlement picks it up, however long ago it closed."""
    trades = [d for _, deals in owned for d in deals if d.action in TRADES]
    opening = {d.position_id: _row(d) for d in trades if d.entry in OPENING}
    dal.put_open_legs(server, list(opening.values()))
    missing = {d.position_id for d in trades if d.entry in CLOSING} - set(opening)
    opened = dal.get_open_legs(server, missing) | opening if missing else opening
    rows = []
    for owner, deals in owned:
        for deal in deals:
            if deal.action not in TRADES or deal.entry not in CLOSING:
                continue
            leg = opened.get(deal.position_id) or {}
            rows.append(
                owner
                | {
                    "ticket": deal.ticket,
                    "position_id": deal.position_id,
                    "symbol": deal.symbol,
                    # the opening deal's side is the trade's side (the close is the opposite)
                    "side": int(leg.get("action", 1 - deal.action)),
                    "volume_lots": deal.volume_lots,
                    "open_time": int(leg["time"]) if leg else None,
                    "open_price": leg.get("price"),
                    "close_time": int(deal.time.timestamp()),
                    "close_price": deal.price,
                    "profit": deal.profit,
                    "commission": deal.commission + leg.get("commission", 0),
                    "swap": deal.swap,
                }
            )
    dal.put_history_orders(rows, now)


def _post_trading_results(account: dict[str, Any], deals: list[Deal], now: int) -> None:
    """Each closed trade's profit, commission and swap into the ledger, once per
    ticket, so the account's ledger balance follows the server's."""
    for deal in deals:
        result = deal.profit + deal.commission + deal.swap
        if deal.action in TRADES and result:
            legs = [
                ledger.Leg(ledger.external("trading", account["server"], account["currency"]), -result),
                ledger.Leg(ledger.trading_account(int(account["id"])), result),
            ]
            ledger.post(
                f"pnl-{account['server']}-{deal.ticket}",
                "trading",
                str(deal.ticket),
                account["currency"],
                legs,
                now,
                fact=True,
            )


# ---------------------------------------------------------------- shards

BATCH = 100  # accounts per platform batch call and per cursor step
WINDOW_GROUP_SECONDS = 900  # windows starting within this share one platform call
DEMO_INTERVAL = 3600  # demo accounts: synced at most hourly (live: every run, 15 minutes)
LEASE_SECONDS = 330  # a worker's hold on its shard: TradeSyncFunction's timeout and a margin
STOP_SECONDS = 60  # a worker stops with this much of its invocation left (a batch takes seconds)
MOVE_PER_RUN = 500  # accounts moved from the unsharded key per server and plan


def plan(now: int) -> list[dict[str, Any]]:
    """Every shard of every server, for a run. Accounts still under the unsharded
    key (opened before the shards) are moved to their shard first."""
    for server in SERVERS.values():
        sync_dal.move_unsharded_accounts(server, MOVE_PER_RUN)
    return [{"server": server, "shard": shard} for server in SERVERS.values() for shard in range(dal.SERVER_SHARDS)]


@dataclass
class ShardRun:
    result: SyncResult
    done: bool  # the pass is complete (or another worker holds the shard)


def sync_shard(
    settings: Settings,
    server: str,
    shard: int,
    now: int,
    *,
    max_accounts: int | None = None,
    seconds_left: Callable[[], float] | None = None,
    initial_days: int = 30,
) -> ShardRun:
    """Sync one shard from its cursor, a batch at a time, moving the cursor after
    each batch; stop after `max_accounts`, or when `seconds_left()` runs low after
    a batch (so every invocation gets on), and answer whether the pass is
    complete (else the caller runs it again, and it resumes where it stopped)."""
    holder = uuid.uuid4().hex
    cursor = sync_dal.take_shard(server, shard, holder, now, LEASE_SECONDS)
    if cursor is None:
        return ShardRun(SyncResult(), True)  # another worker is on it
    total = SyncResult()
    try:
        after, started = str(cursor.get("after", sync_dal.FIRST)), int(cursor.get("pass_started", now))
        batches = 0
        while True:
            done_here = total.accounts + total.failed_accounts + total.demo_not_due
            room = BATCH if max_accounts is None else min(BATCH, max_accounts - done_here)
            tired = seconds_left is not None and seconds_left() < STOP_SECONDS and batches > 0
            if room <= 0 or tired:
                return ShardRun(total, False)
            accounts, more = sync_dal.list_shard_accounts(server, shard, after, room)
            if accounts:
                batches += 1
                total.add(sync_accounts(settings, server, accounts, now, initial_days))
                after = str(accounts[-1]["gsi1sk"])
                if not sync_dal.advance_shard(server, shard, holder, after, started):
                    return ShardRun(total, True)  # lost the lease: the new holder goes on
            if not more:
                sync_dal.finish_shard(server, shard, holder, now)
                return ShardRun(total, True)
    finally:
        sync_dal.release_shard(server, shard, holder)


def sync_all(settings: Settings, now: int, initial_days: int = 30) -> SyncResult:
    """Every due shard to the end of its pass, one after the other, in this process:
    the on-demand run (the scheduled run is TradeSyncFlow's Map over the shards)."""
    total = SyncResult()
    for item in plan(now):
        while True:
            run = sync_shard(settings, item["server"], int(item["shard"]), now, initial_days=initial_days)
            total.add(run.result)
            if run.done:
                break
    return total
