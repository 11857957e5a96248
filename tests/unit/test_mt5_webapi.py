"""The MT5 Web API client against a fake server that speaks the same protocol."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fxcrm.adapters.trading.mt5_webapi import Mt5WebApi, challenge_answer, password_hash
from fxcrm.adapters.trading.port import (
    NewAccount,
    PlatformAuthFailed,
    PlatformInsufficientFunds,
    PlatformInvalidRequest,
    PlatformNotFound,
    PlatformUnavailable,
)
from tests.support.fake_mt5 import FakeMt5Server

ACCOUNT = NewAccount("demo\\standard", "Chen Li", "chen@example.com", 100, "Main-pass-12", "Look-pass-12")


@pytest.fixture
def server() -> FakeMt5Server:
    with FakeMt5Server() as running:
        yield running  # type: ignore[misc]


def test_password_hash_follows_the_documented_recipe() -> None:
    import hashlib

    inner = hashlib.md5("Ab1".encode("utf-16-le")).digest()
    assert password_hash("Ab1") == hashlib.md5(inner + b"WebAPI").digest()
    assert challenge_answer(b"\x01" * 16, "ff00") == hashlib.md5(b"\x01" * 16 + b"\xff\x00").hexdigest()


def test_handshake_account_creation_and_state(server: FakeMt5Server) -> None:
    client = Mt5WebApi(server.url, 1000, "Manager-pass-1")
    login = client.create_account(ACCOUNT)
    assert login == 500001
    assert server.state.users[login]["Group"] == "demo\\standard"
    state = client.account_state(login)
    assert (state.login, state.balance, state.equity) == (login, Decimal("0.00"), Decimal("0.00"))
    # one handshake for the whole session, on one connection
    assert server.state.requests.count("/api/auth/start") == 1


def test_balance_operation_is_idempotent_by_operation_id(server: FakeMt5Server) -> None:
    client = Mt5WebApi(server.url, 1000, "Manager-pass-1")
    login = client.create_account(ACCOUNT)
    first = client.balance(login, Decimal("250.50"), "dep-1001")
    again = client.balance(login, Decimal("250.50"), "dep-1001")
    assert first == again
    assert client.account_state(login).balance == Decimal("250.50")
    with pytest.raises(PlatformInsufficientFunds):
        client.balance(login, Decimal("-1000"), "wd-1002")
    assert client.balance(login, Decimal("-50.50"), "wd-1003") != first
    assert client.account_state(login).balance == Decimal("200.00")
    deals = client.deals(login, datetime.now(tz=UTC) - timedelta(days=1), datetime.now(tz=UTC) + timedelta(days=1))
    assert [d.comment for d in deals] == ["fx:dep-1001", "fx:wd-1003"]
    assert [d.profit for d in deals] == [Decimal("250.50"), Decimal("-50.50")]


def test_batch_reads_ask_for_many_logins_in_one_request(server: FakeMt5Server) -> None:
    client = Mt5WebApi(server.url, 1000, "Manager-pass-1")
    logins = [client.create_account(ACCOUNT) for _ in range(3)]
    client.balance(logins[0], Decimal("10.00"), "dep-a")
    client.balance(logins[2], Decimal("30.00"), "dep-c")
    server.state.positions.append({"Position": "77", "Login": str(logins[2]), "Symbol": "EURUSD", "Volume": "10000"})
    day = timedelta(days=1)
    before = server.state.requests.count("/api/deal/get_batch")
    deals = client.deals_batch(logins, datetime.now(tz=UTC) - day, datetime.now(tz=UTC) + day)
    assert server.state.requests.count("/api/deal/get_batch") == before + 1
    assert {login: [d.profit for d in found] for login, found in deals.items()} == {
        logins[0]: [Decimal("10.00")],
        logins[2]: [Decimal("30.00")],
    }
    positions = client.positions_batch(logins)
    assert {login: [p.ticket for p in found] for login, found in positions.items()} == {logins[2]: [77]}
    assert client.orders_batch(logins) == {}
    assert client.positions(logins[0]) == [] and [p.volume_lots for p in client.positions(logins[2])] == [1]


def test_wrong_manager_password_is_a_clear_auth_error(server: FakeMt5Server) -> None:
    client = Mt5WebApi(server.url, 1000, "not-the-password")
    with pytest.raises(PlatformAuthFailed, match="manager password") as raised:
        client.account_state(1)
    assert raised.value.retcode == "1007 Invalid password"
    with pytest.raises(PlatformAuthFailed, match="manager login"):
        Mt5WebApi(server.url, 999, "Manager-pass-1").account_state(1)


def test_a_server_that_cannot_prove_the_password_is_refused(server: FakeMt5Server) -> None:
    server.state.prove_identity = False
    with pytest.raises(PlatformAuthFailed, match="prove its identity"):
        Mt5WebApi(server.url, 1000, "Manager-pass-1").create_account(ACCOUNT)
    assert server.state.users == {}  # nothing was sent after the failed proof


def test_retcodes_map_to_clear_errors(server: FakeMt5Server) -> None:
    client = Mt5WebApi(server.url, 1000, "Manager-pass-1")
    with pytest.raises(PlatformNotFound):
        client.account_state(424242)
    with pytest.raises(PlatformInvalidRequest):
        client.create_account(NewAccount("demo\\standard", "X", "x@example.com", 100, "short", "Look-pass-12"))
    login = client.create_account(ACCOUNT)
    client.change_password(login, "investor", "New-look-pass-1")
    assert server.state.users[login]["pass_investor"] == "New-look-pass-1"


def test_unreachable_server_is_unavailable() -> None:
    with FakeMt5Server() as gone:
        url = gone.url
    with pytest.raises(PlatformUnavailable):
        Mt5WebApi(url, 1000, "Manager-pass-1", timeout=1).account_state(1)
