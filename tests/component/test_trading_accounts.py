"""Trading accounts through the real handler, on the simulated platform."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fxcrm.adapters.trading.port import NewAccount, PlatformInsufficientFunds, PlatformNotFound
from fxcrm.adapters.trading.simulated import SimulatedPlatform
from tests.support.api import ApiClient
from tests.support.demo import ADMIN, DEMO_ACCOUNT, IB
from tests.support.journeys import live_account, login, register, staff_token, unique_email

DEMO = DEMO_ACCOUNT | {"observe_password": "Look-Pass2"}


@pytest.fixture
def client_token(api: ApiClient) -> str:
    return str(register(api, unique_email("trader"))["token"])


def _open(api: ApiClient, token: str, **overrides: Any) -> Any:
    return api.post("/trading-accounts", {**DEMO, **overrides}, token=token)


def test_account_types_filter_by_platform_demo_and_page(api: ApiClient, client_token: str) -> None:
    mt5 = api.get("/trading-accounts/types?trading_platform=MT5", token=client_token).json()
    assert mt5["total"] == 4 and {t["id"] for t in mt5["list"]} == {201, 202, 203, 204}
    demo = api.get("/trading-accounts/types?trading_platform=MT5&is_demo=true", token=client_token).json()
    assert [t["id"] for t in demo["list"]] == [201]
    assert demo["list"][0]["leverage_options"][1] == {"id": 2, "value": 100}
    live_mt4 = api.get(
        "/trading-accounts/types?trading_platform=MT4&is_demo=false&page=2&size=2", token=client_token
    ).json()
    assert live_mt4["total"] == 3 and [t["id"] for t in live_mt4["list"]] == [104]
    bad = api.get("/trading-accounts/types?trading_platform=MT6", token=client_token)
    assert bad.status == 422 and bad.json()["field"] == "trading_platform"


def test_demo_account_opens_with_demo_funds_and_is_listed(api: ApiClient, client_token: str) -> None:
    opened = _open(api, client_token)
    assert opened.status == 201, opened.body
    account_id = opened.json()["id"]
    listed = api.get("/trading-accounts", token=client_token).json()
    assert listed["total"] == 1
    row = listed["list"][0]
    assert row["id"] == account_id and row["balance"] == "10000.00" and row["is_demo"] is True
    assert row["trading_platform"] == "MT5" and row["server_name"] == "fxcrm-MT5-Demo"
    assert row["trading_account_type_name"] == "Standard" and row["leverage"] == 100
    assert "password" not in row and "observe_password" not in row  # never returned
    detail = api.get(f"/trading-accounts/{account_id}", token=client_token).json()
    assert detail == row
    assert api.get("/trading-accounts?is_demo=false", token=client_token).json() == {"list": [], "total": 0}


def test_another_users_account_is_not_found(api: ApiClient, client_token: str) -> None:
    account_id = _open(api, client_token).json()["id"]
    other = register(api, unique_email("other"))["token"]
    foreign = api.get(f"/trading-accounts/{account_id}", token=other)
    missing = api.get("/trading-accounts/12345", token=other)
    assert foreign.status == missing.status == 404
    assert foreign.json() == missing.json()
    change = api.post(
        "/trading-accounts/password", {"id": account_id, "password": "Stolen-Pass1", "type": "trade"}, token=other
    )
    assert change.status == 404
    assert api.get("/trading-accounts", token=other).json()["total"] == 0


def test_live_account_without_approved_kyc_is_refused(api: ApiClient, client_token: str) -> None:
    live = _open(api, client_token, is_demo=False, trading_account_type_id=202)
    assert live.status == 403 and live.json()["code"] == "kyc_not_approved"
    application = api.post(
        "/trading-accounts/applications",
        {k: v for k, v in DEMO.items() if k != "is_demo"} | {"trading_account_type_id": 202},
        token=client_token,
    )
    assert application.status == 403 and application.json()["code"] == "kyc_not_approved"
    assert api.get("/trading-accounts", token=client_token).json()["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "alllower1!"),
        ("password", "Short1!"),
        ("password", "Way-Too-Long-Pass1"),
        ("observe_password", "NoSpecial12"),
        ("leverage", 333),
        ("trading_account_type_id", 999),
        ("currency", "EUR"),
    ],
)
def test_bad_application_names_the_field(api: ApiClient, client_token: str, field: str, value: Any) -> None:
    reply = _open(api, client_token, **{field: value})
    assert reply.status == 422 and reply.json()["field"] == field


def test_change_trading_password_reaches_the_platform(api: ApiClient, client_token: str) -> None:
    from argon2 import PasswordHasher

    from fxcrm.dal.trading import get_sim_account, get_trading_account

    account_id = _open(api, client_token).json()["id"]
    reply = api.post(
        "/trading-accounts/password",
        {"id": account_id, "password": "Fresh-Look9", "type": "observe"},
        token=client_token,
    )
    assert reply.status == 200 and reply.json() == {}
    account = get_trading_account(account_id)
    assert account is not None
    state = get_sim_account(account["server"], int(account["login"]))
    assert state is not None and PasswordHasher().verify(state["investor_password_hash"], "Fresh-Look9")
    weak = api.post(
        "/trading-accounts/password", {"id": account_id, "password": "weak", "type": "trade"}, token=client_token
    )
    assert weak.status == 422 and weak.json()["field"] == "password"


def test_balances_leave_demo_accounts_out(api: ApiClient, client_token: str) -> None:
    """The balance lists are what a deposit, withdrawal or transfer may use:
    demo accounts hold demo funds only, so neither side offers them."""
    _open(api, client_token)
    for types in ("type=deposit_only&type=normal", "type=withdrawal_only&type=normal"):
        assert api.get(f"/trading-accounts/balances?{types}", token=client_token).json() == {"list": [], "total": 0}
    assert api.get("/trading-accounts/balances", token=client_token).status == 422


def test_platform_downloads_per_portal(api: ApiClient, client_token: str) -> None:
    client = api.get("/platforms/downloads", token=client_token).json()
    assert client["total"] == 2 and client["list"][0]["name"] == "MetaTrader 4"
    assert api.get("/platforms/downloads/ib", token=client_token).status == 403
    ib = login(api, *IB).json()["token"]
    assert api.get("/platforms/downloads/ib", token=ib).json()["list"][1]["name"] == "MT5 Manager"
    assert api.get("/platforms/downloads").status == 401


# ---------------------------------------------------------------- the simulated platform itself

NEW = NewAccount("demo\\standard", "T", "t@example.com", 100, "Trade-Pass1", "Look-Pass2")


def test_simulated_logins_are_sequential_and_never_collide(stack: object) -> None:
    platform = SimulatedPlatform("MT4-Live")
    with ThreadPoolExecutor(8) as pool:
        logins = list(pool.map(lambda _: platform.create_account(NEW), range(24)))
    assert len(set(logins)) == 24
    assert max(logins) - min(logins) == 23


def test_simulated_balance_operations_are_idempotent_and_never_overdraw(stack: object) -> None:
    platform = SimulatedPlatform("MT5-Live")
    login_no = platform.create_account(NEW)
    first = platform.balance(login_no, Decimal("100.00"), "op-1")
    assert platform.balance(login_no, Decimal("100.00"), "op-1") == first
    with pytest.raises(PlatformInsufficientFunds):
        platform.balance(login_no, Decimal("-100.01"), "op-2")
    platform.balance(login_no, Decimal("-40.00"), "op-3")
    assert platform.account_state(login_no).balance == Decimal("60.00")
    with pytest.raises(PlatformNotFound):
        platform.balance(999, Decimal("1"), "op-4")


def test_simulated_history_is_deterministic_and_complete(stack: object) -> None:
    platform = SimulatedPlatform("MT5-Demo")
    login_no = platform.create_account(NEW)
    platform.balance(login_no, Decimal("5000.00"), "fund")
    end = datetime.now(tz=UTC) + timedelta(days=1)  # asks beyond now: the server has nothing there yet
    start = (end - timedelta(days=31)).replace(hour=0, minute=0, second=0, microsecond=0)
    first, again = platform.deals(login_no, start, end), platform.deals(login_no, start, end)
    assert first == again and len(first) > 10
    trades = [d for d in first if d.action in (0, 1)]
    assert {d.entry for d in trades} == {0, 1}
    by_position: dict[int, list[Any]] = {}
    for deal in trades:
        by_position.setdefault(deal.position_id, []).append(deal)
    still_open = {p.ticket for p in platform.positions(login_no)}
    for position, legs in by_position.items():
        if len(legs) == 2:  # opened and closed: in, then out
            assert [leg.entry for leg in legs] == [0, 1] and legs[0].time < legs[1].time
        elif legs[0].entry == 0:  # opened and not closed yet: an open position
            assert position in still_open
        else:  # closed in the window, opened before it
            assert legs[0].time < start + timedelta(days=4)
    assert all(d.volume_lots > 0 and d.price > 0 for d in trades)
    assert {o.type for o in platform.orders(login_no)} <= {2, 3, 4, 5}
    other_login = platform.create_account(NEW)
    platform.balance(other_login, Decimal("5000.00"), "fund")
    other = SimulatedPlatform("MT5-Demo").deals(other_login, start, end)
    assert [d.ticket for d in other] != [d.ticket for d in first]


# ---------------------------------------------------------------- numbers as a real server shows them


def _clock(at: datetime) -> Any:
    return lambda: at


def _funded(platform: SimulatedPlatform, amount: str = "10000.00", credit: str | None = None) -> int:
    login_no = platform.create_account(NEW)
    platform.balance(login_no, Decimal(amount), "fund")
    if credit is not None:
        from fxcrm.dal import trading as dal

        dal.Table().update(f"SIMACCT#{platform.server}#{login_no}", "STATE", "SET credit = :c", {":c": Decimal(credit)})
    return login_no


def test_profit_is_in_usd_converted_at_the_close_price() -> None:
    """0.02 lots of USDJPY from 149.743 to 151.535 made 3584 JPY: 23.65 USD, not "3584.00 USD"."""
    from fxcrm.adapters.trading.simulated import _Trade

    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    trade = _Trade(1, "USDJPY", 0, Decimal("0.02"), at, at + timedelta(hours=1), Decimal("149.743"),
                   Decimal("151.535"), Decimal(0))  # fmt: skip
    assert trade.profit_at(Decimal("151.535")) == Decimal("23.65")


def test_every_deal_is_in_the_account_currency(stack: object) -> None:
    platform = SimulatedPlatform("MT5-Demo")
    login_no = _funded(platform)
    now = datetime.now(tz=UTC)
    deals = platform.deals(login_no, now - timedelta(days=90), now)
    opened = {d.position_id: d for d in deals if d.action in (0, 1) and d.entry == 0}
    closes = [d for d in deals if d.action in (0, 1) and d.entry == 1 and d.position_id in opened]
    contract = {"EURUSD": 100000, "GBPUSD": 100000, "USDJPY": 100000, "EURGBP": 100000, "XAUUSD": 100, "US30": 1}
    seen = set()
    for close in closes:
        start = opened[close.position_id]
        sign = 1 if start.action == 0 else -1
        in_quote = (close.price - start.price) * sign * close.volume_lots * contract[close.symbol]
        if close.symbol == "USDJPY":  # USD/X: divided by the close price
            expected = in_quote / close.price
        elif close.symbol == "EURGBP":  # a cross: through GBP's USD rate
            expected = in_quote * Decimal("1.2700")
        else:  # X/USD: in USD already
            expected = in_quote
        assert close.profit == expected.quantize(Decimal("0.01")), close
        seen.add(close.symbol)
    assert {"USDJPY", "EURGBP", "EURUSD"} <= seen


def test_nothing_is_dated_in_the_future(stack: object) -> None:
    """Just after midnight, when every trade of the day is still to come."""
    platform = SimulatedPlatform("MT4-Live")
    logins = [_funded(platform) for _ in range(4)]
    today = datetime.now(tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for now in (today + timedelta(minutes=30), today + timedelta(hours=13)):
        at = SimulatedPlatform("MT4-Live", clock=_clock(now))
        for login_no in logins:
            positions = at.positions(login_no)
            assert all(p.open_time <= now for p in positions)
            assert all(o.setup_time <= now for o in at.orders(login_no))
            deals = at.deals(login_no, now - timedelta(days=5), now + timedelta(days=5))
            assert deals and all(d.time <= now for d in deals)
            # an open position has opened (its in deal is there) and not closed (no out deal yet)
            entries = {(d.position_id, d.entry) for d in deals}
            assert all((p.ticket, 0) in entries and (p.ticket, 1) not in entries for p in positions)


def test_equity_is_balance_plus_credit_plus_floating_profit(stack: object) -> None:
    platform = SimulatedPlatform("MT5-Live")
    login_no = _funded(platform, "2500.00", credit="100.00")
    start = datetime.now(tz=UTC) - timedelta(days=3)
    # the first hour of the last three days with open positions on this account
    moments = [start + timedelta(hours=h) for h in range(72)]
    busy = [m for m in moments if SimulatedPlatform("MT5-Live", clock=_clock(m)).positions(login_no)]
    assert busy, "no open position in three days"
    at = SimulatedPlatform("MT5-Live", clock=_clock(busy[0]))
    positions, state = at.positions(login_no), at.account_state(login_no)
    floating = sum((p.profit + p.swap for p in positions), Decimal(0))
    assert (state.balance, state.credit) == (Decimal("2500.00"), Decimal("100.00"))
    assert state.equity == Decimal("2600.00") + floating
    contract = {"EURUSD": 100000, "GBPUSD": 100000, "USDJPY": 100000, "EURGBP": 100000, "XAUUSD": 100, "US30": 1}
    usd = {"EURUSD": "price", "GBPUSD": "price", "XAUUSD": "price", "US30": "price", "USDJPY": "1", "EURGBP": "x1.27"}
    margin = Decimal(0)
    for p in positions:  # the notional in USD over the leverage (100)
        notional = p.volume_lots * contract[p.symbol]
        factor = {"price": p.open_price, "1": Decimal(1), "x1.27": p.open_price * Decimal("1.2700")}[usd[p.symbol]]
        margin += notional * factor / 100
        assert p.current_price > 0 and abs(p.profit) < p.volume_lots * contract[p.symbol] * p.open_price
    assert state.margin == margin.quantize(Decimal("0.01"))
    assert state.margin_free == state.equity - state.margin


def test_an_unfunded_account_has_no_trades_and_equity_zero(api: ApiClient) -> None:
    """A live account nobody paid into showed equity 1091.00 from positions it could not hold."""

    email = unique_email("unfunded")
    user = register(api, email)
    for _ in range(3):
        account_id = live_account(int(user["user_info"]["id"]), email)
        shown = api.get(f"/trading-accounts/{account_id}", token=user["token"]).json()
        assert (shown["balance"], shown["credit"], shown["equity"]) == ("0.00", "0.00", "0.00"), shown
    platform = SimulatedPlatform("MT5-Live")
    login_no = int(shown["account"])
    now = datetime.now(tz=UTC)
    assert platform.positions(login_no) == [] and platform.orders(login_no) == []
    assert platform.deals(login_no, now - timedelta(days=30), now) == []


def test_staff_do_not_hold_trading_accounts(api: ApiClient) -> None:
    admin = staff_token(api, *ADMIN)
    assert _open(api, admin).status == 403
    assert api.get("/trading-accounts", token=admin).status == 403


def test_account_endpoints_aws_call_budget(api: ApiClient, client_token: str) -> None:
    from tests.support.aws_calls import AwsCalls

    account_id = _open(api, client_token).json()["id"]
    api.get("/trading-accounts", token=client_token)  # warm caches
    with AwsCalls() as calls:
        assert api.get("/trading-accounts", token=client_token).status == 200
    # the caller, their account index, the accounts, each account's state on the simulated server
    assert calls.counts == {"dynamodb.GetItem": 2, "dynamodb.Query": 1, "dynamodb.BatchGetItem": 1}
    with AwsCalls() as calls:
        assert api.get(f"/trading-accounts/{account_id}", token=client_token).status == 200
    assert calls.counts == {"dynamodb.GetItem": 3}  # the caller, the account, its state
