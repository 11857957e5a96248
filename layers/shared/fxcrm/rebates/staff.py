"""What staff do with rebates: grant a commission record held for approval,
and recompute a settled period under the current rules, seeing the
differences before applying them."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from fxcrm import audit, ledger
from fxcrm.adapters import functions
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, InvalidInput, NotFound
from fxcrm.core.money import show
from fxcrm.core.paging import page_of
from fxcrm.core.settings import Settings
from fxcrm.core.times import months
from fxcrm.dal import rebates as dal
from fxcrm.dal.table import plain
from fxcrm.rebates import rules as rules_module
from fxcrm.rebates import settlement
from fxcrm.rebates.tree import Tree

PREVIEW_ROWS = 200


def grant(staff: Principal, aggregation_id: int, source_ip: str, now: int) -> dict[str, Any]:
    permissions.require(staff, "admin.rebates.manage")
    record = dal.get_aggregation(aggregation_id)
    if record is None:
        raise NotFound("no such commission record", "aggregation_id")
    if record["status"] != "held":
        raise Conflict(f"this record is {record['status']}, not held", "aggregation_id", "not_held")
    total = Decimal(str(record["total_amount"]))
    posted = ledger.post(
        f"rebate-{aggregation_id}",
        "rebate",
        f"rebate:{aggregation_id}",
        str(record["currency"]),
        [ledger.Leg(settlement.EXPENSE, -total), ledger.Leg(settlement.ib_account(int(record["ib_id"])), total)],
        now,
        with_items=[dal.grant_request(aggregation_id, staff.email, now)],
    )
    if not posted:
        raise Conflict("this record was granted a moment ago", "aggregation_id", "not_held")
    audit.record(
        staff,
        "rebate.grant",
        f"rebate:{aggregation_id}",
        source_ip,
        now,
        {"status": "held"},
        {"status": "granted", "amount": str(total)},
    )
    return record_view(dal.get_aggregation(aggregation_id) or {})


def record_view(record: dict[str, Any]) -> dict[str, Any]:
    shown = dict(plain(record))
    shown["total_amount"] = show(Decimal(str(record["total_amount"])), str(record["currency"]))
    return {k: v for k, v in shown.items() if not k.startswith("gsi") and k not in ("pk", "sk")}


def _key(detail: dict[str, Any]) -> tuple[str, int, int]:
    return str(detail["server"]), int(detail["ticket"]), int(detail["level"])


def recompute(
    settings: Settings, staff: Principal, start: int, end: int, apply: bool, source_ip: str, now: int
) -> dict[str, Any]:
    """Trades closed in [start, end] under today's rules and tree, against what
    was settled for them. With `apply`, each IB's difference is booked as an
    adjustment record (credited or held like any other) and the details are
    rewritten, each keeping the amount it had before."""
    permissions.require(staff, "admin.rebates.manage")
    if end <= start:
        raise InvalidInput("must be after start_time", "end_time")
    rules = rules_module.current()
    run_id = f"adjust-{now}"
    outcome = settlement.Outcome()
    trades = settlement.trades_between(settings, start - 1, end, now)
    fresh = {_key(d): d for d in settlement.compute(rules, Tree(), trades, run_id, now, outcome, start)}
    levels = range(1, rules_module.MAX_LEVELS + 1)
    keys = [(str(t["server"]), int(t["ticket"]), level) for t in trades for level in levels]
    stored = {_key(d): plain(d) for d in dal.get_details(keys)}
    changes = []
    for key in sorted(set(fresh) | set(stored)):
        old = Decimal(str(stored[key]["amount"])) if key in stored else Decimal(0)
        new = Decimal(str(fresh[key]["amount"])) if key in fresh else Decimal(0)
        if old != new or (key in fresh and key in stored and int(fresh[key]["ib_id"]) != int(stored[key]["ib_id"])):
            changes.append((key, stored.get(key), fresh.get(key), old, new))
    by_ib: dict[int, Decimal] = defaultdict(Decimal)
    for _, before, after, old, new in changes:
        if before is not None:
            by_ib[int(before["ib_id"])] -= old
        if after is not None:
            by_ib[int(after["ib_id"])] += new
    answer = {
        "trades": len(trades),
        "changed_details": len(changes),
        "ibs": [{"ib_id": ib, "delta": str(delta)} for ib, delta in sorted(by_ib.items()) if delta != 0],
        "details": [
            {
                "server": k[0],
                "ticket": k[1],
                "level": k[2],
                "old_amount": str(old),
                "new_amount": str(new),
                "old_rule": (b or {}).get("rule_id", ""),
                "new_rule": (a or {}).get("rule_id", ""),
            }
            for k, b, a, old, new in changes[:PREVIEW_ROWS]
        ],
        "applied": False,
    }
    if not apply or not changes:
        return answer
    rewritten, adjustments = [], []
    for key, before, after, old, new in changes:
        server, ticket, level = key
        base = after if after is not None else dict(before or {}) | {"amount": Decimal(0), "rule_id": "none"}
        ib_id = int(base["ib_id"])
        rewritten.append(
            base
            | {
                "server": server,
                "ticket": ticket,
                "level": level,
                "previous_amount": old,
                "run_id": run_id,
                "calculate_at": now,
                "aggregation_id": settlement.aggregation_id(ib_id, run_id),
            }
        )
        if before is not None:  # take back what was paid (from the IB it was paid to)
            adjustments.append({"ib_id": int(before["ib_id"]), "amount": -old, "server": server, "ticket": ticket})
        if after is not None:
            adjustments.append({"ib_id": ib_id, "amount": new, "server": server, "ticket": ticket})
    dal.put_details(rewritten)
    settlement.pay_owed(
        settlement.owed_by_ib(adjustments), rules, run_id, (start, end), now, outcome, kind="adjustment"
    )
    audit.record(
        staff,
        "rebate.recompute",
        f"rebates:{start}-{end}",
        source_ip,
        now,
        {},
        {"ibs": answer["ibs"], "details": len(changes)},
    )
    return answer | {"applied": True}


def records(
    settings: Settings, ib_id: int | None, status: str | None, page: int, size: int, now: int
) -> dict[str, Any]:
    """Commission records newest first: one IB's (gsi1), or everyone's month by month (gsi2)."""
    if ib_id is not None:
        rows = dal.list_ib_aggregations(ib_id, 0, 2**31 - 1)
    else:
        rows = [r for month in months(settings, 0, now, now) for r in dal.list_month_aggregations(month, 0, now)]
    rows = [record_view(r) for r in rows if status is None or r["status"] == status]
    return {"list": page_of(rows, page, size), "total": len(rows)}


def run_now(settings: Settings, staff: Principal, source_ip: str, now: int) -> dict[str, Any]:
    """Start the settlement function now, asynchronously (it takes its own lock)."""
    permissions.require(staff, "admin.rebates.manage")
    functions.invoke_async(settings.settlement_function_name, {})
    audit.record(staff, "rebate.settle", "rebates:settlement", source_ip, now)
    return {"status": "started"}
