"""The InstaForex-style Client and Partner API through the real handlers,
called as the seed's PHP example does: POST the login and API password for a
token, then GET the method with the token in the `passkey` header."""

import secrets
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.component.test_ib_portal import new_ib
from tests.component.test_rebates import Trades, settle_until
from tests.support.api import ApiClient
from tests.support.concurrency import SecretChecks
from tests.support.demo import ADMIN
from tests.support.journeys import open_demo_account, register, staff_token, unique_email

INSIDE = "198.51.100.7"
OUTSIDE = "203.0.113.99"
API_PASSWORD = "Api-pass-2026"


def open_account(api: ApiClient, token: str) -> tuple[int, int]:
    account_id = open_demo_account(api, token)
    return account_id, int(api.get(f"/trading-accounts/{account_id}", token=token).json()["account"])


@pytest.fixture
def trader(api: ApiClient) -> dict[str, Any]:
    registered = register(api, unique_email("api"))
    token = registered["token"]
    account_id, login = open_account(api, token)
    settings = {
        "enabled": True,
        "level": "closed",
        "password": API_PASSWORD,
        "ip_masks": ["198.51.100.0/24", "2001:db8::/32"],
    }
    saved = api.put(f"/trading-accounts/{account_id}/api-access", settings, token=token)
    assert saved.status == 200, saved.body
    assert saved.json() == {
        "kind": "client",
        "login": login,
        "enabled": True,
        "level": "closed",
        "has_password": True,
        "ip_masks": ["198.51.100.0/24", "2001:db8::/32"],
    }
    return {"token": token, "account_id": account_id, "login": login, "user_id": int(registered["user_info"]["id"])}


def request_token(
    api: ApiClient, login: int, password: str = API_PASSWORD, ip: str = INSIDE, kind: str = "Client"
) -> Any:
    return api.post(f"/api/Authentication/Request{kind}ApiToken", {"Login": login, "Password": password}, source_ip=ip)


def call(
    api: ApiClient,
    method: str,
    login: int,
    passkey: str | None,
    ip: str = INSIDE,
    query: str = "",
    kind: str = "client",
) -> Any:
    headers = {"passkey": passkey} if passkey is not None else {}
    return api.get(f"/{kind}/{method}/{login}{query}", headers=headers, source_ip=ip)


def test_the_php_example_step_by_step(api: ApiClient, trader: dict[str, Any]) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import trading
    from fxcrm.trading import sync

    login = trader["login"]
    # $token = curl_exec(POST .../api/Authentication/RequestClientApiToken {"Login", "Password"})
    reply = request_token(api, login)
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    token = reply.body.decode()
    # curl_init(GET .../client/GetBalance/$Login) with 'passkey: '.$token
    balance = call(api, "GetBalance", login, token)
    assert balance.status == 200, balance.body
    assert balance.json()["Balance"] == "10000.00" and balance.json()["Login"] == login

    account = trading.get_trading_account(trader["account_id"])
    assert account is not None
    sync.sync_account(get_settings(), account, int(time.time()), initial_days=10)
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 20 * 86400))
    closed = call(api, "GetClosedTrades", login, token, query=f"?from={day}").json()
    lots = call(api, "GetLotsClosed", login, token, query=f"?from={day}").json()
    history = trading.list_account_history(trader["account_id"], 0, 2**31 - 1)
    assert len(closed) == len(history) == lots["Trades"] > 0
    assert Decimal(lots["Lots"]) == sum(Decimal(str(h["volume_lots"])) for h in history)
    summary = call(api, "GetAccountSummary", login, token).json()
    assert summary["Leverage"] == 100 and summary["OpenTrades"] == len(call(api, "GetOpenTrades", login, token).json())
    bonus = call(api, "GetBonusStatistics", login, token).json()
    assert bonus["CurrentCredit"] == "0.00" and bonus["Operations"] == []
    # the token works from an IPv6 address inside a mask too
    assert call(api, "GetBalance", login, token, ip="2001:db8::5").status == 200


def test_closed_level_needs_a_token_from_inside_the_masks(api: ApiClient, trader: dict[str, Any]) -> None:
    login = trader["login"]
    assert call(api, "GetBalance", login, None).status == 401
    assert call(api, "GetBalance", login, "not-a-token").status == 401
    token = request_token(api, login).body.decode()
    refused = call(api, "GetBalance", login, token, ip=OUTSIDE)
    assert (refused.status, refused.json()["code"]) == (403, "address_not_allowed")


def test_a_bad_period_is_named_before_the_token_is_asked_for(api: ApiClient, trader: dict[str, Any]) -> None:
    # the period is checked first: a caller learns what to fix in the query whatever the token
    for method in ("GetClosedTrades", "GetAuthorizationHistory"):
        for query in ("?from=yesterday", "?from=2026-02-01&to=2026-01-01"):
            answer = call(api, method, trader["login"], None, query=query)
            assert answer.status == 422, (method, query, answer.body)
            assert answer.json()["field"] == "from"


def test_outside_the_masks_the_right_and_a_wrong_password_answer_alike(api: ApiClient, trader: dict[str, Any]) -> None:
    right = request_token(api, trader["login"], ip=OUTSIDE)
    wrong = request_token(api, trader["login"], password="Not-the-password-1", ip=OUTSIDE)
    assert (right.status, right.json()) == (wrong.status, wrong.json())
    assert right.json()["code"] == "bad_credentials" and right.status == 401
    token = request_token(api, trader["login"]).body.decode()
    history = [h["Result"] for h in call(api, "GetAuthorizationHistory", trader["login"], token).json()]
    assert history[:3] == ["token_issued", "address_not_allowed", "address_not_allowed"]  # the owner sees why


def _token_works(api: ApiClient, trader: dict[str, Any], token: str) -> int:
    return int(call(api, "GetBalance", trader["login"], token).status)


def test_a_token_ends_when_the_api_password_changes(api: ApiClient, trader: dict[str, Any]) -> None:
    path = f"/trading-accounts/{trader['account_id']}/api-access"
    token = request_token(api, trader["login"]).body.decode()
    assert _token_works(api, trader, token) == 200
    settings = {"enabled": True, "level": "closed", "password": "Api-pass-2027", "ip_masks": ["198.51.100.0/24"]}
    assert api.put(path, settings, token=trader["token"]).status == 200
    refused = call(api, "GetBalance", trader["login"], token)
    assert (refused.status, refused.json()["code"]) == (401, "bad_token")
    assert request_token(api, trader["login"]).status == 401  # the old password is gone too
    fresh = request_token(api, trader["login"], password="Api-pass-2027").body.decode()
    assert _token_works(api, trader, fresh) == 200
    # saving other settings (the masks) keeps the tokens
    unchanged = {"enabled": True, "level": "closed", "ip_masks": []}
    assert api.put(path, unchanged, token=trader["token"]).status == 200
    assert _token_works(api, trader, fresh) == 200


def test_a_token_ends_when_access_is_turned_off_and_on_again(api: ApiClient, trader: dict[str, Any]) -> None:
    path = f"/trading-accounts/{trader['account_id']}/api-access"
    token = request_token(api, trader["login"]).body.decode()
    masks = ["198.51.100.0/24"]
    assert api.put(path, {"enabled": False, "level": "closed", "ip_masks": masks}, token=trader["token"]).status == 200
    assert api.put(path, {"enabled": True, "level": "closed", "ip_masks": masks}, token=trader["token"]).status == 200
    refused = call(api, "GetBalance", trader["login"], token)
    assert (refused.status, refused.json()["code"]) == (401, "bad_token")
    assert _token_works(api, trader, request_token(api, trader["login"]).body.decode()) == 200


def test_a_disabled_user_loses_its_tokens_and_gets_no_new_one(api: ApiClient, trader: dict[str, Any]) -> None:
    admin = staff_token(api, *ADMIN)
    status = f"/admin/users/{trader['user_id']}/status"
    token = request_token(api, trader["login"]).body.decode()
    assert api.put(status, {"status": "disabled", "reason": "chargeback"}, token=admin).status == 200
    assert call(api, "GetBalance", trader["login"], token).status == 404  # the API is off with the user
    refused = request_token(api, trader["login"])
    assert (refused.status, refused.json()["code"]) == (401, "bad_credentials")
    assert api.put(status, {"status": "active", "reason": "resolved"}, token=admin).status == 200
    revoked = call(api, "GetBalance", trader["login"], token)  # enabling again does not revive it
    assert (revoked.status, revoked.json()["code"]) == (401, "bad_token")
    assert _token_works(api, trader, request_token(api, trader["login"]).body.decode()) == 200


@pytest.mark.usefixtures("frozen_clock")
def test_a_wrong_password_is_401_recorded_and_limited(api: ApiClient, trader: dict[str, Any]) -> None:
    login = trader["login"]
    wrong = request_token(api, login, password="Not-the-password-1")
    assert (wrong.status, wrong.json()["code"]) == (401, "bad_credentials")
    token = request_token(api, login).body.decode()
    history = call(api, "GetAuthorizationHistory", login, token).json()
    assert [h["Result"] for h in history][:2] == ["token_issued", "wrong_password"]
    assert history[1]["Address"] == INSIDE and history[1]["Time"]
    for _ in range(4):
        assert request_token(api, login, password="Not-the-password-1").status == 401
    limited = request_token(api, login)  # even the right password waits now
    assert limited.status == 429 and int(limited.headers["retry-after"]) > 0
    assert request_token(api, 10**12 + secrets.randbelow(10**6)).status == 401  # an unknown login looks the same


@pytest.mark.usefixtures("frozen_clock")
def test_twelve_concurrent_token_requests_check_at_most_five_passwords(
    api: ApiClient, trader: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.core import passwords

    checks = SecretChecks(12)
    monkeypatch.setattr(passwords, "verify_password", checks.wrap(passwords.verify_password))
    statuses = checks.run(lambda i: request_token(api, trader["login"], password=f"Not-the-password-{i}").status)
    assert checks.evaluated == 5
    assert sorted(statuses) == [401] * 5 + [429] * 7
    right = request_token(api, trader["login"])
    assert right.status == 429 and int(right.headers["retry-after"]) > 0
    assert checks.evaluated == 5


def test_a_token_reads_only_its_own_login(api: ApiClient, trader: dict[str, Any]) -> None:
    other = register(api, unique_email("api2"))
    _, other_login = open_account(api, other["token"])
    token = request_token(api, trader["login"]).body.decode()
    refused = call(api, "GetBalance", other_login, token)
    assert refused.status == 404  # the other login has no API access at all
    second_id, second_login = open_account(api, trader["token"])
    api.put(
        f"/trading-accounts/{second_id}/api-access",
        {"enabled": True, "level": "closed", "password": API_PASSWORD},
        token=trader["token"],
    )
    refused = call(api, "GetBalance", second_login, token)
    assert (refused.status, refused.json()["code"]) == (403, "token_of_another_login")
    # nobody else may change the settings of the account
    assert (
        api.put(
            f"/trading-accounts/{trader['account_id']}/api-access",
            {"enabled": False, "level": "open"},
            token=other["token"],
        ).status
        == 404
    )


def test_open_level_answers_without_a_token_and_disabled_answers_nothing(
    api: ApiClient, trader: dict[str, Any]
) -> None:
    path = f"/trading-accounts/{trader['account_id']}/api-access"
    assert api.put(path, {"enabled": True, "level": "open", "ip_masks": []}, token=trader["token"]).status == 200
    assert call(api, "GetBalance", trader["login"], None, ip=OUTSIDE).status == 200
    assert api.put(path, {"enabled": False, "level": "open"}, token=trader["token"]).status == 200
    assert call(api, "GetBalance", trader["login"], None).status == 404
    assert api.get(path, token=trader["token"]).json()["has_password"] is True  # kept, never shown
    bad = api.put(path, {"enabled": True, "level": "closed", "ip_masks": ["300.1.1.0/24"]}, token=trader["token"])
    assert (bad.status, bad.json()["field"]) == (422, "ip_masks.0")


def test_the_partner_method_returns_the_records_the_ib_portal_shows(api: ApiClient) -> None:
    ib = new_ib(api)
    client = register(api, unique_email("pc"), invite_code=ib["code"])
    t = int(time.time()) - 3 * 86400 + 40 * 3600
    Trades(int(client["user_info"]["id"])).close("XAUUSD", "0.50", t, t + 3600)  # 4.00
    settle_until(t + 2 * 3600)
    saved = api.put("/ib/api-access", {"enabled": True, "level": "closed", "password": API_PASSWORD}, token=ib["token"])
    assert saved.status == 200 and saved.json()["login"] == ib["id"]
    token = request_token(api, ib["id"], kind="Partner").body.decode()
    records = call(api, "GetCommissionRecords", ib["id"], token, kind="partner").json()
    portal = api.get("/ib/commissions", token=ib["token"]).json()["list"]
    assert (
        [(r["Id"], r["TotalAmount"]) for r in records]
        == [(p["id"], p["total_amount"]) for p in portal]
        == [(portal[0]["id"], "4.00")]
    )
    assert records[0]["Partner"] == ib["id"] and len(records[0]["BalanceRecords"]) == 1
    [row] = api.get("/ib/rebates", token=ib["token"]).json()["list"]
    [detail] = records[0]["BalanceRecords"]
    assert (detail["Id"], detail["Amount"], detail["Currency"]) == (row["rebate_id"], row["rebate_amount"], "USD")
    # a client token is not a partner token
    assert request_token(api, ib["id"], kind="Client").status == 401
