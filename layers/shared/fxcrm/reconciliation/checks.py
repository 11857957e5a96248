"""The four comparisons of a reconciliation run. Each returns its findings as
plain items (`kind`, `subject`, `since`, `detail` and the amounts), newest
knowledge only: nothing here writes.

- balance_mismatch: a live trading account whose server balance is not what
  the ledger explains (posted, less what withdrawals and transfers in flight
  may already hold on the server, plus trading results the server booked
  since the last TradeSync on servers whose balance includes them).
- stalled_flow: a deposit, withdrawal or transfer still open (its approval
  pending, waiting or approved, its order pending or auditing) whose
  execution is no longer running.
- unsettled_trades: trades recorded longer ago than the settlement lag and
  still past the settlement watermark, per trading account.
- approval_past_sla: an item waiting for a staff decision for longer than the SLA.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fxcrm import ledger
from fxcrm.adapters import workflows
from fxcrm.adapters.trading.port import PlatformError, TradingPlatform
from fxcrm.adapters.trading.servers import platform_for
from fxcrm.approvals.workflow import FLOWS
from fxcrm.core.money import show
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.core.times import since_epoch
from fxcrm.dal import funding as funding_dal
from fxcrm.dal import ledger as ledger_dal
from fxcrm.dal import rebates as rebates_dal
from fxcrm.dal import trading as trading_dal

Finding = dict[str, Any]

LIVE_SERVERS = ("MT4-Live", "MT5-Live")
MONEY_KINDS = ("deposit", "withdrawal", "transfer")
OPEN_STATUSES = ("pending", "waiting", "approved")  # an approval whose flow has not closed it
WAITING = ("pending", "waiting")  # waiting for a staff decision
TRADES = (0, 1)  # MT deal actions buy and sell
# A flow is started right after its item is written: younger items are not judged yet.
START_GRACE_SECONDS = 300


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _unsynced_trading(platform: TradingPlatform, account: dict[str, Any], now: int) -> Decimal:
    """Trading results the server booked after the account's TradeSync watermark
    (not in the ledger yet); none on a server whose balance excludes them."""
    if not platform.balance_includes_trading:
        return Decimal(0)
    since = trading_dal.get_watermark(int(account["id"]))
    if since is None:
        since = int(account["created_at"])
    deals = platform.deals(
        int(account["login"]), datetime.fromtimestamp(since, tz=UTC), datetime.fromtimestamp(now, tz=UTC)
    )
    return sum(
        (d.profit + d.commission + d.swap for d in deals if d.action in TRADES and d.time.timestamp() > since),
        Decimal(0),
    )


def balances(settings: Settings, now: int) -> tuple[list[Finding], int, int]:
    """Findings, accounts compared, accounts whose server did not answer (logged, compared next run)."""
    findings: list[Finding] = []
    checked = unreachable = 0
    for server in LIVE_SERVERS:
        accounts = [a for a in trading_dal.list_server_accounts(server) if not a.get("is_demo")]
        try:
            platform = platform_for(settings, server)
        except KeyError:  # a server the MT5 secret does not configure
            logger.warning("reconciliation: server not configured", extra={"server": server})
            unreachable += len(accounts)
            continue
        for account in accounts:
            account_id, currency = int(account["id"]), str(account.get("currency", "USD"))
            try:
                state = platform.account_state(int(account["login"]))
                unsynced = _unsynced_trading(platform, account, now)
            except PlatformError:
                logger.warning("reconciliation: server did not answer", extra={"account_id": account_id})
                unreachable += 1
                continue
            checked += 1
            balance = ledger_dal.get_balance(ledger.trading_account(account_id))
            posted, pending_out = (balance.posted, balance.pending_out) if balance else (Decimal(0), Decimal(0))
            # In flight, a withdrawal or transfer may already be held on the server and not yet
            # posted in the ledger: anything between "all held" and "none held" is explained.
            high = posted + unsynced
            low = high - pending_out
            if low <= state.balance <= high:
                continue
            findings.append(
                {
                    "kind": "balance_mismatch",
                    "subject": str(account_id),
                    "since": now,
                    "user_id": int(account["user_id"]),
                    "account_id": account_id,
                    "server": server,
                    "login": int(account["login"]),
                    "currency": currency,
                    "ledger_balance": show(posted, currency),
                    "ledger_pending_out": show(pending_out, currency),
                    "platform_balance": show(state.balance, currency),
                    "difference": show(state.balance - high, currency),
                    "detail": "the trading server's balance is not what the ledger explains",
                }
            )
    return findings, checked, unreachable


def stalled_flows(settings: Settings, open_items: Iterable[dict[str, Any]], now: int) -> list[Finding]:
    findings: list[Finding] = []
    for approval in open_items:
        kind = str(approval["kind"])
        if kind not in MONEY_KINDS or int(approval["created_at"]) > now - START_GRACE_SECONDS:
            continue
        number = str((approval.get("summary") or {}).get("order_number", ""))
        order = funding_dal.get_order(number) if number else None
        if order is None or order.status not in ("pending", "auditing"):
            continue
        status = workflows.execution_status(settings.workflow_arn(FLOWS[kind]), f"{kind}-{approval['id']}")
        if status == "RUNNING":
            continue
        currency = order.currency
        findings.append(
            {
                "kind": "stalled_flow",
                "subject": number,
                "since": int(approval.get("updated_at") or approval["created_at"]),  # its last step
                "user_id": order.user_id,
                "account_id": order.account_id,
                "order_number": number,
                "approval_id": int(approval["id"]),
                "approval_kind": kind,
                "currency": currency,
                "amount": show(order.amount, currency),
                "execution_status": status,
                "detail": f"the {kind} is still {order.status} but its flow is {status.lower()}",
            }
        )
    return findings


def _months(first: int, last: int) -> list[str]:
    start, end = datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)
    found, (year, month) = [], (start.year, start.month)
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return found


def unsettled_trades(settings: Settings, now: int) -> tuple[list[Finding], int]:
    """Per account, the trades recorded after the watermark and before now - lag; and how many trades."""
    watermark = rebates_dal.get_watermark()
    start = watermark + 1 if watermark is not None else since_epoch(settings)
    end = now - settings.settlement_lag_hours * 3600
    per_account: dict[int, Finding] = {}
    count = 0
    arrivals = (
        trade
        for month in (_months(start, end) if start <= end else [])
        for page in trading_dal.arrival_pages(month, start, end, 1000)
        for trade in page
    )
    for trade in arrivals:
        count += 1
        account_id = int(trade["account_id"])
        found = per_account.setdefault(
            account_id,
            {
                "kind": "unsettled_trades",
                "subject": str(account_id),
                "since": int(trade["recorded_at"]),
                "user_id": int(trade["user_id"]),
                "account_id": account_id,
                "server": str(trade["server"]),
                "login": int(trade["login"]) if trade.get("login") is not None else None,
                "trades": 0,
                "lots": Decimal(0),
            },
        )
        found["trades"] += 1
        found["lots"] += _decimal(trade.get("volume_lots"))
        found["since"] = min(found["since"], int(trade["recorded_at"]))
    findings = []
    lag = settings.settlement_lag_hours
    for found in per_account.values():
        lots = found.pop("lots")
        detail = f"{found['trades']} trade(s) recorded over {lag} h ago and not settled"
        findings.append(found | {"lots": f"{lots.normalize():f}", "detail": detail})
    return findings, count


def approvals_past_sla(settings: Settings, waiting: Iterable[dict[str, Any]], now: int) -> list[Finding]:
    limit = now - settings.approval_sla_hours * 3600
    findings = []
    for approval in waiting:
        if int(approval["created_at"]) >= limit:
            continue
        summary = approval.get("summary") or {}
        findings.append(
            {
                "kind": "approval_past_sla",
                "subject": str(approval["id"]),
                "since": int(approval["created_at"]),
                "user_id": int(approval["user_id"]),
                "approval_id": int(approval["id"]),
                "approval_kind": str(approval["kind"]),
                "order_number": str(summary["order_number"]) if summary.get("order_number") else None,
                "amount": str(summary["amount"]) if summary.get("amount") is not None else None,
                "detail": f"waiting for a decision for over {settings.approval_sla_hours} h",
            }
        )
    return findings
