"""The local stand-in PSP: a payment page of our own (`/funding/psp/local/{invoice}`)
whose pay and fail buttons send the callback NOWPayments would, signed the same way
(HMAC-SHA512 of the sorted JSON under the `ipn_secret`), to the callback URL.
A GET only shows the buttons; the POST must carry the page's token. A stack
with `Stage=prod` cannot select it (template Rules, and the settings refuse it)."""

import hashlib
import hmac
import uuid
from decimal import Decimal
from typing import Any

from fxcrm.adapters.payments import (
    Checkout,
    PaymentEvent,
    PaymentRequest,
    PaymentsUnavailable,
    PayoutEvent,
    PayoutRequest,
)
from fxcrm.adapters.payments.nowpayments import (
    PAYOUT_OUTCOMES,
    SIGNATURE_HEADER,
    canonical,
    event_from,
    ipn_secrets,
    payout_event_from,
    sign,
    verify,
)
from fxcrm.core import ids
from fxcrm.dal import payments as dal
from fxcrm.dal.table import plain

# The page's buttons and the NOWPayments status each one reports (payments; payouts).
OUTCOME_STATUS = {"pay": "finished", "fail": "failed"}
PAYOUT_STATUS = {"pay": "FINISHED", "fail": "FAILED"}


class LocalPayments:
    name = "local"

    def __init__(self, secret: dict[str, Any], api_base: str) -> None:
        self._secret = secret
        self._api_base = api_base.rstrip("/")

    def create_payment(self, request: PaymentRequest) -> Checkout:
        invoice_id = uuid.uuid4().hex
        dal.put_local_invoice(
            {
                "invoice_id": invoice_id,
                "payment_id": str(ids.new_id()),
                "order_number": request.order_number,
                "amount": request.amount,
                "currency": request.currency,
                "callback_url": request.callback_url,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "status": "waiting",
            }
        )
        return Checkout(invoice_id=invoice_id, pay_url=f"{self._api_base}/funding/psp/local/{invoice_id}")

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> PaymentEvent:
        return event_from(verify(ipn_secrets(self._secret), body, headers))

    def lookup(self, payment_id: str) -> PaymentEvent:
        raise PaymentsUnavailable("the local stand-in reports by callback only")

    def create_payout(self, request: PayoutRequest) -> PayoutEvent:
        """A payout waiting on the stand-in's page, which sends it or fails it.
        Keyed by the order number, so asking twice makes one payout."""
        invoice_id = uuid.uuid5(uuid.NAMESPACE_URL, f"fxcrm-local-payout:{request.order_number}").hex
        record = {
            "invoice_id": invoice_id,
            "type": "payout",
            "payment_id": str(ids.new_id()),
            "order_number": request.order_number,
            "amount": request.amount,
            "currency": request.currency,
            "address": request.address,
            "callback_url": request.callback_url,
            "success_url": f"{self._api_base}/funding/psp/local/{invoice_id}",
            "cancel_url": f"{self._api_base}/funding/psp/local/{invoice_id}",
        }
        dal.put_local_invoice_once(record)  # a second ask finds the first
        return PayoutEvent(invoice_id, request.order_number, "WAITING", "waiting")

    def payout_status(self, payout_id: str) -> PayoutEvent:
        invoice = dal.get_local_invoice(payout_id)
        if invoice is None:
            raise PaymentsUnavailable("no such payout at the stand-in")
        status = str(invoice.get("status", "WAITING"))
        return PayoutEvent(payout_id, str(invoice["order_number"]), status, PAYOUT_OUTCOMES.get(status, "waiting"))

    def record_outcome(self, invoice: dict[str, Any], outcome: str) -> None:
        """What the page's button decided, kept so a look-up finds it when a callback is lost."""
        if invoice.get("type") == "payout":
            dal.set_local_invoice_status(str(invoice["invoice_id"]), PAYOUT_STATUS[outcome])

    def parse_payout_callback(self, body: bytes, headers: dict[str, str]) -> PayoutEvent:
        payload = verify(ipn_secrets(self._secret), body, headers)
        found = payout_event_from(payload)
        return PayoutEvent(str(payload.get("batch_withdrawal_id")), found.order_number, found.status, found.outcome)

    # ------------------------------------------------------------ the page

    def page_token(self, invoice_id: str) -> str:
        """Binds the page's form to one invoice, keyed with the IPN secret."""
        key = self._secret["ipn_secret"].encode()
        return hmac.new(key, f"local-psp:{invoice_id}".encode(), hashlib.sha256).hexdigest()

    def invoice(self, invoice_id: str) -> dict[str, Any] | None:
        found = dal.get_local_invoice(invoice_id)
        return dict(plain(found)) if found else None

    def callback_payload(self, invoice: dict[str, Any], status: str) -> dict[str, Any]:
        amount = Decimal(str(invoice["amount"]))
        return {
            "payment_id": int(invoice["payment_id"]),
            "invoice_id": invoice["invoice_id"],
            "payment_status": status,
            "order_id": invoice["order_number"],
            "order_description": f"Deposit {invoice['order_number']}",
            "price_amount": float(amount),
            "price_currency": str(invoice["currency"]).lower(),
            "pay_amount": float(amount),
            "actually_paid": float(amount) if status == "finished" else 0,
            "pay_currency": "usdttrc20",
            "outcome_amount": float(amount),
            "outcome_currency": "usdttrc20",
        }

    def payout_payload(self, invoice: dict[str, Any], status: str) -> dict[str, Any]:
        return {
            "id": invoice["payment_id"],
            "batch_withdrawal_id": invoice["invoice_id"],
            "status": status,
            "unique_external_id": invoice["order_number"],
            "address": invoice.get("address", ""),
            "amount": str(invoice["amount"]),
            "currency": str(invoice["currency"]).lower(),
            "hash": f"local-{invoice['payment_id']}" if status == "FINISHED" else None,
            "error": "declined by the stand-in" if status == "FAILED" else None,
        }

    def send_callback(self, invoice: dict[str, Any], outcome: str) -> None:
        """POST the signed callback to the callback URL, as the provider would."""
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        if invoice.get("type") == "payout":
            payload = self.payout_payload(invoice, PAYOUT_STATUS[outcome])
        else:
            payload = self.callback_payload(invoice, OUTCOME_STATUS[outcome])
        headers = {SIGNATURE_HEADER: sign(self._secret["ipn_secret"], payload), "Content-Type": "application/json"}
        try:
            httpx.post(str(invoice["callback_url"]), content=canonical(payload), headers=headers, timeout=20)
        except httpx.HTTPError as error:
            raise PaymentsUnavailable("the callback could not be delivered") from error
