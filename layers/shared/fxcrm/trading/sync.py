"""TradeSync: copy deals, open positions and pending orders from the trading
platform into the domain table, for reports and rebates.

Deals are keyed by server and ticket, so a deal fetched twice (overlapping
windows, a retried run, two runs at once) is one item. Each account resumes
from its watermark, minus an overlap that catches deals the platform records
late; a first sync starts `initial_days` back.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from fxcrm import ledger
from fxcrm.adapters.trading.port import Deal, PlatformError
from fxcrm.adapters.trading.servers import SERVERS, platform_for
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import trading as dal

OVERLAP_SECONDS = 300


@dataclass
class SyncResult:
    accounts: int = 0
    deals: int = 0
    positions: int = 0
    orders: int = 0
    failed_accounts: int = 0


def _plain(value: Any) -> Any:
    """Dataclass fields as DynamoDB-friendly values: Decimal stays, datetime becomes epoch seconds."""
    return int(value.timestamp()) if isinstance(value, datetime) else value


def _row(item: Any, **extra: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in asdict(item).items()} | extra


def sync_account(settings: Settings, account: dict[str, Any], now: int, initial_days: int) -> SyncResult:
    account_id, server, login = int(account["id"]), str(account["server"]), int(account["login"])
    platform = platform_for(settings, server)
    watermark = dal.get_watermark(account_id)
    start = (
        (watermark - OVERLAP_SECONDS) if watermark is not None else int(account["created_at"]) - initial_days * 86400
    )
    deals = platform.deals(login, datetime.fromtimestamp(start, tz=UTC), datetime.fromtimestamp(now, tz=UTC))
    owner = {"account_id": account_id, "user_id": int(account["user_id"]), "server": server}
    dal.put_deals([_row(d, **owner) for d in deals])
    _store_history_orders(server, owner | {"login": login}, deals, now)
    if platform.balance_includes_trading and not account["is_demo"]:
        _post_trading_results(account, deals, now)
    positions = platform.positions(login)
    orders = platform.orders(login)
    dal.put_snapshot(account_id, "POSITIONS", [_row(p) for p in positions], now)
    dal.put_snapshot(account_id, "ORDERS", [_row(o) for o in orders], now)
    dal.set_watermark(account_id, now)  # only after everything above is stored
    return SyncResult(1, len(deals), len(positions), len(orders))


TRADES = (0, 1)  # MT deal actions buy and sell; balance operations are the CRM's own
OPENING, CLOSING = (0,), (1, 3)  # MT deal entries: in; out and out-by


def _store_history_orders(server: str, owner: dict[str, Any], deals: list[Deal], now: int) -> None:
    """Each closing deal becomes a history order (a closed trade), joined to
    the deal that opened its position: from this batch, or remembered from
    an earlier sync. A trade seen for the first time is recorded at `now`,
    which is when rebate settlement picks it up, however long ago it closed."""
    trades = [d for d in deals if d.action in TRADES]
    opening = {d.position_id: _row(d) for d in trades if d.entry in OPENING}
    dal.put_open_legs(server, list(opening.values()))
    closing = [d for d in trades if d.entry in CLOSING]
    missing = {d.position_id for d in closing} - set(opening)
    opened = dal.get_open_legs(server, missing) | opening if missing else opening
    rows = []
    for deal in closing:
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


def sync_all(settings: Settings, now: int, initial_days: int = 30) -> SyncResult:
    total = SyncResult()
    for server in SERVERS.values():
        for account in dal.list_server_accounts(server):
            try:
                one = sync_account(settings, account, now, initial_days)
            except PlatformError as error:
                # One unreachable account must not stop the others; its watermark stays put.
                logger.warning(
                    "trade sync failed for an account", extra={"account_id": int(account["id"]), "error": str(error)}
                )
                total.failed_accounts += 1
                continue
            total.accounts += one.accounts
            total.deals += one.deals
            total.positions += one.positions
            total.orders += one.orders
    return total
