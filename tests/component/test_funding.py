"""Funding through the real handlers and the real state machines on moto:
payment accounts, deposits with receipts, withdrawals, transfers, the ledger
behind them and the Idempotency-Key on every money-moving POST."""

import csv
import io
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import quote as quote_url

import pytest
import requests

from fxcrm import ledger
from fxcrm.dal import kyc
from fxcrm.ledger.verify import verify
from tests.support.api import ApiClient
from tests.support.demo import ADMIN, DEMO_ACCOUNT
from tests.support.journeys import (
    BANK,
    PDF,
    Client,
    approval_waiting,
    approve_kyc,
    decide,
    deposit,
    deposit_waiting,
    draft_deposit,
    email_code,
    idempotency_key,
    live_account,
    order_row,
    platform_balance,
    register,
    request_withdrawal,
    sent_mail,
    staff_token,
    transfer_body,
    unique_email,
    upload_receipt,
    wait_for,
    wait_for_mail,
    withdrawal_body,
    withdrawal_quote,
)

# ---------------------------------------------------------------- reference data and payment accounts


def test_currencies_and_channels(api: ApiClient, client: Client) -> None:
    crypto = api.get("/funding/currencies?method=cryptocurrency", token=client.token).json()
    assert {c["code"] for c in crypto["list"]} == {"USDT", "BTC"}
    assert crypto["list"][0]["name"]["zh"]
    assert api.get("/funding/currencies", token=client.token).json()["total"] == 5
    deposits = api.get("/funding/deposit-channels", token=client.token).json()
    assert deposits["total"] == 4 and deposits["list"][0]["allowed_countries"]
    withdrawals = api.get("/funding/withdrawal-channels?size=2", token=client.token).json()
    assert withdrawals["total"] == 4 and len(withdrawals["list"]) == 2
    assert withdrawals["list"][0]["fee"] == "1%" and withdrawals["list"][1]["fee"] == "25.00 USD"


def test_both_funding_lists_offer_the_live_accounts_only(api: ApiClient, client: Client) -> None:
    """A demo account is refused by a deposit, so the lists a client picks from never offer it."""
    demo = api.post("/trading-accounts", DEMO_ACCOUNT, token=client.token)
    assert demo.status == 201, demo.body
    for types in ("type=deposit_only&type=normal", "type=withdrawal_only&type=normal"):
        listed = api.get(f"/trading-accounts/balances?{types}", token=client.token).json()
        assert sorted(row["trading_account_id"] for row in listed["list"]) == sorted(client.accounts)
        assert {row["server_type"] for row in listed["list"]} == {"MT5-Live"} and listed["total"] == 2
    refused = api.post(
        "/funding/deposits",
        {"trading_account_id": demo.json()["id"], "remittance_id": 1, "deposit_amount": "100.00"},
        token=client.token,
        headers=idempotency_key(),
    )
    assert (refused.status, refused.json()["field"]) == (422, "trading_account_id")


def test_payment_accounts_one_default_per_method_and_private(api: ApiClient, client: Client) -> None:
    first = api.post(
        "/funding/payment-accounts", {"payment_method": "bank_transfer", "bank_transfer_info": BANK}, token=client.token
    )
    assert first.status == 201
    second = api.post(
        "/funding/payment-accounts",
        {"payment_method": "bank_transfer", "bank_transfer_info": BANK | {"bank_no": "12345678"}, "remark": "salary"},
        token=client.token,
    )
    wallet = api.post(
        "/funding/payment-accounts",
        {
            "payment_method": "cryptocurrency",
            "cryptocurrency_info": {"network": "TRC20", "wallet_address": "T" + "a" * 33},
        },
        token=client.token,
    )
    assert second.status == 201 and wallet.status == 201
    ids = [first.json()["id"], second.json()["id"]]
    for account_id in ids:  # the second default replaces the first
        assert (
            api.put("/funding/payment-accounts", {"id": account_id, "is_default": True}, token=client.token).status
            == 200
        )
    listed = api.get("/funding/payment-accounts", token=client.token).json()
    assert listed["total"] == 3 and len(listed["cryptocurrency"]) == 1
    assert {r["id"]: r["is_default"] for r in listed["bank_transfer"]} == {ids[0]: False, ids[1]: True}
    only_crypto = api.get("/funding/payment-accounts?payment_method=cryptocurrency", token=client.token).json()
    assert only_crypto["total"] == 1 and only_crypto["bank_transfer"] == []

    detail = api.get(f"/funding/payment-accounts/{ids[1]}", token=client.token).json()
    assert detail["remark"] == "salary" and detail["bank_transfer_info"]["bank_no"] == "12345678"
    assert detail["cryptocurrency_info"] is None and detail["payment_method"] == "bank_transfer"

    other = register(api, unique_email("other"))["token"]
    assert api.get(f"/funding/payment-accounts/{ids[1]}", token=other).status == 404
    assert api.put("/funding/payment-accounts", {"id": ids[1], "remark": "mine"}, token=other).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment_method": "bank_transfer"}, "bank_transfer_info"),
        (
            {
                "payment_method": "bank_transfer",
                "bank_transfer_info": BANK,
                "cryptocurrency_info": {"network": "BTC", "wallet_address": "1" * 30},
            },
            "cryptocurrency_info",
        ),
        (
            {
                "payment_method": "cryptocurrency",
                "cryptocurrency_info": {"network": "ERC20", "wallet_address": "T" + "a" * 33},
            },
            "cryptocurrency_info.wallet_address",
        ),
    ],
)
def test_payment_account_details_must_match_the_method(
    api: ApiClient, client: Client, body: dict[str, Any], field: str
) -> None:
    reply = api.post("/funding/payment-accounts", body, token=client.token)
    assert reply.status == 422 and reply.json()["field"] == field


# ---------------------------------------------------------------- deposits


def test_deposit_with_receipt_is_credited_once_after_approval(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    number = deposit(api, admin, client, account, "250.00")
    assert platform_balance(api, client, account) == Decimal("250.00")
    assert ledger.available(account) == Decimal("250.00")
    row = order_row(api, client, "deposits", number)()
    assert row["amount"] == "250.00" and row["remittance_name"] == "Bank transfer"
    assert row["target_trading_account"]["id"] == account and row["server_type"] == "MT5-Live"
    assert any("is credited" in m.subject for m in sent_mail(client.email))
    detail = api.get(f"/admin/approvals/{number[1:]}", token=admin).json()
    assert detail["status"] == "completed"
    receipt = requests.get(detail["receipt_link"], timeout=10)  # the reviewer's short-lived link works
    assert receipt.status_code == 200 and receipt.content == PDF


def test_deposit_refusals_name_the_field(api: ApiClient, client: Client) -> None:
    body = {"deposit_amount": "10.00", "remittance_id": 1, "trading_account_id": client.accounts[0]}
    low = api.post("/funding/deposits", body, token=client.token, headers=idempotency_key())
    assert low.status == 422 and low.json()["field"] == "deposit_amount"
    places = api.post(
        "/funding/deposits", body | {"deposit_amount": "100.001"}, token=client.token, headers=idempotency_key()
    )
    assert places.status == 422 and places.json()["field"] == "deposit_amount"
    foreign = api.post(
        "/funding/deposits",
        body | {"deposit_amount": "100", "trading_account_id": 12345},
        token=client.token,
        headers=idempotency_key(),
    )
    assert foreign.status == 404 and foreign.json()["field"] == "trading_account_id"
    no_key = api.post("/funding/deposits", body | {"deposit_amount": "100"}, token=client.token)
    assert no_key.status == 422 and no_key.json()["field"] == "Idempotency-Key"


def test_a_receipt_must_be_this_orders_own_real_file(api: ApiClient, client: Client) -> None:
    number = draft_deposit(api, client, "100")

    def submit(key: str) -> Any:
        return api.post(
            "/funding/deposits/submit",
            {"order_number": number, "receipt_url": key},
            token=client.token,
            headers=idempotency_key(),
        )

    assert submit(f"receipts/{client.id}/{number}/nothing-here").json()["code"] == "receipt_missing"
    assert submit(f"receipts/1/{number}/x").json()["code"] == "foreign_receipt"
    fake = upload_receipt(api, client, number, b"MZ\x90\x00 not a pdf at all", "application/pdf")
    wrong = submit(fake)
    assert (
        wrong.status == 422 and wrong.json()["code"] == "receipt_wrong_type" and wrong.json()["field"] == "receipt_url"
    )
    other = register(api, unique_email("other"))["token"]
    assert (
        api.post(f"/funding/deposits/{number}/receipt-upload", {"content_type": "image/png"}, token=other).status == 404
    )
    assert order_row(api, client, "deposits", number)()["status"] == "pending"


def test_staff_see_the_receipt_that_was_checked_not_one_uploaded_later(
    api: ApiClient, admin: str, client: Client
) -> None:
    """The upload form works until it expires; bytes posted with it after the
    submit are never what the reviewer's link shows."""
    number = draft_deposit(api, client, "250")
    form = api.post(
        f"/funding/deposits/{number}/receipt-upload", {"content_type": "application/pdf"}, token=client.token
    ).json()
    checked = b"%PDF-1.4 the real receipt " + uuid.uuid4().bytes

    def post(content: bytes) -> None:
        reply = requests.post(
            form["url"], data=form["fields"], files={"file": ("r.pdf", content, "application/pdf")}, timeout=10
        )
        assert reply.status_code in (200, 201, 204), reply.text

    post(checked)
    submitted = api.post(
        "/funding/deposits/submit",
        {"order_number": number, "receipt_url": form["key"]},
        token=client.token,
        headers=idempotency_key(),
    )
    assert submitted.status == 200, submitted.body
    post(b"%PDF-1.4 a forged receipt for ten times the amount")
    approval_waiting(api, admin, int(number[1:]))
    detail = api.get(f"/admin/approvals/{number[1:]}", token=admin).json()
    assert requests.get(detail["receipt_link"], timeout=10).content == checked


def test_a_rejected_deposit_shows_the_reason_and_credits_nothing(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    number = deposit_waiting(api, admin, client, "300", account)
    decide(api, admin, int(number[1:]), "reject", "Receipt is unreadable")
    row = wait_for(order_row(api, client, "deposits", number), "disapproved")
    assert row["remark"] == "Receipt is unreadable"
    assert platform_balance(api, client, account) == 0 and ledger.available(account) == 0
    # who disapproved it, by the staff member's name
    reported = api.get("/reports/deposits?status=disapproved", token=client.token).json()["list"]
    assert [(r["order_number"], r["auditor_name"]) for r in reported] == [(number, "Ada Admin")]


def test_reports_name_the_auditor_and_the_queue_links_each_receipt(api: ApiClient, admin: str, client: Client) -> None:
    """`auditor_name` is the deciding staff member's name (Ada Admin), not an
    email; each deposit row of the queue links to its receipt, waiting or done."""
    content = PDF + secrets.token_bytes(8)
    number = deposit_waiting(api, admin, client, "120.00", client.accounts[0], content)
    for status in ("waiting", "completed"):
        if status == "completed":
            assert decide(api, admin, int(number[1:]), "approve").status == 200
            wait_for(order_row(api, client, "deposits", number), "approved")
        queue = api.get(f"/admin/approvals?kind=deposit&status={status}&size=100", token=admin).json()
        row = next(i for i in queue["list"] if i["id"] == int(number[1:]))
        receipt = requests.get(row["receipt_link"], timeout=10)
        assert receipt.status_code == 200 and receipt.content == content
    reported = api.get("/reports/deposits?status=approved", token=client.token).json()["list"]
    assert [(r["order_number"], r["auditor_name"]) for r in reported] == [(number, "Ada Admin")]
    exported = api.post("/reports/deposits/export", {"status": "approved"}, token=client.token).json()
    parsed = csv.DictReader(io.StringIO(requests.get(exported["download_url"], timeout=10).content.decode("utf-8-sig")))
    assert [p["auditor_name"] for p in parsed] == ["Ada Admin"]


def test_a_payment_account_is_held_in_the_clients_kyc_name(api: ApiClient, admin: str) -> None:
    """`account_holder_name` is the name the client entered in its KYC identity,
    in the detail and in a withdrawal paid to the saved account."""
    email = unique_email("holder")
    registered = register(api, email)
    token, user_id = registered["token"], int(registered["user_info"]["id"])
    identity = {
        "first_name": "Wei",
        "last_name": "Chen",
        "full_name": "Chen Wei",
        "gender": "male",
        "birthday": "1988-02-03",
        "country": "SG",
    }
    saved_identity = api.put(
        "/kyc/modules", {"current_module": "identity", "kyc_data": {"identity": identity}}, token=token
    )
    assert saved_identity.status == 200, saved_identity.body
    approve_kyc(user_id)
    client = Client(email, token, user_id, [live_account(user_id, email)])
    saved = api.post(
        "/funding/payment-accounts", {"payment_method": "bank_transfer", "bank_transfer_info": BANK}, token=token
    )
    assert saved.status == 201, saved.body
    detail = api.get(f"/funding/payment-accounts/{saved.json()['id']}", token=token).json()
    assert detail["account_holder_name"] == "Chen Wei"
    deposit(api, admin, client, client.accounts[0], "300.00")
    body = withdrawal_body(api, client, client.accounts[0], "100.00", payment_account_id=saved.json()["id"])
    body.pop("bank_transfer_info")
    reply = api.post("/funding/withdrawals", body, token=token, headers=idempotency_key())
    assert reply.status == 201, reply.body
    from fxcrm.dal import funding
    from fxcrm.dal.models.orders import WithdrawalOrder

    order = funding.get_order(reply.json()["order_number"])
    assert isinstance(order, WithdrawalOrder) and order.details["account_holder_name"] == "Chen Wei"
    assert order.payment_account_id == saved.json()["id"]  # the request's field is kept with the order


# ---------------------------------------------------------------- withdrawals


def test_withdrawal_reserves_at_once_then_pays_out_after_approval(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    number = request_withdrawal(api, client, account, "200.00")
    assert ledger.available(account) == Decimal("300.00")  # reserved with the request
    approval_waiting(api, admin, int(number[1:]))
    assert platform_balance(api, client, account) == Decimal("300.00")  # held on the trading server
    assert decide(api, admin, number[1:], "approve").status == 200
    row = wait_for(order_row(api, client, "withdrawals", number), "approved")
    assert row["amount"] == "200.00" and row["source_trading_account"]["id"] == account
    channels = api.get("/funding/withdrawal-channels", token=client.token).json()["list"]
    channel = next(c for c in channels if c["id"] == 11)
    assert (row["remittance_name"], row["icon"], row["remark"]) == (channel["name"], channel["icon_url"], "")
    sent = wait_for_mail(client.email, subject="Your withdrawal is on its way", body=f"Withdrawal {number}: ")
    assert [m.subject for m in sent_mail(client.email)].count(sent.subject) == 1
    assert platform_balance(api, client, account) == Decimal("300.00")
    fees = ledger.fees("USD")
    from fxcrm.dal import ledger as ledger_dal

    txn = ledger_dal.get_transaction(f"wd-{number}")
    assert txn is not None and txn.legs[2].amount == Decimal("2.00")  # 1% fee
    assert ledger.balance(fees).posted >= Decimal("2.00")  # the fee arrived (in one of its shards)
    assert verify()["differences"] == []


def test_a_rejected_withdrawal_gives_everything_back(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    number = request_withdrawal(api, client, account, "100.00")
    approval_waiting(api, admin, int(number[1:]))
    decide(api, admin, number[1:], "reject", "Name does not match")
    row = wait_for(order_row(api, client, "withdrawals", number), "disapproved")
    assert row["remark"] == "Name does not match"
    notice = wait_for_mail(client.email, subject="Your withdrawal was not made")
    assert f"Withdrawal {number} was not made: Name does not match." in notice.body
    assert platform_balance(api, client, account) == Decimal("500.00") and ledger.available(account) == Decimal(
        "500.00"
    )
    assert verify()["differences"] == []


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"fee": "0.00"}, "fee", 422),
        ({"exchange_rate": "0.9"}, "exchange_rate", 422),
        ({"remittance_amount": "1000.00"}, "remittance_amount", 422),
        ({"withdrawal_amount": "20000.00", "fee": "200.00", "remittance_amount": "19800.00"}, "withdrawal_amount", 422),
        ({"method": "cryptocurrency"}, "method", 422),
        ({"trading_account_id": 424242}, "trading_account_id", 404),
    ],
)
def test_withdrawal_refusals_name_the_field(
    api: ApiClient, admin: str, client: Client, overrides: dict[str, Any], field: str, status: int
) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    reply = api.post(
        "/funding/withdrawals",
        withdrawal_body(api, client, account, "100.00", **overrides),
        token=client.token,
        headers=idempotency_key(),
    )
    assert reply.status == status and reply.json()["field"] == field, reply.body
    assert ledger.available(account) == Decimal("500.00")


def test_withdrawal_needs_approved_kyc_and_a_fresh_code(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    body = withdrawal_body(api, client, account, "100.00")
    wrong = api.post(
        "/funding/withdrawals", body | {"email_code": "000000"}, token=client.token, headers=idempotency_key()
    )
    assert wrong.status == 422 and wrong.json()["field"] == "email_code"
    kyc.set_kyc_status(client.id, "pending", 1)
    refused = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
    assert refused.status == 403 and refused.json()["code"] == "kyc_not_approved"


# ---------------------------------------------------------------- transfers


def test_small_transfer_moves_at_once_and_large_one_waits_for_staff(api: ApiClient, admin: str, client: Client) -> None:
    source, target = client.accounts
    deposit(api, admin, client, source, "2000.00")

    def transfer(amount: str) -> Any:
        body = transfer_body(api, client, amount, "rebalance")
        return api.post("/funding/transfers", body, token=client.token, headers=idempotency_key())

    small = transfer("100.00")
    assert small.status == 201 and small.json()["audit_status"] == "approved"
    assert platform_balance(api, client, target) == Decimal("100.00") and ledger.available(target) == Decimal("100.00")

    large = transfer("1500.00")
    assert large.status == 201 and large.json()["audit_status"] == "pending"
    audit_id = large.json()["audit_id"]
    approval_waiting(api, admin, audit_id)
    assert platform_balance(api, client, source) == Decimal("400.00")  # held
    decide(api, admin, audit_id, "approve")
    row = wait_for(order_row(api, client, "transfers", f"T{audit_id}"), "approved")
    assert row["target_trading_account"]["id"] == target and row["remark"] == "rebalance"
    assert platform_balance(api, client, target) == Decimal("1600.00")
    assert ledger.available(source) == Decimal("400.00")
    too_much = transfer("400.01")
    assert too_much.status == 422 and too_much.json()["field"] == "amount"
    assert verify()["differences"] == []


def test_transfer_refusals(api: ApiClient, client: Client) -> None:
    base = {"amount": "1", "email_code": "123456", "remark": "", "source_trading_account_id": client.accounts[0]}
    same = api.post(
        "/funding/transfers",
        base | {"target_trading_account_id": client.accounts[0]},
        token=client.token,
        headers=idempotency_key(),
    )
    assert same.status == 422 and same.json()["field"] == "target_trading_account_id"
    foreign = api.post(
        "/funding/transfers", base | {"target_trading_account_id": 99}, token=client.token, headers=idempotency_key()
    )
    assert foreign.status == 404 and foreign.json()["field"] == "target_trading_account_id"


# ---------------------------------------------------------------- idempotency and concurrency


def test_an_idempotency_key_replays_and_refuses_another_body(api: ApiClient, client: Client) -> None:
    body = {"deposit_amount": "100", "remittance_id": 1, "trading_account_id": client.accounts[0]}
    key = idempotency_key()
    first = api.post("/funding/deposits", body, token=client.token, headers=key)
    again = api.post("/funding/deposits", body, token=client.token, headers=key)
    assert first.status == 201 and again.json() == first.json()
    changed = api.post("/funding/deposits", body | {"deposit_amount": "101"}, token=client.token, headers=key)
    assert changed.status == 422 and changed.json()["code"] == "idempotency_key_reused"
    assert api.get("/funding/deposits", token=client.token).json()["total"] == 1


def test_one_key_sent_20_times_at_once_makes_one_order(api: ApiClient, client: Client) -> None:
    body = {"deposit_amount": "100", "remittance_id": 1, "trading_account_id": client.accounts[0]}
    key = idempotency_key()
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(
            pool.map(lambda _: api.post("/funding/deposits", body, token=client.token, headers=key), range(20))
        )
    assert {r.status for r in replies} <= {201, 409}
    numbers = {r.json()["order_number"] for r in replies if r.status == 201}
    assert len(numbers) == 1
    assert api.get("/funding/deposits", token=client.token).json()["total"] == 1


def test_200_concurrent_withdrawals_of_10_against_500_accept_exactly_50(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the domain level, so each request need not fetch its own email code
    (the code check is replaced; everything else runs as in production)."""
    from fxcrm.core.caller import Principal
    from fxcrm.core.errors import InvalidInput
    from fxcrm.core.settings import get_settings
    from fxcrm.funding import orders, withdrawals
    from fxcrm.funding.schemas import WithdrawalRequest

    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    monkeypatch.setattr(orders, "check_code", lambda *args, **kwargs: None)
    quote = withdrawal_quote(api, client, "10.00", channel=13, currency="USDT")
    body = {
        "cryptocurrency_info": {"network": "TRC20", "wallet_address": "T" + "b" * 33, "currency": "USDT"},
        "currency": "USDT",
        "email_code": "000000",
        "method": "cryptocurrency",
        "remittance_id": 13,
        "trading_account_id": account,
        "withdrawal_amount": "10.00",
    } | {k: quote[k] for k in ("fee", "exchange_rate", "remittance_amount")}
    request = WithdrawalRequest.model_validate(body)  # what the route hands the domain
    principal = Principal(client.id, "client", "client", client.email)

    def attempt(_: int) -> str:
        try:
            withdrawals.request(get_settings(), principal, request, int(time.time()))
        except InvalidInput as error:
            assert error.field == "withdrawal_amount"
            return "refused"
        return "accepted"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(200)))
    assert outcomes.count("accepted") == 50 and outcomes.count("refused") == 150
    assert ledger.available(account) == 0
    deadline = time.monotonic() + 60  # every accepted one holds its amount on the trading server
    while platform_balance(api, client, account) != 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert verify()["differences"] == []


def test_double_approval_posts_once(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    number = deposit_waiting(api, admin, client, "100", account)
    second_admin = staff_token(api, *ADMIN)
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(
            pool.map(
                lambda t: decide(api, t, number[1:], "approve"),
                [admin, second_admin],
            )
        )
    assert sorted(r.status for r in replies) == [200, 409]
    wait_for(order_row(api, client, "deposits", number), "approved")
    assert platform_balance(api, client, account) == Decimal("100.00") and ledger.available(account) == Decimal(
        "100.00"
    )


def test_an_approval_timeout_voids_the_reservation(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.core.settings import Settings, get_settings

    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    quick = Settings(**(get_settings().model_dump() | {"approval_timeout_seconds": 2}))
    monkeypatch.setattr("fxcrm.funding.withdrawals.workflow.submit", _with_settings(quick))
    number = request_withdrawal(api, client, account, "100.00")
    row = wait_for(order_row(api, client, "withdrawals", number), "disapproved")
    assert "not reviewed in time" in row["remark"]
    assert ledger.available(account) == Decimal("500.00") and platform_balance(api, client, account) == Decimal(
        "500.00"
    )
    assert verify()["differences"] == []


def _with_settings(settings: Any) -> Any:
    from fxcrm.approvals import workflow

    original = workflow.submit

    def submit(_: Any, *args: Any, **kwargs: Any) -> None:
        original(settings, *args, **kwargs)

    return submit


def test_a_withdrawal_can_pay_to_a_saved_payment_account(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    saved = api.post(
        "/funding/payment-accounts", {"payment_method": "bank_transfer", "bank_transfer_info": BANK}, token=client.token
    ).json()["id"]
    body = withdrawal_body(api, client, account, "100.00", payment_account_id=saved)
    both = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
    assert both.status == 422 and both.json()["field"] == "payment_account_id"  # details or a saved account
    body.pop("bank_transfer_info")
    reply = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
    assert reply.status == 201, reply.body
    from fxcrm.dal import funding
    from fxcrm.dal.models.orders import WithdrawalOrder

    order = funding.get_order(reply.json()["order_number"])
    assert isinstance(order, WithdrawalOrder) and order.details["bank_no"] == BANK["bank_no"]
    other = register(api, unique_email("other"))
    kyc.set_kyc_status(int(other["user_info"]["id"]), "approved", 1)
    stranger = Client(other["user_info"]["email"], other["token"], int(other["user_info"]["id"]), [])
    foreign = withdrawal_body(api, stranger, account, "100.00", payment_account_id=saved)
    foreign.pop("bank_transfer_info")
    assert api.post("/funding/withdrawals", foreign, token=stranger.token, headers=idempotency_key()).status == 404


def test_a_foreign_source_account_is_not_found(api: ApiClient, client: Client) -> None:
    other = register(api, unique_email("other"))["token"]
    body = {
        "amount": "1",
        "email_code": "123456",
        "remark": "",
        "source_trading_account_id": client.accounts[0],
        "target_trading_account_id": client.accounts[1],
    }
    reply = api.post("/funding/transfers", body, token=other, headers=idempotency_key())
    assert reply.status == 404 and reply.json()["field"] == "source_trading_account_id"


# ---------------------------------------------------------------- record types rule the direction of money


def _transfer(api: ApiClient, client: Client, source: int, target: int, code: str = "123456") -> Any:
    """A refusal comes before the code is checked, so refusals need no real code."""
    body = {
        "amount": "10.00",
        "email_code": code,
        "remark": "",
        "source_trading_account_id": source,
        "target_trading_account_id": target,
    }
    return api.post("/funding/transfers", body, token=client.token, headers=idempotency_key())


def test_a_deposit_only_account_pays_nothing_out(api: ApiClient, admin: str, client: Client) -> None:
    bonus = live_account(client.id, client.email, "deposit_only")
    deposit(api, admin, client, bonus, "300.00")  # money goes in
    withdrawal = api.post(
        "/funding/withdrawals",
        withdrawal_body(api, client, bonus, "100.00"),
        token=client.token,
        headers=idempotency_key(),
    )
    assert withdrawal.status == 422, withdrawal.body
    assert withdrawal.json()["field"] == "trading_account_id" and withdrawal.json()["code"] == "record_type_refused"
    out = _transfer(api, client, bonus, client.accounts[0])
    assert out.status == 422 and out.json()["field"] == "source_trading_account_id"
    assert out.json()["code"] == "record_type_refused"
    assert platform_balance(api, client, bonus) == Decimal("300.00") and ledger.available(bonus) == Decimal("300.00")
    deposit(api, admin, client, client.accounts[0], "50.00")
    into = _transfer(
        api, client, client.accounts[0], bonus, email_code(api, client.email, client.token, "transfer")
    )  # money may go in
    assert into.status == 201 and into.json()["audit_status"] == "approved", into.body
    assert ledger.available(bonus) == Decimal("310.00")


def test_a_withdrawal_only_account_takes_nothing_in(api: ApiClient, admin: str, client: Client) -> None:
    payout = live_account(client.id, client.email, "withdrawal_only")
    refused = api.post(
        "/funding/deposits",
        {"deposit_amount": "100.00", "remittance_id": 1, "trading_account_id": payout},
        token=client.token,
        headers=idempotency_key(),
    )
    assert refused.status == 422, refused.body
    assert refused.json()["field"] == "trading_account_id" and refused.json()["code"] == "record_type_refused"
    deposit(api, admin, client, client.accounts[0], "50.00")
    into = _transfer(api, client, client.accounts[0], payout)
    assert into.status == 422 and into.json()["field"] == "target_trading_account_id"
    assert into.json()["code"] == "record_type_refused"
    assert ledger.available(client.accounts[0]) == Decimal("50.00")  # nothing reserved, nothing moved
    assert ledger.available(payout) == Decimal("0")


# ---------------------------------------------------------------- input: ASCII digits, no control or bidi characters

ARABIC_300 = "\u0663\u0660\u0660"  # 300 in Arabic-Indic digits
FULLWIDTH_300 = "\uff13\uff10\uff10"  # 300 in fullwidth digits


@pytest.mark.parametrize("amount", [ARABIC_300, FULLWIDTH_300, f"{ARABIC_300}.00", "3\u0660\u0660"])
def test_amounts_take_ascii_digits_only(api: ApiClient, client: Client, amount: str) -> None:
    body = {"deposit_amount": amount, "remittance_id": 1, "trading_account_id": client.accounts[0]}
    draft = api.post("/funding/deposits", body, token=client.token, headers=idempotency_key())
    assert draft.status == 422 and draft.json()["field"] == "deposit_amount", draft.body
    quote = api.get(
        f"/funding/withdrawals/quote?remittance_id=11&withdrawal_amount={quote_url(amount)}&currency=USD",
        token=client.token,
    )
    assert quote.status == 422 and quote.json()["field"] == "withdrawal_amount", quote.body
    assert api.get("/funding/deposits", token=client.token).json()["total"] == 0  # no order was made


def test_history_times_take_ascii_digits_only(api: ApiClient, client: Client) -> None:
    arabic = "\u0662\u0660\u0662\u0666-01-01 00:00:00"  # ٢٠٢٦-01-01
    reply = api.get(f"/funding/deposits?start_time={quote_url(arabic)}", token=client.token)
    assert reply.status == 422 and reply.json()["field"] == "start_time", reply.body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"remark": "salary\x1b[8m"}, "remark"),
        ({"remark": "salary\x7f"}, "remark"),
        ({"remark": "salary\x85"}, "remark"),
        ({"remark": "line\u2028break"}, "remark"),
        ({"bank_transfer_info": BANK | {"bank_name": "Example \u202eknaB"}}, "bank_transfer_info.bank_name"),
        ({"bank_transfer_info": BANK | {"branch_name": "\u2067City\u2069"}}, "bank_transfer_info.branch_name"),
    ],
)
def test_free_text_refuses_control_and_bidi_characters(
    api: ApiClient, client: Client, change: dict[str, Any], field: str
) -> None:
    body = {"payment_method": "bank_transfer", "bank_transfer_info": BANK} | change
    reply = api.post("/funding/payment-accounts", body, token=client.token)
    assert reply.status == 422 and reply.json()["field"] == field, reply.body
    assert api.get("/funding/payment-accounts", token=client.token).json()["total"] == 0


def test_free_text_in_any_script_is_kept(api: ApiClient, client: Client) -> None:
    info = BANK | {"bank_name": "Banco São Paulo", "branch_name": "北京分行"}
    made = api.post(
        "/funding/payment-accounts",
        {"payment_method": "bank_transfer", "bank_transfer_info": info, "remark": "Gehalt für März"},
        token=client.token,
    )
    assert made.status == 201, made.body
    shown = api.get(f"/funding/payment-accounts/{made.json()['id']}", token=client.token).json()
    assert shown["bank_transfer_info"]["branch_name"] == "北京分行" and shown["remark"] == "Gehalt für März"
