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


# ---------------------------------------------------------------- shards, cursors, batches


def _shard_account(shard: int, *, server: str = "MT5-Live", demo: bool = False, funded: bool = True) -> dict[str, Any]:
    """An account on the simulated `server` whose id falls in `shard`, funded on the server."""
    from decimal import Decimal

    from fxcrm.adapters.trading.simulated import SimulatedPlatform
    from fxcrm.core import ids
    from fxcrm.trading import accounts
    from fxcrm.trading.accounts import Application

    account_type = dal.get_account_type("MT5", 202, False)
    assert account_type is not None
    application = Application("MT5", 202, 100, "USD", "Live-Pass1", None)
    login = accounts.create_on_platform(get_settings(), server, account_type, unique_email("shard"), application)
    account_id = ids.new_id() // dal.SERVER_SHARDS * dal.SERVER_SHARDS + shard
    created = int(datetime.now(tz=UTC).timestamp()) - 86400
    accounts.record_account(account_id, 1, application, account_type, server, login, demo, created)
    if funded:
        SimulatedPlatform(server).balance(login, Decimal("1000.00"), f"dep-shard-{account_id}")
    account = dal.get_trading_account(account_id)
    assert account is not None
    return account


def _fresh_shard(server: str, shard: int, now: int) -> list[dict[str, Any]]:
    """The shard's accounts, every one synced up to `now`, and no pass under way."""
    from fxcrm.dal import trade_sync

    trade_sync.Table().delete(*trade_sync.cursor_key(server, shard))
    found, _ = trade_sync.list_shard_accounts(server, shard, trade_sync.FIRST, 1000)
    for account in found:
        dal.set_watermark(int(account["id"]), now)
    return found


def test_an_account_is_stored_under_its_shard_and_each_shard_is_one_query(api: ApiClient) -> None:
    from fxcrm.dal import trade_sync
    from tests.support.aws_calls import AwsCalls

    account = _shard_account(5)
    assert account["gsi1pk"] == "SERVER#MT5-Live#5"
    with AwsCalls() as calls:
        found, more = trade_sync.list_shard_accounts("MT5-Live", 5, trade_sync.FIRST, 1000)
    assert calls.counts == {"dynamodb.Query": 1} and not more
    assert int(account["id"]) in {int(a["id"]) for a in found}
    assert all(int(a["id"]) % dal.SERVER_SHARDS == 5 for a in found)
    # every shard together is still every account of the server
    assert int(account["id"]) in {int(a["id"]) for a in dal.list_server_accounts("MT5-Live")}


def test_a_stopped_shard_resumes_at_its_cursor(api: ApiClient) -> None:
    """A worker stopped after two accounts (its time was up); the next one syncs
    the rest of the shard and none of the first two again."""
    from fxcrm.dal import trade_sync
    from fxcrm.trading.sync import sync_shard

    mine = [_shard_account(7) for _ in range(3)]
    now = int(datetime.now(tz=UTC).timestamp())
    shard = _fresh_shard("MT5-Live", 7, now - 3600)
    for account in mine:  # never synced: their month of trades is what shows who synced them
        trade_sync.Table().delete(f"TACCT#{account['id']}", "SYNC")
    order = [int(a["id"]) for a in shard]

    first = sync_shard(get_settings(), "MT5-Live", 7, now, max_accounts=2)
    assert not first.done and first.result.accounts == 2
    cursor = trade_sync.Table().get(*trade_sync.cursor_key("MT5-Live", 7))
    assert cursor is not None and cursor["after"] == f"TACCT#{order[1]}" and "holder" not in cursor
    synced_first = {a for a in order if dal.get_watermark(a) == now}
    assert synced_first == set(order[:2])

    second = sync_shard(get_settings(), "MT5-Live", 7, now + 60)
    assert second.done and second.result.accounts == len(order) - 2
    assert all(dal.get_watermark(a) == now for a in order[:2])  # not synced again
    assert all(dal.get_watermark(a) == now + 60 for a in order[2:])
    assert all(dal.list_account_deals(int(a["id"])) for a in mine)
    cursor = trade_sync.Table().get(*trade_sync.cursor_key("MT5-Live", 7))
    assert cursor is not None and "after" not in cursor and cursor["finished_at"] == now + 60


def test_a_shard_another_worker_holds_is_left_to_it_until_its_lease_ends(api: ApiClient) -> None:
    from fxcrm.dal import trade_sync
    from fxcrm.trading.sync import LEASE_SECONDS, sync_shard

    now = int(datetime.now(tz=UTC).timestamp())
    count = len(_fresh_shard("MT4-Live", 3, now))
    assert trade_sync.take_shard("MT4-Live", 3, "other-worker", now, LEASE_SECONDS) is not None
    held = sync_shard(get_settings(), "MT4-Live", 3, now + 10)
    assert held.done and held.result.accounts == 0
    later = sync_shard(get_settings(), "MT4-Live", 3, now + LEASE_SECONDS + 1)
    assert later.done and later.result.accounts == count


def test_demo_accounts_sync_hourly_and_live_ones_every_run(api: ApiClient) -> None:
    from fxcrm.trading.sync import DEMO_INTERVAL, sync_accounts

    demo = _shard_account(2, server="MT5-Demo", demo=True)
    live = _shard_account(2)
    now = int(datetime.now(tz=UTC).timestamp()) - DEMO_INTERVAL
    first = sync_accounts(get_settings(), "MT5-Demo", [demo], now, 30)
    assert first.accounts == 1  # a demo account never synced is synced at once
    soon = sync_accounts(get_settings(), "MT5-Demo", [demo], now + 900, 30)
    assert (soon.accounts, soon.demo_not_due) == (0, 1) and dal.get_watermark(int(demo["id"])) == now
    assert sync_accounts(get_settings(), "MT5-Live", [live], now, 30).accounts == 1
    assert sync_accounts(get_settings(), "MT5-Live", [live], now + 900, 30).accounts == 1
    hourly = sync_accounts(get_settings(), "MT5-Demo", [demo], now + DEMO_INTERVAL, 30)
    assert hourly.accounts == 1 and dal.get_watermark(int(demo["id"])) == now + DEMO_INTERVAL


def test_a_batch_reads_the_platform_once_per_kind_and_skips_unchanged_snapshots(
    api: ApiClient, monkeypatch: Any
) -> None:
    from fxcrm.adapters.trading.simulated import SimulatedPlatform
    from fxcrm.trading import sync
    from tests.support.aws_calls import AwsCalls

    accounts = [_shard_account(11) for _ in range(3)] + [_shard_account(11, funded=False)]
    moment = datetime.now(tz=UTC)
    platform = SimulatedPlatform("MT5-Live", clock=lambda: moment)  # one moment: snapshots hold still
    calls_to: list[str] = []
    for name in ("deals", "positions", "orders", "deals_batch", "positions_batch", "orders_batch"):
        method = getattr(platform, name)
        monkeypatch.setattr(platform, name, lambda *a, _m=method, _n=name: calls_to.append(_n) or _m(*a))
    monkeypatch.setattr(sync, "platform_for", lambda settings, name: platform)
    now = int(moment.timestamp())

    first = sync.sync_accounts(get_settings(), "MT5-Live", accounts, now, 30)
    assert sorted(calls_to) == ["deals_batch", "orders_batch", "positions_batch"]
    assert first.accounts == 4 and first.deals > 0
    for account in accounts:
        expected = platform.positions(int(account["login"]))
        snapshot = dal.get_snapshot(int(account["id"]), "POSITIONS")
        assert snapshot is not None and [p["ticket"] for p in snapshot["rows"]] == [p.ticket for p in expected]

    with AwsCalls() as calls:
        again = sync.sync_accounts(get_settings(), "MT5-Live", accounts, now + 60, 30)
    assert again.accounts == 4
    # the states and watermarks in batches, no per-account reads or writes; nothing
    # changed, so no snapshot is written again (they keep the first run's time)
    assert calls.counts["dynamodb.GetItem"] == 0 and calls.counts["dynamodb.PutItem"] == 0
    # watermarks; the simulated server's states (deals, positions, orders); stored trades
    assert calls.counts["dynamodb.BatchGetItem"] <= 5
    assert all(dal.get_snapshot(int(a["id"]), "ORDERS")["synced_at"] == now for a in accounts)  # type: ignore[index]
    assert all(dal.get_watermark(int(a["id"])) == now + 60 for a in accounts)


def test_a_batch_the_platform_refuses_is_synced_account_by_account(api: ApiClient, monkeypatch: Any) -> None:
    from fxcrm.adapters.trading.port import PlatformUnavailable
    from fxcrm.adapters.trading.simulated import SimulatedPlatform
    from fxcrm.trading import sync

    good, bad = _shard_account(12), _shard_account(12)
    platform = SimulatedPlatform("MT5-Live")
    refuse = PlatformUnavailable("the server dropped the batch")

    def deals_batch(*_: Any) -> Any:
        raise refuse

    original = platform.deals

    def deals(login: int, start: datetime, end: datetime) -> Any:
        if login == int(bad["login"]):
            raise refuse
        return original(login, start, end)

    monkeypatch.setattr(platform, "deals_batch", deals_batch)
    monkeypatch.setattr(platform, "deals", deals)
    monkeypatch.setattr(sync, "platform_for", lambda settings, name: platform)
    now = int(datetime.now(tz=UTC).timestamp())
    result = sync.sync_accounts(get_settings(), "MT5-Live", [good, bad], now, 30)
    assert (result.accounts, result.failed_accounts) == (1, 1)
    assert dal.get_watermark(int(good["id"])) == now and dal.get_watermark(int(bad["id"])) is None


def test_accounts_under_the_unsharded_key_are_moved_to_their_shard(api: ApiClient) -> None:
    from fxcrm.dal import trade_sync
    from fxcrm.trading.sync import plan

    account = _shard_account(9)
    trade_sync.Table().update(f"TACCT#{account['id']}", "ACCOUNT", "SET gsi1pk = :old", {":old": "SERVER#MT5-Live"})
    assert int(account["id"]) in {int(a["id"]) for a in dal.list_server_accounts("MT5-Live")}  # still found
    shards = plan(int(datetime.now(tz=UTC).timestamp()))
    assert len(shards) == 4 * dal.SERVER_SHARDS
    moved = dal.get_trading_account(int(account["id"]))
    assert moved is not None and moved["gsi1pk"] == "SERVER#MT5-Live#9"


def test_the_trade_sync_flow_runs_every_shard_to_the_end_of_its_pass(
    stack: Any, dispatcher: Any, monkeypatch: Any
) -> None:
    """The real ASL on moto's interpreter: a Map over every shard, each worker
    invoked again while its pass is not complete (here one batch of two accounts
    per invocation), and the shards' counts added up."""
    from fxcrm.adapters.trading.servers import SERVERS
    from fxcrm.dal import trade_sync
    from fxcrm.trading import sync
    from localcloud.cloud import run_state_machine

    now = int(datetime.now(tz=UTC).timestamp())
    bring_every_account_up_to(now - 7200)  # so demo accounts are due too
    new = _shard_account(4)
    trade_sync.Table().delete(f"TACCT#{new['id']}", "SYNC")
    everyone = [a for server in SERVERS.values() for a in dal.list_server_accounts(server)]
    monkeypatch.setattr(sync, "BATCH", 2)
    monkeypatch.setattr(sync, "STOP_SECONDS", 10**6)  # every invocation stops after its first batch

    output = run_state_machine(stack.resolver.ref("TradeSyncFlow"))
    assert output["failed_accounts"] == 0
    assert output["accounts"] + output["demo_not_due"] == len(everyone)
    assert dal.list_account_deals(int(new["id"]))
    cursors = trade_sync.get_cursors([(s, n) for s in SERVERS.values() for n in range(dal.SERVER_SHARDS)])
    assert len(cursors) == 4 * dal.SERVER_SHARDS
    assert all("after" not in c and int(c["finished_at"]) >= now for c in cursors.values())
