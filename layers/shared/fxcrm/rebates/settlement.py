"""Rebate settlement: closed trades recorded since the watermark → one
commission-detail record per trade and IB level → one commission record per
IB and run, credited to the IB's rebate balance through the ledger (or held
for staff).

Runs go by the time TradeSync first recorded a trade, not the time it
closed: a trade that arrives late (a TradeSync outage, a late platform,
back-dated history) is recorded after the watermark and so is settled by the
next run, like any other; each trade is recorded once, in one run's window.

Why it cannot pay twice:
- a detail is written only if its trade and level have none (conditional
  put), so of two runs over the same trades (one after the other, at once,
  or with overlapping windows) each detail belongs to exactly one run;
- a run's commission record and its ledger credit share one id derived from
  the IB and the run's window, written in one transaction, once;
- a run that died after writing its details finds them again (same window,
  same aggregation id) and completes the credit.
A lease lock keeps two scheduled runs from doing the same work at once.

Each trade settles under the IB tree as it was when the trade closed."""

import hashlib
import itertools
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fxcrm import ledger
from fxcrm.core.money import quantise
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.core.times import months, since_epoch
from fxcrm.dal import rebates as dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal.table import plain
from fxcrm.rebates import rules as rules_module
from fxcrm.rebates.rules import RebateRules
from fxcrm.rebates.tree import Tree

PERIOD_SECONDS = 3600  # runs settle whole hours
# and leave the last hour alone: TradeSync stamps a trade's recording time before it
# writes it (within one 15-minute run), so a trade recorded in it may not be in the table yet
LAG_SECONDS = 3600
LEASE_SECONDS = 900
EXPENSE = "REBATES:USD"


def ib_account(ib_id: int) -> str:
    return f"IB:{ib_id}"


def aggregation_id(ib_id: int, run_id: str) -> int:
    """A JavaScript-safe integer id that the same IB and run always get."""
    return int(hashlib.sha256(f"{ib_id}:{run_id}".encode()).hexdigest()[:13], 16)


@dataclass
class Outcome:
    trades: int = 0
    details: int = 0
    aggregations: int = 0
    credited: Decimal = Decimal(0)
    held: int = 0
    no_ib: int = 0
    short_hold: int = 0
    hedged: int = 0
    demo: int = 0
    late: int = 0
    unknown_symbols: Counter[str] = field(default_factory=Counter)

    def merge(self, other: "Outcome") -> None:
        for name in ("trades", "details", "aggregations", "credited", "held", "no_ib", "short_hold", "hedged", "demo"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.late += other.late
        self.unknown_symbols.update(other.unknown_symbols)

    def summary(self) -> dict[str, Any]:
        return {
            "trades": self.trades,
            "details": self.details,
            "aggregations": self.aggregations,
            "credited": str(self.credited),
            "held": self.held,
            "late_trades": self.late,
            "skipped": {"no_ib": self.no_ib, "short_hold": self.short_hold, "hedged": self.hedged, "demo": self.demo},
            "unknown_symbols": dict(self.unknown_symbols),
        }


# ---------------------------------------------------------------- computing


def arrived_late(trade: dict[str, Any]) -> bool:
    """Recorded after a settlement by close time would have passed the trade's
    hour (LAG_SECONDS after the hour it closed in): what runs by close time missed."""
    recorded = trade.get("recorded_at")
    due = (int(trade["close_time"]) // PERIOD_SECONDS + 1) * PERIOD_SECONDS + LAG_SECONDS
    return recorded is not None and int(recorded) > due


def _hedged_tickets(trades: list[dict[str, Any]], window_start: int) -> set[tuple[str, int]]:
    """Trades that overlapped an opposite trade of the same symbol on the same
    account. A partner recorded in this window is among these trades; one
    recorded before it closed before the window's start (a trade closes before
    it is recorded), so the account's history is read only when a trade opened
    before the window: a late trade or a long one."""
    by_account: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for trade in trades:
        if trade.get("open_time") is not None:
            by_account[int(trade["account_id"])].append(trade)
    hedged: set[tuple[str, int]] = set()
    for account_id, own in by_account.items():
        candidates = {(t["server"], int(t["ticket"])): t for t in own}
        earliest = min(int(t["open_time"]) for t in own)
        if earliest <= window_start:
            for other in map(plain, trading_dal.list_account_history(account_id, earliest, 2**31 - 1)):
                if other.get("open_time") is not None:
                    candidates.setdefault((other["server"], int(other["ticket"])), other)
        by_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for candidate in candidates.values():
            by_symbol[rules_module.normalise(str(candidate["symbol"]))].append(candidate)
        for trade in own:
            for other in by_symbol[rules_module.normalise(str(trade["symbol"]))]:
                if (
                    int(other["side"]) != int(trade["side"])
                    and int(other["open_time"]) < int(trade["close_time"])
                    and int(trade["open_time"]) < int(other["close_time"])
                ):
                    hedged.add((trade["server"], int(trade["ticket"])))
                    break
    return hedged


def compute(
    rules: RebateRules,
    tree: Tree,
    trades: list[dict[str, Any]],
    run_id: str,
    now: int,
    outcome: Outcome,
    window_start: int,
    hedged: set[tuple[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """The commission-detail records of these trades under these rules: each
    says which rule, level, volume and rate produced its amount. `hedged`: the
    hedged trades when the caller found them (else they are found among these)."""
    if hedged is None:
        hedged = _hedged_tickets(trades, window_start) if rules.hedged == "no_rebate" else set()
    tree.prefetch({int(t["user_id"]) for t in trades})
    details = []
    for trade in trades:
        outcome.trades += 1
        if "Demo" in str(trade["server"]):
            outcome.demo += 1
            continue
        group = rules.group_of(str(trade["symbol"]))
        if group is None:
            outcome.unknown_symbols[str(trade["symbol"])] += 1
            continue
        held = int(trade["close_time"]) - int(trade.get("open_time") or trade["close_time"])
        if trade.get("open_time") is None or held < rules.minimum_hold_seconds:
            outcome.short_hold += 1
            continue
        if (trade["server"], int(trade["ticket"])) in hedged:
            outcome.hedged += 1
            continue
        chain = tree.chain_at(int(trade["user_id"]), int(trade["close_time"]), rules.deepest_level())
        if not chain:
            outcome.no_ib += 1
            continue
        volume = Decimal(str(trade["volume_lots"]))
        commission = abs(Decimal(str(trade.get("commission") or 0)))
        for level, ib_id in enumerate(chain, start=1):
            rule = rules.rule_for(level, group)
            if rule is None:
                continue
            base = volume if rule.kind == "per_lot" else commission
            amount = quantise(base * rule.rate(), rules.currency)
            details.append(
                {
                    "ib_id": ib_id,
                    "level": level,
                    "sub_ib_id": chain[level - 2] if level > 1 else None,
                    "client_user_id": int(trade["user_id"]),
                    "account_id": int(trade["account_id"]),
                    "login": int(trade["login"]),
                    "server": trade["server"],
                    "ticket": int(trade["ticket"]),
                    "position_id": int(trade["position_id"]),
                    "symbol": trade["symbol"],
                    "symbol_group": group,
                    "side": int(trade["side"]),
                    "volume_lots": volume,
                    "open_time": int(trade["open_time"]),
                    "open_price": trade.get("open_price"),
                    "close_time": int(trade["close_time"]),
                    "close_price": trade["close_price"],
                    "profit": Decimal(str(trade["profit"])),
                    "commission": Decimal(str(trade.get("commission") or 0)),
                    "rule_id": rule.id,
                    "kind": rule.kind,
                    "rate": rule.rate(),
                    "basis": base,
                    "amount": amount,
                    "currency": rules.currency,
                    "calculate_at": now,
                    "run_id": run_id,
                    "aggregation_id": aggregation_id(ib_id, run_id),
                }
            )
    return details


def _oldest_first(trades: Any) -> list[dict[str, Any]]:
    unique = {(str(t["server"]), int(t["ticket"])): t for t in trades}
    return sorted(unique.values(), key=lambda t: (int(t["close_time"]), str(t["server"]), int(t["ticket"])))


def trades_between(settings: Settings, since: int, until: int, now: int) -> list[dict[str, Any]]:
    """Closed trades with a close time in (since, until], oldest first (a Query per month)."""
    return _oldest_first(
        plain(item)
        for month in months(settings, since + 1, until, now)
        for item in trading_dal.list_month_history(month, since + 1, until)
    )


# ---------------------------------------------------------------- paying


@dataclass
class Owed:
    """What one IB earned in a run, summed as its details are written."""

    amount: Decimal = Decimal(0)
    tickets: set[tuple[str, int]] = field(default_factory=set)
    details: int = 0

    def add(self, detail: dict[str, Any]) -> None:
        self.amount += Decimal(str(detail["amount"]))
        self.tickets.add((str(detail["server"]), int(detail["ticket"])))
        self.details += 1


def owed_by_ib(details: list[dict[str, Any]], owed: dict[int, Owed] | None = None) -> dict[int, Owed]:
    owed = owed if owed is not None else {}
    for detail in details:
        owed.setdefault(int(detail["ib_id"]), Owed()).add(detail)
    return owed


def pay_owed(
    owed: dict[int, Owed],
    rules: RebateRules,
    run_id: str,
    window: tuple[int, int],
    now: int,
    outcome: Outcome,
    kind: str = "settlement",
) -> None:
    """One commission record per IB: credited through the ledger (one
    transaction with the record), or held for staff approval."""
    for ib_id, own in sorted(owed.items()):
        total = quantise(own.amount, rules.currency)
        record = {
            "id": aggregation_id(ib_id, run_id),
            "ib_id": ib_id,
            "run_id": run_id,
            "kind": kind,
            "period_start": window[0],
            "period_end": window[1],
            "total_amount": total,
            "total_orders": len(own.tickets),
            "total_details": own.details,
            "currency": rules.currency,
            "calculate_at": now,
        }
        outcome.aggregations += 1
        if rules.payout_for(ib_id) == "approval":
            if dal.put_held_aggregation(record | {"status": "held"}):
                outcome.held += 1
            continue
        request = dal.put_aggregation_request(record | {"status": "granted", "grant_at": now})
        if ledger.post(
            f"rebate-{record['id']}",
            "rebate",
            f"rebate:{record['id']}",
            rules.currency,
            [ledger.Leg(EXPENSE, -total), ledger.Leg(ib_account(ib_id), total)],
            now,
            with_items=[request],
        ):
            outcome.credited += total


PAGE_TRADES = 1000  # trades read, computed and written at a time
RUN_TRADES = 200_000  # a run stops after the chunk that passes this many trades (the next run goes on)
STOP_SECONDS = 300  # or when less than this is left of its invocation


def next_chunk(settings: Settings, start: int, end: int, now: int) -> int:
    """Where the chunk that starts at `start` ends: at the end of the hour of the
    first trade recorded after `start` (an empty stretch before it joins the
    chunk), or at `end`. It depends only on `start` and trades recorded by then,
    so a chunk run again after a failure is the same chunk, with the same ids."""
    for month in reversed(months(settings, start + 1, end, now)):
        first = trading_dal.first_arrival_time(month, start + 1, end)
        if first is not None:
            return min((first // PERIOD_SECONDS + 1) * PERIOD_SECONDS, end)
    return end


def settle(
    settings: Settings,
    now: int,
    until: int | None = None,
    seconds_left: Callable[[], float] | None = None,
    max_chunks: int | None = None,
) -> dict[str, Any]:
    """Settle trades recorded since the watermark up to `until` (by default
    the last whole hour that is at least LAG_SECONDS old: TradeSync stamps a
    trade before it writes it, within one 15-minute Lambda run), a chunk of at
    most an hour of recorded trades at a time, moving the watermark after each.
    A run stops after RUN_TRADES trades, `max_chunks` chunks, or when
    `seconds_left()` runs low; the next run goes on from the watermark."""
    holder = uuid.uuid4().hex
    if not dal.take_lock(holder, now, LEASE_SECONDS):
        return {"status": "busy"}
    try:
        state = dal.get_watermark_state()
        if state and state.get("backlog_until"):
            return {"status": "busy", "backlog_until": int(state["backlog_until"])}  # the backlog flow has it
        since = int(state["settled_until"]) if state else None
        start = since if since is not None else since_epoch(settings)
        end = until if until is not None else (now - LAG_SECONDS) // PERIOD_SECONDS * PERIOD_SECONDS
        if end <= start:
            return {"status": "nothing to settle", "settled_until": start}
        # The first run on recording times also takes every trade closed since the
        # watermark: trades stored before recording times existed have none.
        bridge = now if (state or {}).get("basis") != "recorded" else None
        first = start
        start, total, chunks = _chunks(
            settings, (start, end), now, since, dal.move_watermark, bridge, seconds_left, max_chunks
        )
        run_id = f"{first}-{start}"
        status = "settled" if start >= end else "partly settled"
        summary = {"status": status, "run_id": run_id, "settled_until": start, "chunks": chunks, **total.summary()}
        dal.put_run({"id": run_id, "at": now, **summary})
        if total.unknown_symbols:
            logger.warning("trades with symbols in no rebate group", extra={"symbols": dict(total.unknown_symbols)})
        logger.info("rebates settled", extra=summary)
        return summary
    finally:
        dal.release_lock(holder)


def _chunks(
    settings: Settings,
    window: tuple[int, int],
    now: int,
    since: int | None,
    move: Callable[[int | None, int], bool],
    bridge: int | None = None,
    seconds_left: Callable[[], float] | None = None,
    max_chunks: int | None = None,
) -> tuple[int, Outcome, int]:
    """Settle the window a chunk at a time from its start, `move`-ing the watermark
    (from `since`, as found, to the chunk's end) after each: where it got to, what
    it did and in how many chunks."""
    start, end = window
    total, chunks = Outcome(), 0
    while start < end:
        chunk_end = next_chunk(settings, start, end, now)
        outcome = settle_window(settings, (start, chunk_end), f"{start}-{chunk_end}", now, closed_until=bridge)
        if not move(since, chunk_end):
            break  # another run moved it (its lease ran out under us): it goes on from there
        since = start = chunk_end
        bridge = None
        total.merge(outcome)
        chunks += 1
        if total.trades >= RUN_TRADES or (max_chunks is not None and chunks >= max_chunks):
            break
        if seconds_left is not None and seconds_left() < STOP_SECONDS:
            break
    return start, total, chunks


# ---------------------------------------------------------------- backlogs (SettlementBacklogFlow)

PARTITION_SECONDS = 7 * 86400  # a backlog's partitions: a week of recorded trades each


class BacklogRefused(Exception):
    pass


def plan_backlog(settings: Settings, now: int, until: int) -> dict[str, Any]:
    """Hand (watermark, until] to the backlog flow, split into partitions that it
    settles side by side; hourly runs answer `busy` until it finishes."""
    state = dal.get_watermark_state()
    if state is not None and state.get("basis") != "recorded":
        raise BacklogRefused("a watermark from before runs went by recording time: let one hourly run move it first")
    since = int(state["settled_until"]) if state else since_epoch(settings)
    until = min(until, (now - LAG_SECONDS) // PERIOD_SECONDS * PERIOD_SECONDS)
    if state and state.get("backlog_until") is not None and int(state["backlog_until"]) != until:
        raise BacklogRefused(f"a backlog up to {int(state['backlog_until'])} is under way")
    if until <= since:
        return {"since": since, "until": since, "partitions": []}
    if not dal.start_backlog(int(state["settled_until"]) if state else None, since, until):
        raise BacklogRefused("the watermark moved or another backlog started: plan again")
    starts = range(since, until, PARTITION_SECONDS)
    return {
        "since": since,
        "until": until,
        "partitions": [{"start": a, "end": min(a + PARTITION_SECONDS, until)} for a in starts],
    }


def settle_partition(
    settings: Settings,
    start: int,
    end: int,
    now: int,
    seconds_left: Callable[[], float] | None = None,
    max_chunks: int | None = None,
) -> dict[str, Any]:
    """Settle one partition of a backlog from its own watermark, in chunks as a run
    does; `done` once it reached its end (else the flow invokes it again)."""
    found = dal.get_partition(start, end)
    at = found if found is not None else start

    def move(expected: int | None, to: int) -> bool:
        return dal.move_partition(start, end, expected, to)

    reached, total, chunks = _chunks(settings, (at, end), now, found, move, None, seconds_left, max_chunks)
    return {"start": start, "end": end, "done": reached >= end, "chunks": chunks, **total.summary()}


def finish_backlog(since: int, until: int, now: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Every partition is settled: move the watermark to the backlog's end."""
    if until <= since:
        return {"status": "nothing to settle", "settled_until": since}
    moved = dal.finish_backlog(since, until)
    summed = {k: sum(int(r.get(k) or 0) for r in results) for k in ("trades", "details", "chunks")}
    credited = sum((Decimal(str(r.get("credited") or 0)) for r in results), Decimal(0))
    run_id = f"backlog-{since}-{until}"
    summary = {
        "status": "settled" if moved else "watermark not moved",
        "run_id": run_id,
        "settled_until": until,
        "partitions": len(results),
        **summed,
        "credited": str(credited),
    }
    dal.put_run({"id": run_id, "at": now, **summary})
    logger.info("rebate backlog settled", extra=summary)
    return summary


HEDGE_ATTRIBUTES = ["server", "ticket", "account_id", "symbol", "side", "open_time", "close_time"]


def _recorded_pages(
    settings: Settings, window: tuple[int, int], now: int, attributes: list[str] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The trades recorded in the window, a page at a time, oldest recording first."""
    for month in reversed(months(settings, window[0] + 1, window[1], now)):
        for page in trading_dal.arrival_pages(month, window[0] + 1, window[1], PAGE_TRADES, attributes):
            yield [{k: v for k, v in plain(item).items() if k not in ("pk", "sk")} for item in page]


def settle_window(
    settings: Settings, window: tuple[int, int], run_id: str, now: int, closed_until: int | None = None
) -> Outcome:
    """Settle the trades recorded in the window (and, with `closed_until`, those
    closed from the window's start to then), streamed a page at a time: each
    page's details are written before the next page is read, and only each
    IB's sums are kept for the payment at the end."""
    rules = rules_module.current()
    outcome = Outcome()
    tree = Tree()
    pages = _recorded_pages(settings, window, now)
    if closed_until is not None:
        pages = itertools.chain(pages, [trades_between(settings, window[0], closed_until, now)])
    first, second = next(pages, []), next(pages, None)
    # More than one page: hedge partners may sit in different pages, so the hedged
    # trades are found first from a lean read of the whole chunk (the attributes
    # a hedge needs), as they would be among the trades of one page.
    hedged: set[tuple[str, int]] | None = None
    if second is not None and rules.hedged == "no_rebate":
        lean = [t for page in _recorded_pages(settings, window, now, HEDGE_ATTRIBUTES) for t in page]
        if closed_until is not None:
            lean.extend(trades_between(settings, window[0], closed_until, now))
        hedged = _hedged_tickets(lean, window[0])
    seen: set[tuple[str, int]] = set()
    owed: dict[int, Owed] = {}
    for page in itertools.chain([first], [second] if second is not None else [], pages):
        trades = [t for t in _oldest_first(page) if (str(t["server"]), int(t["ticket"])) not in seen]
        seen.update((str(t["server"]), int(t["ticket"])) for t in trades)
        outcome.late += sum(1 for t in trades if arrived_late(t))
        details = compute(rules, tree, trades, run_id, now, outcome, window[0], hedged)
        existing = dal.put_new_details(details)
        taken = {(e["server"], int(e["ticket"]), int(e["level"])) for e in existing if e["run_id"] != run_id}
        mine = [d for d in details if (d["server"], d["ticket"], d["level"]) not in taken]
        outcome.details += len(mine)
        owed_by_ib(mine, owed)
    pay_owed(owed, rules, run_id, window, now, outcome)
    return outcome
