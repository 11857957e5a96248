"""Online deposits through the payment provider (the local stand-in, which signs
its callbacks exactly as NOWPayments does), through the real handlers on moto:
the draft's pay_url, the callback credited once however often it arrives, and
every callback that must change nothing (forged, unknown order, another
amount), refunds, failures and the channel's staff rules."""

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from fxcrm import ledger
from fxcrm.adapters.payments.nowpayments import SIGNATURE_HEADER, canonical, sign
from fxcrm.dal import funding as funding_dal
from fxcrm.dal import kyc
from fxcrm.dal.table import Table
from tests.support.api import ApiClient
from tests.support.journeys import (
    Client,
    approved_client,
    live_account,
    platform_balance,
    register,
    sent_mail,
    staff_token,
    unique_email,
    wait_for,
)

ONLINE = 4  # the seeded online channel (review above 10000.00)
CALLBACK = "/funding/psp/callback"


@pytest.fixture
def client(api: ApiClient) -> Client:
    """A new client with approved KYC and one live account."""
    return approved_client(api, "online", live_accounts=1)


def _ipn_secret() -> str:
    from fxcrm.adapters.secrets import get_secret_json
    from fxcrm.core.settings import get_settings

    return str(get_secret_json(get_settings().psp_secret_name, 0)["ipn_secret"])


def _draft(api: ApiClient, client: Client, amount: str, channel: int = ONLINE) -> dict[str, Any]:
    reply = api.post(
        "/funding/deposits",
        {"deposit_amount": amount, "remittance_id": channel, "trading_account_id": client.accounts[0]},
        token=client.token,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _payload(draft: dict[str, Any], status: str = "finished", **changes: Any) -> dict[str, Any]:
    """The callback the stand-in sends for this draft (NOWPayments' IPN body)."""
    invoice = funding_dal.get_order(draft["order_number"])
    assert invoice is not None
    from fxcrm.dal.payments import get_local_invoice

    stored = get_local_invoice(str(invoice.psp_invoice_id))
    assert stored is not None
    amount = float(Decimal(str(stored["amount"])))
    return {
        "payment_id": int(stored["payment_id"]),
        "invoice_id": stored["invoice_id"],
        "payment_status": status,
        "order_id": draft["order_number"],
        "price_amount": amount,
        "price_currency": "usd",
        "pay_amount": amount,
        "pay_currency": "usdttrc20",
        "actually_paid": amount,
    } | changes


def _callback(api: ApiClient, payload: dict[str, Any], key: str | None = None) -> Any:
    signature = sign(key or _ipn_secret(), payload)
    return api.post(CALLBACK, body=canonical(payload), headers={SIGNATURE_HEADER: signature})


def _issues(api: ApiClient, admin: str) -> list[dict[str, Any]]:
    month = datetime.now(UTC).strftime("%Y-%m")
    reply = api.get(f"/admin/funding/psp-issues?month={month}", token=admin)
    assert reply.status == 200, reply.body
    return list(reply.json()["list"])


def _status(api: ApiClient, client: Client, number: str) -> str:
    rows = api.get("/funding/deposits", token=client.token).json()["list"]
    return str(next(r for r in rows if r["order_number"] == number)["status"])


def test_an_online_draft_answers_the_providers_page_and_its_get_changes_nothing(api: ApiClient, client: Client) -> None:
    draft = _draft(api, client, "120.00")
    assert draft["pay_type"] == "online" and draft["status"] == "pending"
    assert "/funding/psp/local/" in draft["pay_url"]
    data = json.loads(draft["pay_data"])
    assert data["reference"] == draft["order_number"] and data["amount"] == "120.00" and data["provider"] == "local"
    path = "/" + draft["pay_url"].split("/", 3)[3]
    page = api.get(path)
    assert page.status == 200 and b"120.00 USD" in page.body and b'method="post"' in page.body
    assert page.headers["cache-control"] == "no-store"
    assert _status(api, client, draft["order_number"]) == "pending"
    assert platform_balance(api, client, client.accounts[0]) == 0
    history = next(
        r
        for r in api.get("/funding/deposits", token=client.token).json()["list"]
        if r["order_number"] == draft["order_number"]
    )
    assert history["pay_url"] == draft["pay_url"]  # the client can come back to the page


def test_the_local_page_refuses_a_form_without_its_token(api: ApiClient, client: Client) -> None:
    draft = _draft(api, client, "50.00")
    path = "/" + draft["pay_url"].split("/", 3)[3]
    forged = api.post(
        path, body=b"outcome=pay&token=" + b"0" * 64, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert forged.status == 403 and forged.json()["field"] == "token"
    bad = api.post(path, body=b"outcome=steal&token=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bad.status == 422 and bad.json()["field"] == "outcome"
    assert _status(api, client, draft["order_number"]) == "pending"


def test_a_paid_callback_credits_once_without_staff_however_often_it_arrives(
    api: ApiClient, admin: str, client: Client
) -> None:
    account = client.accounts[0]
    draft = _draft(api, client, "300.00")
    payload = _payload(draft)
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda _: _callback(api, payload), range(10)))
    assert all(r.status == 200 for r in replies), [r.body for r in replies]
    assert sum(r.json()["result"] == "credited" for r in replies) == 1
    for _ in range(3):  # and again, later
        assert _callback(api, payload).json()["result"] == "unchanged"
    assert _status(api, client, draft["order_number"]) == "approved"
    assert platform_balance(api, client, account) == Decimal("300.00")
    assert ledger.available(account) == Decimal("300.00")
    assert sum("is credited" in m.subject for m in sent_mail(client.email)) == 1
    # staff see the provider's payment id and status on the order
    detail = api.get(f"/admin/users/{client.id}", token=admin).json()
    row = next(o for o in detail["orders"] if o["order_number"] == draft["order_number"])
    assert row["psp_payment_id"] == str(payload["payment_id"]) and row["psp_status"] == "finished"


def test_forged_unknown_and_mismatched_callbacks_change_nothing_and_are_listed_for_staff(
    api: ApiClient, admin: str, client: Client
) -> None:
    account = client.accounts[0]
    draft = _draft(api, client, "200.00")
    payload = _payload(draft)
    forged = _callback(api, payload, key="not-the-secret")
    assert forged.status == 401 and forged.json()["code"] == "bad_signature"
    unsigned = api.post(CALLBACK, body=canonical(payload))
    assert unsigned.status == 401
    tampered = api.post(
        CALLBACK,
        body=canonical(payload | {"price_amount": 20000.0}),
        headers={SIGNATURE_HEADER: sign(_ipn_secret(), payload)},
    )
    assert tampered.status == 401
    more = _callback(api, payload | {"price_amount": 2000.0})
    other_currency = _callback(api, payload | {"price_currency": "eur", "payment_id": payload["payment_id"] + 1})
    unknown = _callback(api, payload | {"order_id": "D1", "payment_id": payload["payment_id"] + 2})
    assert [r.json()["result"] for r in (more, other_currency, unknown)] == ["recorded"] * 3
    assert _status(api, client, draft["order_number"]) == "pending"
    assert platform_balance(api, client, account) == 0 and ledger.available(account) == 0
    issues = _issues(api, admin)
    mine = [i for i in issues if i.get("order_number") == draft["order_number"]]
    assert {i["reason"] for i in mine} >= {"amount_mismatch"}
    assert any(i["reason"] == "unknown_order" and i["order_number"] == "D1" for i in issues)
    assert any(i["reason"] == "bad_signature" and draft["order_number"] in i["body"] for i in issues)
    # the genuine callback still credits
    assert _callback(api, payload).json()["result"] == "credited"
    assert platform_balance(api, client, account) == Decimal("200.00")


def test_a_failed_payment_disapproves_and_a_later_paid_replay_credits_nothing(api: ApiClient, client: Client) -> None:
    draft = _draft(api, client, "80.00")
    assert _callback(api, _payload(draft, "failed")).json()["result"] == "disapproved"
    assert _status(api, client, draft["order_number"]) == "disapproved"
    assert _callback(api, _payload(draft)).json()["result"] == "unchanged"
    assert platform_balance(api, client, client.accounts[0]) == 0


def test_a_refund_after_the_credit_is_reversed_once(api: ApiClient, client: Client) -> None:
    account = client.accounts[0]
    draft = _draft(api, client, "150.00")
    assert _callback(api, _payload(draft)).json()["result"] == "credited"
    refund = _payload(draft, "refunded")
    assert _callback(api, refund).json()["result"] == "reversed"
    assert _callback(api, refund).json()["result"] == "unchanged"
    assert platform_balance(api, client, account) == 0 and ledger.available(account) == 0
    assert ledger.is_posted(f"dep-{draft['order_number']}-refund")


def test_a_refund_of_money_traded_away_is_left_to_staff(api: ApiClient, admin: str, client: Client) -> None:
    """The platform refuses to go below zero: nothing is taken, staff see the issue (reconciliation)."""
    from fxcrm.adapters.trading.servers import platform_for
    from fxcrm.core.settings import get_settings

    account = client.accounts[0]
    draft = _draft(api, client, "100.00")
    assert _callback(api, _payload(draft)).json()["result"] == "credited"
    stored = funding_dal.get_order(draft["order_number"])
    assert stored is not None
    login = int(stored.account.account)
    platform_for(get_settings(), "MT5-Live").balance(login, Decimal("-60.00"), f"lost-{uuid.uuid4().hex}")
    assert _callback(api, _payload(draft, "refunded")).json()["result"] == "recorded"
    assert platform_balance(api, client, account) == Decimal("40.00")
    assert any(
        i["reason"] == "reversal_short" and i["order_number"] == draft["order_number"] for i in _issues(api, admin)
    )


def test_a_deposit_above_the_channels_review_amount_goes_to_staff(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    draft = _draft(api, client, "12000.00")
    payload = _payload(draft)
    assert _callback(api, payload).json()["result"] == "submitted for review"
    assert _callback(api, payload).json()["result"] == "unchanged"
    order_id = int(draft["order_number"][1:])
    item = wait_for(lambda: api.get(f"/admin/approvals/{order_id}", token=admin).json(), "waiting")
    assert item["summary"]["review_reason"] == "amount above 10000.00"
    assert item["summary"]["psp_payment_id"] == str(payload["payment_id"])
    assert platform_balance(api, client, account) == 0
    assert api.post(f"/admin/approvals/{order_id}/decision", {"decision": "approve"}, token=admin).status == 200
    wait_for(lambda: {"status": _status(api, client, draft["order_number"])}, "approved")
    assert platform_balance(api, client, account) == Decimal("12000.00")


@pytest.fixture
def channel_5() -> Iterator[None]:
    """The test adds deposit channel 5; the session's catalogue stays the seeded one for other tests."""
    yield
    Table().delete("CHANNEL#deposit", f"{5:06d}")


@pytest.mark.usefixtures("channel_5")
def test_first_deposit_and_kyc_rules_send_it_to_staff(api: ApiClient, admin: str) -> None:
    email = unique_email("online-new")
    registered = register(api, email)
    user_id = int(registered["user_info"]["id"])
    newcomer = Client(email, registered["token"], user_id, [live_account(user_id, email)])
    channel = dict(funding_dal.get_channel("deposit", ONLINE) or {})
    rules = {"review_first_deposit": True, "review_without_kyc": True, "review_above": ""}
    config = {
        k: channel[k]
        for k in ("name", "method", "min_amount", "max_amount", "allowed_currencies", "allowed_countries", "kind")
    }
    controller = staff_token(api, "controller@broker.example.com", "Controller-demo-2026")
    saved = api.put("/admin/funding/channels/deposit/5", config | rules, token=controller)
    assert saved.status == 200, saved.body
    without_kyc = _draft(api, newcomer, "60.00", channel=5)
    assert _callback(api, _payload(without_kyc)).json()["result"] == "submitted for review"
    item = wait_for(
        lambda: api.get(f"/admin/approvals/{without_kyc['order_number'][1:]}", token=admin).json(), "waiting"
    )
    assert item["summary"]["review_reason"] == "KYC not approved"
    kyc.set_kyc_status(user_id, "approved", int(time.time()))
    first = _draft(api, newcomer, "70.00", channel=5)
    assert _callback(api, _payload(first)).json()["result"] == "submitted for review"
    item = wait_for(lambda: api.get(f"/admin/approvals/{first['order_number'][1:]}", token=admin).json(), "waiting")
    assert item["summary"]["review_reason"] == "first deposit"
    assert (
        api.post(f"/admin/approvals/{first['order_number'][1:]}/decision", {"decision": "approve"}, token=admin).status
        == 200
    )
    wait_for(lambda: {"status": _status(api, newcomer, first["order_number"])}, "approved")
    second = _draft(api, newcomer, "30.00", channel=5)
    assert _callback(api, _payload(second)).json()["result"] == "credited"
    assert platform_balance(api, newcomer, newcomer.accounts[0]) == Decimal("100.00")


def test_a_paid_deposit_staff_refuse_is_listed_for_a_refund(api: ApiClient, admin: str, client: Client) -> None:
    draft = _draft(api, client, "15000.00")
    assert _callback(api, _payload(draft)).json()["result"] == "submitted for review"
    order_id = int(draft["order_number"][1:])
    wait_for(lambda: api.get(f"/admin/approvals/{order_id}", token=admin).json(), "waiting")
    rejected = api.post(
        f"/admin/approvals/{order_id}/decision", {"decision": "reject", "reason": "Source of funds"}, token=admin
    )
    assert rejected.status == 200, rejected.body
    wait_for(lambda: {"status": _status(api, client, draft["order_number"])}, "disapproved")
    assert platform_balance(api, client, client.accounts[0]) == 0

    def listed() -> dict[str, Any]:
        due = [i for i in _issues(api, admin) if i["reason"] == "refund_due"]
        return {"status": "listed" if any(i["order_number"] == draft["order_number"] for i in due) else "not yet"}

    wait_for(listed, "listed")


def test_a_paid_deposit_the_trading_server_refuses_is_listed_for_staff(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.funding import orders

    draft = _draft(api, client, "40.00")

    def refuse(*_: Any) -> None:
        raise orders.PlatformRefused("the trading account no longer exists")

    monkeypatch.setattr(orders, "move_on_platform", refuse)
    assert _callback(api, _payload(draft)).json()["result"] == "recorded"
    assert any(
        i["reason"] == "credit_refused" and i["order_number"] == draft["order_number"] for i in _issues(api, admin)
    )
    assert ledger.available(client.accounts[0]) == 0
