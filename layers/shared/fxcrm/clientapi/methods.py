"""The data the Client/Partner API answers, for a login already authorised
(`access.authorise`). Field names are PascalCase, as InstaForex's API and its
C# example use them; money is a decimal string, times `YYYY-MM-DD HH:MM:SS` in
the broker's time zone."""

from decimal import Decimal
from typing import Any

from fxcrm.adapters.trading.servers import platform_for
from fxcrm.clientapi.access import Caller
from fxcrm.core import times
from fxcrm.core.errors import InvalidInput, NotFound
from fxcrm.core.money import show
from fxcrm.core.settings import Settings
from fxcrm.dal import listing
from fxcrm.dal import rebates as rebates_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal.table import Table, plain
from fxcrm.trading.accounts import platform_call

CURRENCY = "USD"
CREDIT = 3  # MT deal action: credit (bonus)


def _account(caller: Caller) -> dict[str, Any]:
    account = trading_dal.get_trading_account(int(caller.account_id or 0))
    if account is None:
        raise NotFound("the trading account of this login is gone", "login")
    return dict(plain(account))


def _money(value: Any) -> str:
    return show(Decimal(str(value)), CURRENCY)


def _number(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def open_trades(settings: Settings, caller: Caller) -> list[dict[str, Any]]:
    account = _account(caller)
    with platform_call("positions"):
        positions = platform_for(settings, account["server"]).positions(caller.login)
    return [
        {
            "Ticket": p.ticket,
            "Symbol": p.symbol,
            "Type": "BUY" if p.action == 0 else "SELL",
            "Volume": _number(p.volume_lots),
            "OpenTime": times.show(int(p.open_time.timestamp()), settings.broker_timezone),
            "OpenPrice": _number(p.open_price),
            "CurrentPrice": _number(p.current_price),
            "StopLoss": _number(p.sl),
            "TakeProfit": _number(p.tp),
            "Swap": _money(p.swap),
            "Profit": _money(p.profit),
        }
        for p in positions
    ]


def closed_trades(settings: Settings, caller: Caller, start: int, end: int) -> list[dict[str, Any]]:
    """Trades closed in [start, end], newest first (as TradeSync last copied them)."""
    rows = trading_dal.list_account_history(int(caller.account_id or 0), start, end)
    tz = settings.broker_timezone
    return [
        {
            "Ticket": int(r["position_id"]),
            "CloseTicket": int(r["ticket"]),
            "Symbol": r["symbol"],
            "Type": "BUY" if int(r["side"]) == 0 else "SELL",
            "Volume": _number(r["volume_lots"]),
            "OpenTime": times.show(int(r["open_time"]), tz) if r.get("open_time") is not None else "",
            "OpenPrice": _number(r["open_price"]) if r.get("open_price") is not None else "",
            "CloseTime": times.show(int(r["close_time"]), tz),
            "ClosePrice": _number(r["close_price"]),
            "Commission": _money(r["commission"]),
            "Swap": _money(r["swap"]),
            "Profit": _money(r["profit"]),
        }
        for r in map(plain, rows)
    ]


def lots_closed(caller: Caller, start: int, end: int) -> dict[str, Any]:
    rows = trading_dal.list_account_history(int(caller.account_id or 0), start, end)
    lots = sum((Decimal(str(r["volume_lots"])) for r in rows), Decimal(0))
    return {"Login": caller.login, "Trades": len(rows), "Lots": _number(lots)}


def balance(settings: Settings, caller: Caller) -> dict[str, Any]:
    account = _account(caller)
    with platform_call("account_state"):
        state = platform_for(settings, account["server"]).account_state(caller.login)
    return {
        "Login": caller.login,
        "Currency": account["currency"],
        "Balance": _money(state.balance),
        "Credit": _money(state.credit),
        "Equity": _money(state.equity),
        "Margin": _money(state.margin),
        "FreeMargin": _money(state.margin_free),
        "MarginLevel": _number(state.margin_level.quantize(Decimal("0.01"))),
    }


def bonus_statistics(settings: Settings, caller: Caller, start: int, end: int) -> dict[str, Any]:
    """Bonus (credit) operations of the period and the credit now."""
    state = balance(settings, caller)
    deals = [
        d
        for d in map(plain, trading_dal.list_account_deals(int(caller.account_id or 0)))
        if int(d["action"]) == CREDIT and start <= int(d["time"]) <= end
    ]
    return {
        "Login": caller.login,
        "CurrentCredit": state["Credit"],
        "Received": _money(
            sum((Decimal(str(d["profit"])) for d in deals if Decimal(str(d["profit"])) > 0), Decimal(0))
        ),
        "Removed": _money(
            -sum((Decimal(str(d["profit"])) for d in deals if Decimal(str(d["profit"])) < 0), Decimal(0))
        ),
        "Operations": [
            {
                "Ticket": int(d["ticket"]),
                "Time": times.show(int(d["time"]), settings.broker_timezone),
                "Amount": _money(d["profit"]),
                "Comment": d.get("comment", ""),
            }
            for d in deals
        ],
    }


def authorization_history(settings: Settings, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"Time": times.show(int(r["at"]), settings.broker_timezone), "Address": r["address"], "Result": r["result"]}
        for r in rows
    ]


def account_summary(settings: Settings, caller: Caller, now: int) -> dict[str, Any]:
    account = _account(caller)
    month = lots_closed(caller, now - 30 * 86400, now)
    return balance(settings, caller) | {
        "Server": account["server"],
        "Platform": account["trading_platform"],
        "AccountType": account.get("type_name", ""),
        "Leverage": int(account["leverage"]),
        "IsDemo": bool(account["is_demo"]),
        "OpenTrades": len(open_trades(settings, caller)),
        "LotsClosed30Days": month["Lots"],
        "TradesClosed30Days": month["Trades"],
        "Created": times.show(int(account["created_at"]), settings.broker_timezone),
    }


# The answer stays far below Lambda's 6 MB response limit: at most this many
# balance records (about 200 bytes each) in one answer.
MAX_BALANCE_RECORDS = 20_000


def commission_records(
    settings: Settings,
    caller: Caller,
    first: int,
    last: int,
    page: int = 1,
    size: int = 20,
    details_page: int = 1,
    details_size: int = 1000,
) -> list[dict[str, Any]]:
    """One page of the IB's commission records calculated in [first, last],
    newest first, each with one page of its balance records (the commission
    details, in trade order) and `TotalDetails`, how many it has: the same
    records the IB portal shows. Each page is one Query of its rows."""
    if size * details_size > MAX_BALANCE_RECORDS:
        raise InvalidInput(f"size x details_size may be at most {MAX_BALANCE_RECORDS}", "details_size")
    tz = settings.broker_timezone
    table = Table()
    part = rebates_dal.ib_aggregations_part(caller.owner_id, first, last)
    out = []
    for record in map(plain, listing.page(table, [part], page, size, lambda r: r["gsi1sk"])):
        details = listing.page(
            table,
            [rebates_dal.aggregation_details_part(int(record["id"]))],
            details_page,
            details_size,
            lambda d: d["gsi2sk"],
            newest_first=False,
        )
        out.append(
            {
                "Partner": caller.login,
                "Id": int(record["id"]),
                "OrderNumber": f"RB{record['id']}",
                "Status": record["status"],
                "TotalAmount": _money(record["total_amount"]),
                "TotalOrders": int(record["total_orders"]),
                "TotalDetails": int(record.get("total_details", 0)),
                "Currency": record["currency"],
                "CalculateAt": times.show(int(record["calculate_at"]), tz),
                "GrantAt": times.show(int(record["grant_at"]), tz) if record.get("grant_at") else "",
                "BalanceRecords": [
                    {
                        "Id": rebates_dal.detail_id(d),  # the IB portal's rebate_id of the same row
                        "Ticket": int(d["ticket"]),
                        "Login": int(d["login"]),
                        "Symbol": d["symbol"],
                        "Volume": _number(d["volume_lots"]),
                        "Level": int(d["level"]),
                        "Rule": d["rule_id"],
                        "Amount": _money(d["amount"]),
                        "Currency": d["currency"],
                    }
                    for d in map(plain, details)
                ],
            }
        )
    return out
