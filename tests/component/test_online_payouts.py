"""Withdrawals paid out through the payment provider (the local stand-in, which
signs its payout callbacks as NOWPayments does), through the real handlers and
state machines on moto: approved → the payout is asked for once → its callback
settles it, or a failure gives the amount back; never sent twice."""

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from fxcrm import ledger
from fxcrm.adapters.payments.local import PAYOUT_STATUS, LocalPayments
from fxcrm.adapters.payments.nowpayments import SIGNATURE_HEADER, canonical, sign
from fxcrm.dal import funding as funding_dal
from fxcrm.dal.payments import get_local_invoice
from fxcrm.funding import orders, withdrawals
from fxcrm.funding.orders import WithdrawalOrder
from tests.support.api import ApiClient
from tests.support.journeys import (
    Client,
    approved_client,
    deposit,
    email_code,
    order_row,
    platform_balance,
    wait_for,
    withdrawal_quote,
)

ONLINE = 14  # the seeded online withdrawal channel (USDT, fee 1.00)
WALLET = {"currency": "USDT", "network": "TRC20", "wallet_address": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"}
CALLBACK = "/funding/psp/payout-callback"


@pytest.fixture
def client(api: ApiClient) -> Client:
    """A new client with approved KYC and one live account."""
    return approved_client(api, "payout", live_accounts=1)


def _secret() -> dict[str, Any]:
    from fxcrm.adapters.secrets import get_secret_json
    from fxcrm.core.settings import get_settings

    return dict(get_secret_json(get_settings().psp_secret_name, 0))


def _withdraw(api: ApiClient, admin: str, client: Client, amount: str) -> str:
    """An approved withdrawal to the online channel, whose payout is waiting at the provider."""
    quote = withdrawal_quote(api, client, amount, channel=ONLINE, currency="USDT")
    body = {
        "cryptocurrency_info": WALLET,
        "currency": "USDT",
        "email_code": email_code(api, client.email, client.token, "withdrawal"),
        "exchange_rate": quote["exchange_rate"],
        "fee": quote["fee"],
        "method": "cryptocurrency",
        "remittance_amount": quote["remittance_amount"],
        "remittance_id": ONLINE,
        "trading_account_id": client.accounts[0],
        "withdrawal_amount": amount,
    }
    reply = api.post("/funding/withdrawals", body, token=client.token, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status == 201, reply.body
    number = str(reply.json()["order_number"])
    order_id = int(number[1:])
    wait_for(lambda: api.get(f"/admin/approvals/{order_id}", token=admin).json(), "waiting")
    assert api.post(f"/admin/approvals/{order_id}/decision", {"decision": "approve"}, token=admin).status == 200
    wait_for(lambda: api.get(f"/admin/approvals/{order_id}", token=admin).json(), "completed")
    return number


def _payout_id(number: str) -> str:
    order = funding_dal.get_order(number)
    assert isinstance(order, WithdrawalOrder) and order.psp_payout_id is not None
    return order.psp_payout_id


def _payout_callback(api: ApiClient, number: str, outcome: str, key: str | None = None) -> Any:
    order = funding_dal.get_order(number)
    assert isinstance(order, WithdrawalOrder)
    invoice = get_local_invoice(str(order.psp_payout_id))
    assert invoice is not None
    payload = LocalPayments(_secret(), "").payout_payload(dict(invoice), PAYOUT_STATUS[outcome])
    signature = sign(key or _secret()["ipn_secret"], payload)
    return api.post(CALLBACK, body=canonical(payload), headers={SIGNATURE_HEADER: signature})


def test_an_approved_withdrawal_is_paid_through_the_provider_once_its_payout_is_sent(
    api: ApiClient, admin: str, client: Client
) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    number = _withdraw(api, admin, client, "200.00")
    order = funding_dal.get_order(number)
    assert isinstance(order, WithdrawalOrder)
    assert order.status == "auditing" and order.psp_payout_status == "WAITING"  # at the provider
    invoice = get_local_invoice(str(order.psp_payout_id)) or {}
    assert invoice["order_number"] == number and Decimal(str(invoice["amount"])) == Decimal("199.00")
    assert invoice["address"] == WALLET["wallet_address"]
    assert platform_balance(api, client, account) == Decimal("300.00")  # held
    assert _payout_callback(api, number, "pay").json()["result"] == "paid"
    assert _payout_callback(api, number, "pay").json()["result"] == "unchanged"
    wait_for(order_row(api, client, "withdrawals", number), "approved")
    from fxcrm.dal import ledger as ledger_dal

    txn = ledger_dal.get_transaction(f"wd-{number}")
    assert txn is not None and txn.status == "posted"
    assert platform_balance(api, client, account) == Decimal("300.00")
    assert ledger.available(account) == Decimal("300.00")


def test_a_failed_payout_gives_the_amount_back_once(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    number = _withdraw(api, admin, client, "200.00")
    assert platform_balance(api, client, account) == Decimal("300.00")
    forged = _payout_callback(api, number, "fail", key="not-the-secret")
    assert forged.status == 401 and forged.json()["code"] == "bad_signature"
    assert _payout_callback(api, number, "fail").json()["result"] == "refunded"
    assert _payout_callback(api, number, "fail").json()["result"] == "unchanged"
    assert _payout_callback(api, number, "pay").json()["result"] == "unchanged"  # too late: it failed
    row = wait_for(order_row(api, client, "withdrawals", number), "disapproved")
    assert "could not pay it out" in row["remark"]
    assert platform_balance(api, client, account) == Decimal("500.00")
    assert ledger.available(account) == Decimal("500.00")


def test_the_payout_is_never_asked_for_twice(api: ApiClient, admin: str, client: Client) -> None:
    """A repeated PayOut step finds the payout; one whose first attempt had no clear
    answer stops for staff and is not given back (it may have been sent)."""
    from fxcrm.core.settings import get_settings

    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    number = _withdraw(api, admin, client, "100.00")
    order_id = int(number[1:])
    first = _payout_id(number)
    assert withdrawals.pay_out(get_settings(), order_id, int(time.time())) == {"payout_reference": first}
    funding_dal.update_order(number, {"psp_payout_id": ""}, ("auditing",))  # as if the answer was lost
    with pytest.raises(orders.PlatformRefused, match="may have been sent"):
        withdrawals.pay_out(get_settings(), order_id, int(time.time()))
    with pytest.raises(orders.PlatformRefused, match="paid out already"):
        withdrawals.compensate(get_settings(), order_id, "failed", "", int(time.time()))
    assert platform_balance(api, client, account) == Decimal("400.00")  # still held, for staff to settle


def test_when_the_payout_callback_is_lost_staff_look_the_outcome_up(api: ApiClient, admin: str, client: Client) -> None:
    """The stand-in's page decides the payout, but its callback never arrives: staff
    ask the provider, and the failed payout gives the amount back, once."""
    account = client.accounts[0]
    deposit(api, admin, client, account, "500.00")
    number = _withdraw(api, admin, client, "150.00")
    refresh = f"/admin/funding/withdrawals/{number}/payout-status"
    waiting = api.post(refresh, token=admin).json()
    assert (waiting["result"], waiting["status"], waiting["psp_payout_status"]) == ("waiting", "auditing", "WAITING")
    payout_id = _payout_id(number)
    provider = LocalPayments(_secret(), "")
    provider.record_outcome(dict(get_local_invoice(payout_id) or {}), "fail")  # the page was used; no callback came
    assert platform_balance(api, client, account) == Decimal("350.00")
    looked_up = api.post(refresh, token=admin).json()
    assert (looked_up["result"], looked_up["status"], looked_up["psp_payout_status"]) == (
        "refunded",
        "disapproved",
        "FAILED",
    )
    assert api.post(refresh, token=admin).json()["result"] == "unchanged"
    assert platform_balance(api, client, account) == Decimal("500.00")
    assert ledger.available(account) == Decimal("500.00")
    assert api.post("/admin/funding/withdrawals/W1/payout-status", token=admin).status == 404
    assert api.post(refresh, token=client.token).status in (401, 403)
