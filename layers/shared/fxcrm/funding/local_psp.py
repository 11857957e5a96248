"""The local stand-in payment page's logic (fxcrm.adapters.payments.local): the
page shows an invoice; its form's POST, which must carry the page's token, sends
the provider's signed callback (pay or fail) and goes back to the portal."""

import hmac
from decimal import Decimal
from typing import Any

from fxcrm.adapters.payments import PaymentsUnavailable
from fxcrm.adapters.payments.local import LocalPayments
from fxcrm.adapters.payments.providers import local_payments
from fxcrm.core.errors import Forbidden, NotFound, ProviderUnavailable
from fxcrm.core.money import show
from fxcrm.core.settings import Settings


def _open(settings: Settings, invoice_id: str, api_base: str) -> tuple[LocalPayments, dict[str, Any]]:
    try:
        provider = local_payments(settings, api_base)
    except LookupError as error:
        raise NotFound("the local payment page is off", "invoice_id") from error
    invoice = provider.invoice(invoice_id)
    if invoice is None:
        raise NotFound("no such payment", "invoice_id")
    return provider, invoice


def page(settings: Settings, invoice_id: str, api_base: str) -> dict[str, str]:
    provider, invoice = _open(settings, invoice_id, api_base)
    currency = str(invoice["currency"])
    return {
        "what": "Payout" if invoice.get("type") == "payout" else "Deposit",
        "order": str(invoice["order_number"]),
        "amount": show(Decimal(str(invoice["amount"])), currency),
        "currency": currency,
        "token": provider.page_token(invoice_id),
    }


def choose(settings: Settings, invoice_id: str, outcome: str, token: str, api_base: str) -> str:
    """Send the callback for pay or fail (none for cancel); where to go next."""
    provider, invoice = _open(settings, invoice_id, api_base)
    if not hmac.compare_digest(provider.page_token(invoice_id), token):
        raise Forbidden("the page's token does not match", "token", "bad_token")
    if outcome in ("pay", "fail"):
        provider.record_outcome(invoice, outcome)
        try:
            provider.send_callback(invoice, outcome)
        except PaymentsUnavailable as error:
            raise ProviderUnavailable(str(error)) from error
    return str(invoice["success_url"] if outcome == "pay" else invoice["cancel_url"])
