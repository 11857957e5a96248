"""Reconciliation: what no rented CRM shows. A scheduled run (the
Reconciliation function, hourly) compares the ledger with the trading
servers, the open money flows with their executions, recorded trades with
settlement, and the approval queue with its SLA (`fxcrm.reconciliation.checks`);
it records each finding under the run (`fxcrm.dal.reconciliation`) and emits
the metrics the alarms watch. Staff list a run's findings page by page."""

from typing import Any, get_args

from fxcrm.core import ids
from fxcrm.core.errors import NotFound
from fxcrm.core.observability import logger, metrics
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import reconciliation as dal
from fxcrm.dal.table import plain
from fxcrm.reconciliation import checks
from fxcrm.reconciliation.schemas import FindingKind, FindingList, FindingRow

KINDS: tuple[str, ...] = get_args(FindingKind)

# Kinds the ReconciliationFindings metric counts (approvals past their SLA have their own).
DIFFERENCES = ("balance_mismatch", "stalled_flow", "unsettled_trades")


def _carry_since(previous: dict[str, Any] | None, findings: list[dict[str, Any]]) -> None:
    """A balance difference the previous run saw too keeps its first `since`."""
    if previous is None or not previous.get("counts", {}).get("balance_mismatch"):
        return
    count = int(previous["counts"]["balance_mismatch"])
    seen = {f["subject"]: int(f["since"]) for f in dal.list_findings(int(previous["id"]), "balance_mismatch", 0, count)}
    for finding in findings:
        if finding["kind"] == "balance_mismatch" and finding["subject"] in seen:
            finding["since"] = seen[finding["subject"]]


def run(settings: Settings, now: int) -> dict[str, Any]:
    """One run: every check, its findings stored under the run, the metrics emitted."""
    open_items = [item for status in checks.OPEN_STATUSES for item in approvals_dal.list_queue(status, None)]
    waiting = [item for item in open_items if item["status"] in checks.WAITING]
    balance_findings, checked, unreachable = checks.balances(settings, now)
    trade_findings, trades = checks.unsettled_trades(settings, now)
    findings = (
        balance_findings
        + checks.stalled_flows(settings, open_items, now)
        + trade_findings
        + checks.approvals_past_sla(settings, waiting, now)
    )
    _carry_since(dal.latest_run(), findings)
    summary = {
        "id": ids.new_id(),
        "at": now,
        "accounts_checked": checked,
        "accounts_unreachable": unreachable,
        "open_items_checked": len(open_items),
        "trades_unsettled": trades,
    }
    dal.put_run(summary, [{k: v for k, v in f.items() if v is not None} for f in findings])
    counts = {kind: sum(1 for f in findings if f["kind"] == kind) for kind in KINDS}
    metrics.add_metric(name="ReconciliationFindings", unit="Count", value=sum(counts[k] for k in DIFFERENCES))
    metrics.add_metric(name="ApprovalsPastSla", unit="Count", value=counts["approval_past_sla"])
    if unreachable:
        metrics.add_metric(name="ReconciliationUnreachableAccounts", unit="Count", value=unreachable)
    logger.info("reconciliation done", extra={**summary, "counts": counts})
    return {**summary, "counts": counts, "total": len(findings)}


def list_findings(run_id: int | None, kind: str | None, page: int, size: int) -> dict[str, Any]:
    """One page of a run's findings (the newest run by default), read by position:
    the page costs its own rows, the totals are the run's counts."""
    found = dal.get_run(run_id) if run_id is not None else dal.latest_run()
    if found is None:
        if run_id is not None:
            raise NotFound("no such reconciliation run", "run_id")
        return FindingList(run_id=None, list=[], total=0).model_dump()
    stored = found.get("counts") or {}
    counts = {k: int(stored.get(k, 0)) for k in KINDS}
    total = counts[kind] if kind else int(found.get("total", 0))
    first = (page - 1) * size
    rows = dal.list_findings(int(found["id"]), kind, first, min(size, total - first)) if first < total else []
    return FindingList(
        run_id=int(found["id"]),
        run_at=int(found["at"]),  # type: ignore[arg-type]  # WireTime shows the stored epoch
        counts=counts,
        list=[FindingRow.model_validate(plain(row)) for row in rows],
        total=total,
    ).model_dump()
