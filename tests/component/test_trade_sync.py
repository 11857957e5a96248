"""TradeSync: deals stored once, resumed from a watermark, snapshots replaced."""

from datetime import UTC, datetime
from typing import Any

from fxcrm.adapters.trading.servers import platform_for
from fxcrm.core.settings import get_settings
from fxcrm.dal import trading as dal
from fxcrm.trading.sync import sync_account, sync_all
from tests.support.api import ApiClient
from tests.support.journeys import live_account, open_demo_account, register, unique_email


def _open_account(api: ApiClient) -> dict[str, Any]:
    """An MT4 demo account (MT4 Standard)."""
    token = register(api, unique_email("sync"))["token"]
    account_id = open_demo_account(api, token, trading_account_type_id=101, trading_platform="MT4")
    account = dal.get_trading_account(account_id)
    assert account is not None
    return account


def test_sync_twice_stores_each_deal_once(api: ApiClient) -> None:
    account = _open_account(api)
    now = int(datetime.now(tz=UTC).timestamp())
    first = sync_account(get_settings(), account, now, initial_days=30)
    stored = dal.list_account_deals(int(account["id"]))
    assert first.deals == len(stored) > 10
    tickets = [d["ticket"] for d in stored]
    assert len(set(tickets)) == len(tickets)
    # the demo deposit is among them, as a balance deal
    assert any(d["action"] == 2 and d["comment"] == f"fx:demo-{account['id']}" for d in stored)

    sync_account(get_settings(), account, now + 60, initial_days=30)  # overlapping window
    again = dal.list_account_deals(int(account["id"]))
    assert sorted(d["ticket"] for d in again) == sorted(tickets)
    assert dal.get_watermark(int(account["id"])) == now + 60


def test_sync_resumes_from_the_watermark(api: ApiClient) -> None:
    account = _open_account(api)
    now = int(datetime.now(tz=UTC).timestamp())
    dal.set_watermark(int(account["id"]), now - 3600)
    result = sync_account(get_settings(), account, now, initial_days=30)
    # only the last hour (plus the overlap) was asked for and stored, no month of trades
    stored = dal.list_account_deals(int(account["id"]))
    assert len(stored) == result.deals and all(int(d["time"]) >= now - 3600 - 300 for d in stored)
    platform = platform_for(get_settings(), account["server"])
    expected = platform.deals(
        int(account["login"]), datetime.fromtimestamp(now - 3600 - 300, tz=UTC), datetime.fromtimestamp(now, tz=UTC)
    )
    assert result.deals == len(expected)


def test_positions_and_orders_snapshots_match_the_platform(api: ApiClient, monkeypatch: Any) -> None:
    from fxcrm.adapters.trading.simulated import SimulatedPlatform
    from fxcrm.trading import sync

    account = _open_account(api)
    now = datetime.now(tz=UTC)
    platform = SimulatedPlatform(account["server"], clock=lambda: now)  # one moment: positions come and go
    monkeypatch.setattr(sync, "platform_for", lambda settings, name: platform)
    sync_account(get_settings(), account, int(now.timestamp()), initial_days=1)
    positions = dal.get_snapshot(int(account["id"]), "POSITIONS")
    orders = dal.get_snapshot(int(account["id"]), "ORDERS")
    assert positions is not None and orders is not None
    assert [p["ticket"] for p in positions["rows"]] == [p.ticket for p in platform.positions(int(account["login"]))]
    assert [o["ticket"] for o in orders["rows"]] == [o.ticket for o in platform.orders(int(account["login"]))]


def bring_every_account_up_to(now: int) -> None:
    """The session's table holds every account other tests opened; mark them
    synced, so that a run of sync_all here costs one short window each (their
    first month of generated deals is not what these tests are about)."""
    from fxcrm.adapters.trading.servers import SERVERS

    for server in SERVERS.values():
        for account in dal.list_server_accounts(server):
            dal.set_watermark(int(account["id"]), now)


def test_sync_all_finds_accounts_by_server_without_scanning(api: ApiClient) -> None:
    from tests.support.aws_calls import AwsCalls

    now = int(datetime.now(tz=UTC).timestamp())
    bring_every_account_up_to(now)
    account = _open_account(api)
    with AwsCalls() as calls:
        result = sync_all(get_settings(), now)
    assert dal.list_account_deals(int(account["id"]))  # the new account got its month
    assert result.accounts >= 1 and result.failed_accounts == 0
    assert "dynamodb.Scan" not in calls.counts
    assert calls.counts["dynamodb.Query"] >= 4  # one per server at least


def test_trading_results_reach_the_ledger_once_where_the_server_books_them(api: ApiClient, monkeypatch: Any) -> None:
    """On a server whose balances include trading results (MT5), TradeSync posts
    each closed trade's profit, commission and swap to the ledger, once per ticket."""
    from decimal import Decimal

    from fxcrm import ledger
    from fxcrm.adapters.trading.simulated import SimulatedPlatform
    from fxcrm.ledger.verify import verify
    from fxcrm.trading import sync

    server = SimulatedPlatform("MT5-Live")
    server.balance_includes_trading = True  # type: ignore[misc]
    monkeypatch.setattr(sync, "platform_for", lambda settings, name: server)
    account_id = live_account(1, unique_email("pnl"))
    account = dal.get_trading_account(account_id)
    assert account is not None
    # a simulated account trades once it has been funded on the server
    server.balance(int(account["login"]), Decimal("1000.00"), f"dep-pnl-{account_id}")
    now = int(datetime.now(tz=UTC).timestamp())
    start = datetime.fromtimestamp(int(account["created_at"]) - 30 * 86400, tz=UTC)
    deals = server.deals(int(account["login"]), start, datetime.fromtimestamp(now, tz=UTC))
    results = sum((d.profit + d.commission + d.swap for d in deals if d.action in (0, 1)), Decimal(0))
    funded = abs(results) + 1000  # enough that the month's losses leave it positive
    deposit = [
        (ledger.external("deposit", "bank_transfer", "USD"), -funded),
        (ledger.trading_account(account_id), funded),
    ]
    ledger.post(f"dep-pnl-{account_id}", "deposit", "D", "USD", deposit, 1)

    sync_account(get_settings(), account, now, initial_days=30)
    assert results != 0 and ledger.available(account_id) == funded + results
    sync_account(get_settings(), account, now + 60, initial_days=30)  # an overlapping window posts nothing twice
    assert ledger.available(account_id) == funded + results
    assert verify()["differences"] == []
