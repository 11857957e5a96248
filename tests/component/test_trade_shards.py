"""A month's closed trades are spread over shards of their gsi2 key
(`HORDERS#<yyyy-mm>#<shard>`), not collected under one hot key, and read back
as one month, newest first — trades stored under the old unsharded key too."""

from datetime import UTC, datetime

from fxcrm.dal.table import Table
from localcloud.provision import Stack

MONTH_START = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())


def _trade(ticket: int, close: int) -> dict[str, object]:
    return {
        "ticket": ticket,
        "position_id": ticket,
        "account_id": 991,
        "user_id": 992,
        "server": "MT5-Live",
        "login": 7001,
        "symbol": "EURUSD",
        "side": 0,
        "volume_lots": "1",
        "open_time": close - 60,
        "open_price": "1.1",
        "close_time": close,
        "close_price": "1.2",
        "profit": "1",
        "commission": "0",
        "swap": "0",
    }


def test_a_months_trades_spread_over_shards_and_read_as_one_month(stack: Stack) -> None:
    from fxcrm.dal import trading

    table = Table()
    rows = [_trade(880_000 + n, MONTH_START + 3600 * n) for n in range(40)]
    trading.put_history_orders(rows, MONTH_START + 86400 * 5)
    # one written before the shards existed, under the month's bare key
    legacy = _trade(889_999, MONTH_START + 3600 * 50)
    table.put(legacy | trading.history_order_keys(legacy) | {"gsi2pk": "HORDERS#2024-03"})
    stored = table.batch_get([trading.history_order_key("MT5-Live", int(r["ticket"])) for r in rows])
    keys = {str(item["gsi2pk"]) for item in stored}
    assert keys <= {f"HORDERS#2024-03#{shard}" for shard in range(trading.HORDER_SHARDS)}
    assert len(keys) > trading.HORDER_SHARDS // 2  # spread, not one key
    found = trading.list_month_history("2024-03", MONTH_START, MONTH_START + 31 * 86400)
    assert [int(t["ticket"]) for t in found] == [889_999] + [880_000 + n for n in reversed(range(40))]
    # a trade synced again keeps its shard
    trading.put_history_orders(rows[:1], MONTH_START + 86400 * 6)
    again = table.get(*trading.history_order_key("MT5-Live", 880_000))
    assert again is not None and again["gsi2pk"] in keys
