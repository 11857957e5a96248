"""Rebate settlement on the session's tables: a three-level IB tree with known
trades settles to amounts worked out by hand; a second run, or two at once,
pays nothing more; a sub-IB moved under another IB changes only the trades
closed after the move's effective time; hedged pairs, trades held under the
minimum and unknown symbols earn nothing (the last are reported); a rule
change is previewed and then applied as an adjustment; a held record is paid
when staff grant it."""

import secrets
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.support.api import ApiClient
from tests.support.demo import ADMIN, SUPPORT
from tests.support.journeys import create_ib, staff_token, unique_email

NOW = int(time.time())
HOUR = 3600


def make_ib(parent: int | None = None) -> int:
    return int(create_ib("ib", "Ib-pass-2026", NOW - 30 * 86400, parent)["id"])


def make_client(ib: int) -> int:
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import users

    user = new_user(
        unique_email("rc"),
        "Client-pass-2026",
        "client",
        "client",
        NOW - 30 * 86400,
        ib_id=ib,
        first_name="Cli",
        last_name="Ent",
    )
    users.create_user(user)
    return int(user["id"])


class Trades:
    """History orders as TradeSync stores them, for one client's live account."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.account_id = secrets.randbelow(2**40) + 1
        self.login = secrets.randbelow(10**6) + 10_000_000

    def close(
        self,
        symbol: str,
        lots: str,
        opened: int,
        closed: int,
        side: int = 0,
        commission: str = "-7.00",
        profit: str = "10.00",
        recorded: int | None = None,
    ) -> dict[str, Any]:
        """Store a closed trade as TradeSync does, at `recorded` (by default as it closed)."""
        from fxcrm.dal import trading

        ticket = secrets.randbelow(2**47)
        row = {
            "ticket": ticket,
            "position_id": ticket - 1,
            "account_id": self.account_id,
            "user_id": self.user_id,
            "server": "MT5-Live",
            "login": self.login,
            "symbol": symbol,
            "side": side,
            "volume_lots": Decimal(lots),
            "open_time": opened,
            "open_price": Decimal("1.1"),
            "close_time": closed,
            "close_price": Decimal("1.2"),
            "profit": Decimal(profit),
            "commission": Decimal(commission),
            "swap": Decimal(0),
        }
        trading.put_history_orders([row], closed if recorded is None else recorded)
        return row


def balance(ib_id: int) -> Decimal:
    from fxcrm.dal import ledger

    found = ledger.get_balance(f"IB:{ib_id}")
    return found.posted if found else Decimal(0)


@pytest.fixture(scope="module")
def clean_slate(stack: object) -> int:
    """Where each test's trades start. Tests settle explicit windows of their
    own (the settlement run's core), so the session's watermark does not matter."""
    return NOW - 3 * 86400


def settle_until(until: int, since: int | None = None) -> dict[str, Any]:
    """Settle the trades recorded in (since, until] (by default the 12 hours before)."""
    from fxcrm.core.settings import get_settings
    from fxcrm.rebates import settlement

    start = since if since is not None else until - 12 * HOUR
    outcome = settlement.settle_window(get_settings(), (start, until), f"test-{start}-{until}", NOW)
    return outcome.summary()


def test_three_levels_settle_to_the_hand_worked_amounts(clean_slate: int) -> None:
    from fxcrm.dal import rebates

    top = make_ib()
    middle = make_ib(top)
    own = make_ib(middle)
    client = Trades(make_client(own))
    t = clean_slate + HOUR
    client.close("EURUSD.m", "0.50", t, t + 2 * HOUR)  # forex: 5.00, 2.00, 1.00 per lot
    client.close("XAUUSD", "0.20", t, t + HOUR)  # metals: 8.00, 3.00 per lot; no level 3 rule
    client.close("US30", "1.00", t, t + HOUR, commission="-14.00")  # indices: 30 % of commission, level 1 only
    client.close("EURUSD", "1.00", t, t + 30)  # held 30 s < 60 s: nothing
    client.close("FOOBAR", "1.00", t, t + HOUR)  # in no group: reported
    client.close("GBPUSD", "1.00", t, t + 2 * HOUR, side=0)  # a hedged pair: nothing for either
    client.close("GBPUSD", "1.00", t + HOUR, t + 3 * HOUR, side=1)

    summary = settle_until(clean_slate + 6 * HOUR)

    # level 1: 0.50 * 5.00 + 0.20 * 8.00 + 30 % * 14.00 = 2.50 + 1.60 + 4.20
    assert balance(own) == Decimal("8.30")
    # level 2: 0.50 * 2.00 + 0.20 * 3.00 = 1.00 + 0.60
    assert balance(middle) == Decimal("1.60")
    # level 3: 0.50 * 1.00
    assert balance(top) == Decimal("0.50")
    assert summary["unknown_symbols"] == {"FOOBAR": 1}
    assert summary["skipped"]["short_hold"] == 1 and summary["skipped"]["hedged"] == 2
    details = rebates.list_ib_details(own, 0, 2**31 - 1)
    by_symbol = {d["symbol"]: d for d in details}
    assert by_symbol["EURUSD.m"]["rule_id"] == "forex-1" and by_symbol["EURUSD.m"]["level"] == 1
    assert Decimal(str(by_symbol["EURUSD.m"]["rate"])) == Decimal("5.00")
    assert Decimal(str(by_symbol["EURUSD.m"]["basis"])) == Decimal("0.50")
    assert Decimal(str(by_symbol["US30"]["basis"])) == Decimal("14.00")


def test_running_again_or_twice_at_once_pays_nothing_more(clean_slate: int) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.rebates import settlement

    own = make_ib()
    client = Trades(make_client(own))
    t = clean_slate + 7 * HOUR
    client.close("EURUSD", "2.00", t, t + HOUR)  # 10.00
    window = (clean_slate + 6 * HOUR, clean_slate + 10 * HOUR)
    results: list[Any] = []
    runners = [
        threading.Thread(
            target=lambda n=n: results.append(settlement.settle_window(get_settings(), window, f"run-{n}", NOW))
        )
        for n in range(3)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert balance(own) == Decimal("10.00")
    assert sum(r.details for r in results) == 1  # one run wrote the detail; the others found it taken
    settle_until(clean_slate + 10 * HOUR)  # the same trades again, as another run
    assert balance(own) == Decimal("10.00")


def test_the_scheduled_run_moves_its_watermark_once(stack: object) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settings = get_settings()
    settlement.settle(settings, NOW)  # catch up with whatever the session holds
    mark = rebates.get_watermark()
    assert mark is not None and mark <= NOW - settlement.LAG_SECONDS
    own = make_ib()
    Trades(make_client(own)).close("EURUSD", "0.40", mark - HOUR, mark + 60)  # 2.00
    first = settlement.settle(settings, NOW, until=mark + 120)
    assert (first["status"], first["details"]) == ("settled", 1)
    assert settlement.settle(settings, NOW, until=mark + 120)["status"] == "nothing to settle"
    assert balance(own) == Decimal("2.00")
    assert rebates.take_lock("someone", NOW, 60)  # a run in progress elsewhere
    try:
        assert settlement.settle(settings, NOW, until=mark + 180)["status"] == "busy"
    finally:
        rebates.release_lock("someone")


def test_a_moved_sub_ib_changes_only_later_trades(api: ApiClient, clean_slate: int) -> None:
    admin = staff_token(api, *ADMIN)
    first_master, second_master = make_ib(), make_ib()
    sub = make_ib(first_master)
    client = Trades(make_client(sub))
    t = clean_slate + 11 * HOUR
    client.close("EURUSD", "1.00", t, t + HOUR)  # before the move: level 2 is the first master
    moved_at = t + 2 * HOUR
    client.close("EURUSD", "1.00", moved_at + 60, moved_at + HOUR)  # after: the second master
    from fxcrm.core import times

    effective = times.show(moved_at, "UTC")
    reply = api.put(
        f"/admin/users/{sub}/ib",
        {"ib_id": second_master, "reason": "changed master", "effective_at": effective},
        token=admin,
    )
    assert reply.status == 200, reply.body
    settle_until(clean_slate + 16 * HOUR)
    assert (balance(sub), balance(first_master), balance(second_master)) == (
        Decimal("10.00"),
        Decimal("2.00"),
        Decimal("2.00"),
    )


def test_a_rule_change_is_previewed_then_applied_once(api: ApiClient, clean_slate: int) -> None:
    admin = staff_token(api, *ADMIN)
    own = make_ib()
    client = Trades(make_client(own))
    t = clean_slate + 17 * HOUR
    client.close("EURUSD", "0.50", t, t + HOUR)
    settle_until(clean_slate + 20 * HOUR)
    assert balance(own) == Decimal("2.50")
    original = api.get("/admin/rebates/rules", token=admin).json()
    changed = original | {
        "rules": [r | ({"amount": "6.00"} if r["id"] == "forex-1" else {}) for r in original["rules"]]
    }
    try:
        assert api.put("/admin/rebates/rules", changed, token=admin).status == 200
        from fxcrm.core import times

        window = {
            "start_time": times.show(clean_slate + 17 * HOUR, "UTC"),
            "end_time": times.show(clean_slate + 20 * HOUR, "UTC"),
        }
        preview = api.post("/admin/rebates/recompute", window | {"apply": False}, token=admin).json()
        assert {"ib_id": own, "delta": "0.50"} in preview["ibs"] and not preview["applied"]
        assert balance(own) == Decimal("2.50")  # a preview changes nothing
        applied = api.post("/admin/rebates/recompute", window | {"apply": True}, token=admin).json()
        assert applied["applied"] and balance(own) == Decimal("3.00")
        again = api.post("/admin/rebates/recompute", window | {"apply": True}, token=admin).json()
        assert again["changed_details"] == 0 and balance(own) == Decimal("3.00")
    finally:
        assert api.put("/admin/rebates/rules", original, token=admin).status == 200


def test_a_held_record_is_paid_when_staff_grant_it(api: ApiClient, clean_slate: int) -> None:
    admin = staff_token(api, *ADMIN)
    own = make_ib()
    client = Trades(make_client(own))
    t = clean_slate + 21 * HOUR
    client.close("XAUUSD", "1.00", t, t + HOUR)  # 8.00
    original = api.get("/admin/rebates/rules", token=admin).json()
    try:
        assert (
            api.put("/admin/rebates/rules", original | {"payout_by_ib": {str(own): "approval"}}, token=admin).status
            == 200
        )
        settle_until(clean_slate + 24 * HOUR)
    finally:
        api.put("/admin/rebates/rules", original, token=admin)
    assert balance(own) == Decimal(0)
    held = api.get(f"/admin/rebates?ib_id={own}&status=held", token=admin).json()["list"]
    assert len(held) == 1 and held[0]["total_amount"] == "8.00"
    assert api.post(f"/admin/rebates/{held[0]['id']}/grant", token=admin).status == 200
    assert balance(own) == Decimal("8.00")
    assert api.post(f"/admin/rebates/{held[0]['id']}/grant", token=admin).status == 409
    support = staff_token(api, *SUPPORT)
    assert api.post(f"/admin/rebates/{held[0]['id']}/grant", token=support).status == 403


def test_a_trade_synced_after_its_hour_was_settled_is_paid_once(api: ApiClient) -> None:
    """TradeSync was down: trades that closed hours before the watermark arrive
    after it. The next run pays them (and says how many were late), a third run
    pays nothing more, and the same trades synced again are not new arrivals."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settings = get_settings()
    settlement.settle(settings, NOW)  # catch up with whatever the session holds
    mark = rebates.get_watermark()
    assert mark is not None
    own = make_ib()
    client = Trades(make_client(own))
    late = [
        client.close("EURUSD", "0.40", mark - 6 * HOUR, mark - 5 * HOUR, recorded=mark + 60),  # 2.00
        client.close("XAUUSD", "0.50", mark - 30 * HOUR, mark - 29 * HOUR, recorded=mark + 90),  # 4.00
    ]
    second = settlement.settle(settings, NOW, until=mark + 120)
    assert (second["status"], second["trades"], second["details"], second["late_trades"]) == ("settled", 2, 2, 2)
    assert balance(own) == Decimal("6.00")

    from fxcrm.dal import trading

    trading.put_history_orders(late, mark + 150)  # TradeSync's overlap reads them again
    third = settlement.settle(settings, NOW, until=mark + 180)
    assert (third["status"], third["trades"], third["details"]) == ("settled", 0, 0)
    assert balance(own) == Decimal("6.00")
    assert settlement.settle(settings, NOW, until=mark + 180)["status"] == "nothing to settle"
    assert len(rebates.list_ib_details(own, 0, 2**31 - 1)) == 2
    admin = staff_token(api, *ADMIN)
    records = api.get(f"/admin/rebates?ib_id={own}", token=admin).json()["list"]
    assert [r["total_amount"] for r in records] == ["6.00"]  # one record, paid once


def test_a_late_trade_hedging_one_settled_earlier_earns_nothing(stack: object) -> None:
    """A late trade's hedge partner was recorded (and settled) by an earlier run:
    the account's history finds it, as it would have found a partner in the window."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settings = get_settings()
    settlement.settle(settings, NOW)
    mark = rebates.get_watermark()
    assert mark is not None
    own = make_ib()
    client = Trades(make_client(own))
    client.close("GBPUSD", "1.00", mark - 12 * HOUR, mark - 10 * HOUR, side=0, recorded=mark + 60)  # 5.00
    assert settlement.settle(settings, NOW, until=mark + 120)["details"] == 1
    client.close("GBPUSD", "1.00", mark - 11 * HOUR, mark - 9 * HOUR, side=1, recorded=mark + 150)
    summary = settlement.settle(settings, NOW, until=mark + 180)
    assert (summary["trades"], summary["late_trades"], summary["skipped"]["hedged"]) == (1, 1, 1)
    assert balance(own) == Decimal("5.00")


# ---------------------------------------------------------------- bounded runs


def _caught_up() -> int:
    """The watermark once the session's trades are settled."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settlement.settle(get_settings(), NOW)
    mark = rebates.get_watermark()
    assert mark is not None
    return mark


def test_a_backlog_settles_an_hour_at_a_time_moving_the_watermark_after_each(stack: object) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settings = get_settings()
    mark = _caught_up()
    own = make_ib()
    client = Trades(make_client(own))
    for n in range(3):  # 2.00 each, recorded in three different hours
        client.close("EURUSD", "0.40", mark - 2 * HOUR, mark - HOUR, recorded=mark + n * HOUR + 60)

    hour_end = (mark + 60) // HOUR * HOUR + HOUR  # a chunk ends with the hour of its first trade
    until = hour_end + 2 * HOUR  # the end of the third trade's hour
    first = settlement.settle(settings, NOW, until=until, max_chunks=1)
    assert (first["status"], first["chunks"], first["details"]) == ("partly settled", 1, 1)
    assert first["settled_until"] == hour_end == rebates.get_watermark()
    assert balance(own) == Decimal("2.00")

    rest = settlement.settle(settings, NOW, until=until)
    assert (rest["status"], rest["chunks"], rest["details"]) == ("settled", 2, 2)
    assert rebates.get_watermark() == until
    assert balance(own) == Decimal("6.00")
    records = rebates.list_ib_aggregations(own, 0, 2**31 - 1)
    assert sorted(Decimal(str(r["total_amount"])) for r in records) == [Decimal("2.00")] * 3
    assert len({r["run_id"] for r in records}) == 3  # one record per chunk


def test_a_run_that_failed_mid_chunk_is_completed_by_the_next_once(stack: object, monkeypatch: Any) -> None:
    """The run died after writing its details, before paying: the watermark did not
    move, and the next run finds the same chunk (same ids) and pays it, once."""
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settings = get_settings()
    mark = _caught_up()
    own = make_ib()
    Trades(make_client(own)).close("XAUUSD", "0.50", mark - 2 * HOUR, mark - HOUR, recorded=mark + 60)  # 4.00

    def dies(*_: Any, **__: Any) -> None:
        raise RuntimeError("the function timed out")

    with monkeypatch.context() as patched:
        patched.setattr(settlement, "pay_owed", dies)
        with pytest.raises(RuntimeError):
            settlement.settle(settings, NOW, until=mark + HOUR)
    assert rebates.get_watermark() == mark and balance(own) == 0
    assert len(rebates.list_ib_details(own, 0, 2**31 - 1)) == 1  # written before it died

    again = settlement.settle(settings, NOW, until=mark + HOUR)
    assert (again["status"], again["details"]) == ("settled", 1)
    assert balance(own) == Decimal("4.00")
    assert settlement.settle(settings, NOW, until=mark + HOUR)["status"] == "nothing to settle"
    assert balance(own) == Decimal("4.00")


def test_a_chunk_is_read_a_page_at_a_time_and_finds_hedges_across_pages(stack: object, monkeypatch: Any) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.rebates import settlement

    settings = get_settings()
    mark = _caught_up()
    monkeypatch.setattr(settlement, "PAGE_TRADES", 2)
    own = make_ib()
    client = Trades(make_client(own))
    t = mark - 5 * HOUR
    client.close("GBPUSD", "1.00", t, t + 2 * HOUR, side=0, recorded=mark + 60)  # a hedged pair in pages 1 and 2
    client.close("EURUSD", "0.40", t, t + HOUR, recorded=mark + 100)  # 2.00
    client.close("EURUSD", "0.60", t, t + HOUR, recorded=mark + 200)  # 3.00
    client.close("GBPUSD", "1.00", t + HOUR, t + 3 * HOUR, side=1, recorded=mark + 300)
    client.close("EURUSD", "0.20", t, t + HOUR, recorded=mark + 400)  # 1.00, page 3

    summary = settlement.settle(settings, NOW, until=mark + 600)
    assert (summary["trades"], summary["details"], summary["skipped"]["hedged"]) == (5, 3, 2)
    assert balance(own) == Decimal("6.00")


def test_a_chunked_run_and_an_overlapping_run_at_once_pay_each_trade_once(stack: object) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.rebates import settlement

    settings = get_settings()
    mark = _caught_up()
    own = make_ib()
    client = Trades(make_client(own))
    for n in range(4):  # 2.00 each, over two hours
        client.close("EURUSD", "0.40", mark - 2 * HOUR, mark - HOUR, recorded=mark + n * 1800 + 60)
    runs = [
        threading.Thread(target=lambda: settlement.settle(settings, NOW, until=mark + 2 * HOUR)),
        threading.Thread(
            target=lambda: settlement.settle_window(settings, (mark, mark + 2 * HOUR), "overlapping", NOW)
        ),
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert balance(own) == Decimal("8.00")
    settlement.settle(settings, NOW, until=mark + 2 * HOUR)
    assert balance(own) == Decimal("8.00")


def test_a_backlog_runs_as_a_map_over_partitions_and_pays_each_trade_once(
    stack: Any, dispatcher: Any, monkeypatch: Any
) -> None:
    """SettlementBacklogFlow's real ASL on moto's interpreter: the window split into
    partitions settled side by side, each invoked again while it has chunks left
    (one chunk per invocation here), then the watermark moved to the end."""
    from fxcrm.core import clock
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement
    from localcloud.cloud import run_state_machine

    mark = _caught_up()
    monkeypatch.setattr(settlement, "PARTITION_SECONDS", 2 * HOUR)
    monkeypatch.setattr(clock, "now", lambda: mark + 12 * HOUR)  # hours past the watermark are old enough
    own = make_ib()
    client = Trades(make_client(own))
    for offset in (60, HOUR + 60, 2 * HOUR + 60, 4 * HOUR + 60):  # 2.00 each, over three partitions
        client.close("EURUSD", "0.40", mark - 2 * HOUR, mark - HOUR, recorded=mark + offset)
    until = mark + 6 * HOUR
    # what the window holds: these four, and any other test's trades recorded in it
    recorded = _recorded_between(mark + 1, until)
    assert recorded >= 4

    output = run_state_machine(stack.resolver.ref("SettlementBacklogFlow"), {"until": until, "max_chunks": 1})
    assert (output["status"], output["partitions"], output["trades"]) == ("settled", 3, recorded)
    assert output["details"] >= 4  # one per trade and level: ours are one level deep
    assert output["chunks"] >= 4  # partition one took two invocations (a chunk each)
    assert rebates.get_watermark() == until
    assert balance(own) == Decimal("8.00")
    again = run_state_machine(stack.resolver.ref("SettlementBacklogFlow"), {"until": until})
    assert again["status"] == "nothing to settle" and balance(own) == Decimal("8.00")


def _recorded_between(first: int, last: int) -> int:
    """How many trades were first recorded in [first, last] (the settlement's window)."""
    from datetime import UTC, datetime

    from fxcrm.dal import trading

    months = sorted({datetime.fromtimestamp(t, UTC).strftime("%Y-%m") for t in (first, last)})
    return sum(len(page) for month in months for page in trading.arrival_pages(month, first, last, 1000))


def test_hourly_runs_wait_while_a_backlog_is_under_way(stack: object, monkeypatch: Any) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import rebates
    from fxcrm.rebates import settlement

    settings = get_settings()
    mark = _caught_up()
    later = mark + 12 * HOUR  # hours past the watermark are old enough
    own = make_ib()
    Trades(make_client(own)).close("EURUSD", "0.40", mark - 2 * HOUR, mark - HOUR, recorded=mark + 60)  # 2.00
    plan = settlement.plan_backlog(settings, later, mark + 2 * HOUR)
    assert plan["since"] == mark and [p["end"] for p in plan["partitions"]] == [mark + 2 * HOUR]
    assert settlement.settle(settings, later)["status"] == "busy"
    with pytest.raises(settlement.BacklogRefused):  # one backlog at a time
        settlement.plan_backlog(settings, later, mark + 3 * HOUR)
    done = settlement.settle_partition(settings, mark, mark + 2 * HOUR, later)
    assert done["done"] and balance(own) == Decimal("2.00")
    finished = settlement.finish_backlog(mark, mark + 2 * HOUR, later, [done])
    assert finished["status"] == "settled" and rebates.get_watermark() == mark + 2 * HOUR
    assert settlement.settle(settings, later, until=mark + 3 * HOUR)["status"] == "settled"
    assert balance(own) == Decimal("2.00")
