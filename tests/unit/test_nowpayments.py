"""The NOWPayments client against a fake NOWPayments on loopback
(tests/support/fake_nowpayments.py): the invoice request, the IPN signature
both ways, the provider's error bodies, timeouts and retries."""

import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from fxcrm.adapters.payments import BadSignature, PaymentRefused, PaymentRequest, PaymentsUnavailable, PayoutRequest
from fxcrm.adapters.payments.nowpayments import NowPayments, canonical, sign
from tests.support.fake_nowpayments import FakeNowPayments, nowpayments_signature

REQUEST = PaymentRequest(
    order_number="D123",
    amount=Decimal("250.50"),
    currency="USD",
    description="Deposit D123",
    callback_url="https://api.broker.example/funding/psp/callback",
    success_url="https://portal.broker.example/deposits?order_number=D123",
    cancel_url="https://portal.broker.example/deposits?order_number=D123",
)


@pytest.fixture
def fake() -> Iterator[FakeNowPayments]:
    server = FakeNowPayments()
    yield server
    server.close()


def _client(fake: FakeNowPayments, timeout: float = 5, **secret: str) -> NowPayments:
    keys = {
        "api_key": "NP-KEY-1",
        "ipn_secret": "ipn-secret-1",
        "email": "finance@broker.example.com",
        "password": "np-password",
        "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    } | secret
    return NowPayments(keys, httpx.Client(base_url=fake.url, timeout=timeout))


def test_an_invoice_carries_the_order_and_answers_its_payment_page(fake: FakeNowPayments) -> None:
    checkout = _client(fake).create_payment(REQUEST)
    invoice = fake.state.invoices[checkout.invoice_id]
    assert checkout.pay_url == f"https://nowpayments.io/payment/?iid={checkout.invoice_id}"
    assert invoice["order_id"] == "D123" and invoice["price_amount"] == "250.5" and invoice["price_currency"] == "usd"
    assert invoice["ipn_callback_url"] == REQUEST.callback_url and invoice["success_url"] == REQUEST.success_url


def test_the_providers_ipn_verifies_and_reads_as_a_paid_event(fake: FakeNowPayments) -> None:
    client = _client(fake)
    checkout = client.create_payment(REQUEST)
    payment, headers = fake.pay(checkout.invoice_id)
    event = client.parse_callback(json.dumps(payment).encode(), headers)
    assert (event.order_number, event.outcome, event.status) == ("D123", "paid", "finished")
    assert (event.amount, event.currency) == (Decimal("250.5"), "USD")
    assert event.payment_id == str(payment["payment_id"])


def test_our_signature_is_the_providers(fake: FakeNowPayments) -> None:
    """The stand-in signs with `sign`: the provider's own construction gives the same."""
    payment, headers = fake.pay(_client(fake).create_payment(REQUEST).invoice_id)
    assert sign("ipn-secret-1", payment) == headers["x-nowpayments-sig"]
    assert nowpayments_signature("ipn-secret-1", json.loads(canonical(payment))) == headers["x-nowpayments-sig"]


def test_a_forged_or_altered_ipn_is_refused(fake: FakeNowPayments) -> None:
    client = _client(fake)
    payment, headers = fake.pay(client.create_payment(REQUEST).invoice_id)
    altered = json.dumps(payment | {"price_amount": 25050.0}).encode()
    with pytest.raises(BadSignature):
        client.parse_callback(altered, headers)
    with pytest.raises(BadSignature):
        client.parse_callback(json.dumps(payment).encode(), {})
    with pytest.raises(BadSignature):
        client.parse_callback(json.dumps(payment).encode(), {"x-nowpayments-sig": sign("another", payment)})
    with pytest.raises(BadSignature):
        client.parse_callback(b"not json", headers)


def test_during_a_key_rotation_the_previous_ipn_secret_still_verifies(fake: FakeNowPayments) -> None:
    payment, headers = fake.pay(_client(fake).create_payment(REQUEST).invoice_id)
    rotated = _client(fake, ipn_secret="ipn-secret-2", previous_ipn_secret="ipn-secret-1")
    assert rotated.parse_callback(json.dumps(payment).encode(), headers).outcome == "paid"
    done = _client(fake, ipn_secret="ipn-secret-2")
    with pytest.raises(BadSignature):
        done.parse_callback(json.dumps(payment).encode(), headers)


def test_a_payment_is_looked_up_by_id(fake: FakeNowPayments) -> None:
    client = _client(fake)
    payment, _ = fake.pay(client.create_payment(REQUEST).invoice_id, status="refunded")
    event = client.lookup(str(payment["payment_id"]))
    assert (event.outcome, event.order_number) == ("reversed", "D123")
    with pytest.raises(PaymentRefused) as missing:
        client.lookup("1")
    assert missing.value.code == "PAYMENT_NOT_FOUND"


def test_the_providers_error_bodies_are_refusals_with_their_code(fake: FakeNowPayments) -> None:
    with pytest.raises(PaymentRefused) as wrong_key:
        _client(fake, api_key="stolen").create_payment(REQUEST)
    assert (wrong_key.value.code, wrong_key.value.message) == ("INVALID_API_KEY", "Invalid api key")


def test_reads_are_retried_through_passing_failures_and_give_up_after(fake: FakeNowPayments) -> None:
    client = _client(fake)
    payment, _ = fake.pay(client.create_payment(REQUEST).invoice_id)
    fake.state.fail_next = 2
    assert client.lookup(str(payment["payment_id"])).outcome == "paid"
    fake.state.fail_next = 3
    with pytest.raises(PaymentsUnavailable):
        client.lookup(str(payment["payment_id"]))


def test_an_invoice_is_not_sent_twice_when_the_provider_may_have_made_it(fake: FakeNowPayments) -> None:
    """A 5xx or a timeout on POST may have created the invoice: no blind second POST."""
    fake.state.fail_next = 1
    with pytest.raises(PaymentsUnavailable):
        _client(fake).create_payment(REQUEST)
    fake.state.delay_next = 1.0
    with pytest.raises(PaymentsUnavailable):
        _client(fake, timeout=0.2).create_payment(REQUEST)
    assert [r for r in fake.state.requests if r[0] == "POST"] == [("POST", "/v1/invoice")] * 2


def test_a_provider_that_is_down_is_unavailable() -> None:
    down = FakeNowPayments()
    url = down.url
    down.close()
    client = NowPayments({"api_key": "k", "ipn_secret": "s"}, httpx.Client(base_url=url, timeout=2))
    with pytest.raises(PaymentsUnavailable):
        client.create_payment(REQUEST)


def test_a_prod_stage_refuses_the_local_stand_in() -> None:
    from pydantic import ValidationError

    from fxcrm.core.settings import Settings

    with pytest.raises(ValidationError, match="PAYMENT_PROVIDER=local"):
        Settings(stage="prod", payment_provider="local")
    assert Settings(stage="prod", payment_provider="nowpayments").payment_provider == "nowpayments"


PAYOUT = PayoutRequest(
    order_number="W77",
    amount=Decimal("199.00"),
    currency="USDT",
    network="TRC20",
    address="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
    callback_url="https://api.broker.example/funding/psp/payout-callback",
)


def test_a_payout_is_created_with_the_order_number_as_its_key_and_verified_by_2fa(fake: FakeNowPayments) -> None:
    created = _client(fake).create_payout(PAYOUT)
    batch = fake.state.payouts[created.payout_id]
    row = batch["withdrawals"][0]
    assert (created.order_number, created.status, created.outcome) == ("W77", "WAITING", "waiting")
    assert row["unique_external_id"] == "W77" and row["currency"] == "usdttrc20" and row["amount"] == "199.0"
    assert row["address"] == PAYOUT.address and row["ipn_callback_url"] == PAYOUT.callback_url
    assert batch["verified"]  # the 2FA code was accepted


def test_a_payouts_outcome_by_lookup_and_by_its_signed_callback(fake: FakeNowPayments) -> None:
    client = _client(fake)
    created = client.create_payout(PAYOUT)
    row, headers = fake.settle_payout(created.payout_id, "FAILED")
    looked_up = client.payout_status(created.payout_id)
    assert (looked_up.outcome, looked_up.order_number) == ("failed", "W77")
    event = client.parse_payout_callback(json.dumps(row).encode(), headers)
    assert (event.payout_id, event.order_number, event.outcome) == (created.payout_id, "W77", "failed")
    with pytest.raises(BadSignature):
        client.parse_payout_callback(json.dumps(row | {"status": "FINISHED"}).encode(), headers)


def test_payout_refusals_carry_the_providers_code(fake: FakeNowPayments) -> None:
    with pytest.raises(PaymentRefused) as login:
        _client(fake, password="wrong").create_payout(PAYOUT)
    assert login.value.code == "INVALID_CREDENTIALS"
    with pytest.raises(PaymentRefused) as code:
        _client(fake, totp_secret="KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU").create_payout(PAYOUT)
    assert code.value.code == "INVALID_VERIFICATION_CODE"
    with pytest.raises(PaymentRefused) as network:
        _client(fake).create_payout(PayoutRequest("W78", Decimal("5"), "USDT", "SOL", "x", ""))
    assert network.value.code == "UNSUPPORTED_CURRENCY"
    assert len(fake.state.payouts) == 1  # only the one whose 2FA failed was created
