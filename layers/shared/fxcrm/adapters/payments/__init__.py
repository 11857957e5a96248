"""The payment service provider (PSP) port: online deposits and their callbacks.

An adapter creates a payment for a deposit order (a page to send the client
to), verifies and reads the provider's signed callback, and looks a payment up
by its id. Adapters, chosen by `PAYMENT_PROVIDER`:

- `nowpayments` (`fxcrm.adapters.payments.nowpayments`): NOWPayments' REST API
  (`x-api-key`) and its IPN callbacks (`x-nowpayments-sig`, HMAC-SHA512).
- `local` (`fxcrm.adapters.payments.local`): a stand-in page of our own that
  sends the very same signed callbacks; a `Stage=prod` stack cannot select it.

Statuses are the provider's own words, mapped to what fxcrm acts on."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

# What fxcrm does with a payment's status: credit it, end it, undo it, or wait.
Outcome = Literal["paid", "failed", "reversed", "waiting"]


class BadSignature(Exception):
    """A callback whose signature does not verify: forged, or signed with another key."""


class PaymentsUnavailable(Exception):
    """The provider did not answer (timeout, 5xx) after the retries: try again later."""


class NotSent(PaymentsUnavailable):
    """The request never reached the provider (no connection): sending it again is safe."""


class PaymentRefused(Exception):
    """The provider refused the request for good (its error body's code and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Checkout:
    """Where the client pays: `pay_url` is a page of the provider's; `invoice_id`
    is the provider's id of it (the payment id comes with the first callback)."""

    invoice_id: str
    pay_url: str


@dataclass(frozen=True)
class PaymentEvent:
    """One status of one payment, as a callback or a lookup reports it."""

    payment_id: str
    order_number: str
    status: str  # the provider's word (NOWPayments: waiting, finished, failed, refunded, ...)
    outcome: Outcome
    amount: Decimal  # the price the payment was created for
    currency: str  # upper case (ISO 4217)


@dataclass(frozen=True)
class PaymentRequest:
    order_number: str
    amount: Decimal
    currency: str
    description: str
    callback_url: str  # the public callback endpoint (POST /funding/psp/callback)
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class PayoutRequest:
    order_number: str  # also the provider's idempotency key (NOWPayments' unique_external_id)
    amount: Decimal
    currency: str  # the payout currency (USDT, BTC, ...)
    network: str  # the wallet's network (TRC20, ERC20, BTC)
    address: str
    callback_url: str  # POST /funding/psp/payout-callback


@dataclass(frozen=True)
class PayoutEvent:
    """A payout's status, as created, looked up or reported by callback."""

    payout_id: str
    order_number: str
    status: str  # the provider's word (NOWPayments: WAITING, SENDING, FINISHED, FAILED, REJECTED, ...)
    outcome: Outcome  # paid (sent), failed (nothing sent), waiting


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> Checkout: ...

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> PaymentEvent:
        """Verify the signature (BadSignature if it fails) and read the event."""
        ...

    def lookup(self, payment_id: str) -> PaymentEvent: ...

    def create_payout(self, request: PayoutRequest) -> PayoutEvent: ...

    def payout_status(self, payout_id: str) -> PayoutEvent: ...

    def parse_payout_callback(self, body: bytes, headers: dict[str, str]) -> PayoutEvent: ...
