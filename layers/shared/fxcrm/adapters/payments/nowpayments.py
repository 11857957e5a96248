"""NOWPayments (https://nowpayments.io), a crypto payment processor, on httpx.

- `POST /v1/invoice` with `x-api-key`: an invoice for the order (`price_amount`,
  `price_currency`, `order_id` = the order number, `ipn_callback_url`,
  `success_url`, `cancel_url`); its `invoice_url` is the client's payment page.
- IPN callbacks: the JSON body with its keys sorted, HMAC-SHA512 under the IPN
  secret, hex, in `x-nowpayments-sig`.
- `GET /v1/payment/{payment_id}`: a payment's current status (polling).
- Payouts: `POST /v1/auth` (the account's email and password) gives a bearer token;
  `POST /v1/payout` with it creates a batch of one withdrawal whose
  `unique_external_id` is the order number; `POST /v1/payout/{id}/verify` confirms
  it with the account's 2FA code (TOTP of `totp_secret`); `GET /v1/payout/{id}` and
  the payout IPN (signed as above) report its status.
- Errors: `{"status": false, "statusCode": 400, "code": "...", "message": "..."}`.

Timeouts and 5xx answers are retried (`RETRIES` times, each request the same);
an invoice is only re-sent when the first attempt never reached the provider.
Secrets (Secrets Manager, `PSP_SECRET_NAME`): `api_key`, `ipn_secret`, and
optionally `base_url` (the sandbox: https://api-sandbox.nowpayments.io); for
payouts also `email`, `password` and `totp_secret`."""

import hashlib
import hmac
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyotp

from fxcrm.adapters.payments import (
    BadSignature,
    Checkout,
    NotSent,
    Outcome,
    PaymentEvent,
    PaymentRefused,
    PaymentRequest,
    PaymentsUnavailable,
    PayoutEvent,
    PayoutRequest,
)
from fxcrm.core.observability import logger

if TYPE_CHECKING:
    import httpx

API_URL = "https://api.nowpayments.io"
SIGNATURE_HEADER = "x-nowpayments-sig"
RETRIES = 2
# NOWPayments' payment statuses and what fxcrm does on each.
OUTCOMES: dict[str, Outcome] = {
    "waiting": "waiting",
    "confirming": "waiting",
    "confirmed": "waiting",
    "sending": "waiting",
    "partially_paid": "waiting",  # less than the price arrived: staff look at it
    "finished": "paid",
    "failed": "failed",
    "expired": "failed",
    "refunded": "reversed",
}

PAYOUT_OUTCOMES: dict[str, Outcome] = {"FINISHED": "paid", "FAILED": "failed", "REJECTED": "failed"}
# NOWPayments' currency codes name the network: (currency, network) -> code.
PAYOUT_CURRENCIES = {("USDT", "TRC20"): "usdttrc20", ("USDT", "ERC20"): "usdterc20", ("BTC", "BTC"): "btc"}


def canonical(payload: dict[str, Any]) -> bytes:
    """What NOWPayments signs: JSON.stringify(params, Object.keys(params).sort())."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(ipn_secret: str, payload: dict[str, Any]) -> str:
    return hmac.new(ipn_secret.encode(), canonical(payload), hashlib.sha512).hexdigest()


def ipn_secrets(secret: dict[str, Any]) -> list[str]:
    """The IPN secret, and while a rotation is under way the one before it."""
    return [str(key) for key in (secret.get("ipn_secret"), secret.get("previous_ipn_secret")) if key]


def verify(keys: list[str], body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The callback's payload if its signature verifies under one of the IPN secrets."""
    given = headers.get(SIGNATURE_HEADER, "")
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise BadSignature("the body is not JSON") from error
    if not keys or not given or not isinstance(payload, dict):
        raise BadSignature("missing signature")
    if not any(hmac.compare_digest(sign(key, payload), given.lower()) for key in keys):
        raise BadSignature("the signature does not match")
    return payload


def event_from(payload: dict[str, Any]) -> PaymentEvent:
    status = str(payload.get("payment_status", ""))
    return PaymentEvent(
        payment_id=str(payload.get("payment_id", "")),
        order_number=str(payload.get("order_id") or ""),
        status=status,
        outcome=OUTCOMES.get(status, "waiting"),
        amount=Decimal(str(payload.get("price_amount") or "0")),
        currency=str(payload.get("price_currency") or "").upper(),
    )


def payout_event_from(payload: dict[str, Any]) -> PayoutEvent:
    status = str(payload.get("status", "")).upper()
    return PayoutEvent(
        payout_id=str(payload.get("id", "")),
        order_number=str(payload.get("unique_external_id") or ""),
        status=status,
        outcome=PAYOUT_OUTCOMES.get(status, "waiting"),
    )


class NowPayments:
    name = "nowpayments"

    def __init__(self, secret: dict[str, Any], http: "httpx.Client | None" = None) -> None:
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        self._secret = secret
        self._http = http or httpx.Client(base_url=secret.get("base_url") or API_URL, timeout=10)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, bearer: str = "") -> Any:
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        headers = {"x-api-key": self._secret["api_key"], "Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                response = self._http.request(method, path, json=body, headers=headers)
            except httpx.ConnectError as error:  # never reached the provider: safe to send again
                if last:
                    raise NotSent("the payment provider did not answer") from error
                continue
            except httpx.TimeoutException as error:
                # A POST that timed out may have been done: only reads are sent again.
                if last or method != "GET":
                    raise PaymentsUnavailable("the payment provider did not answer in time") from error
                continue
            if response.status_code >= 500:
                if last or method != "GET":
                    raise PaymentsUnavailable(f"the payment provider answered {response.status_code}")
                continue
            answer = response.json() if response.content else {}
            if response.status_code >= 400:
                code, message = str(answer.get("code", response.status_code)), str(answer.get("message", ""))
                logger.error("nowpayments refused", extra={"status": response.status_code, "code": code})
                raise PaymentRefused(code, message)
            return answer
        raise AssertionError("unreachable")

    def create_payment(self, request: PaymentRequest) -> Checkout:
        answer: dict[str, Any] = self._request(
            "POST",
            "/v1/invoice",
            {
                "price_amount": float(request.amount),
                "price_currency": request.currency.lower(),
                "order_id": request.order_number,
                "order_description": request.description,
                "ipn_callback_url": request.callback_url,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
            },
        )
        return Checkout(invoice_id=str(answer["id"]), pay_url=str(answer["invoice_url"]))

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> PaymentEvent:
        return event_from(verify(ipn_secrets(self._secret), body, headers))

    def lookup(self, payment_id: str) -> PaymentEvent:
        return event_from(self._request("GET", f"/v1/payment/{payment_id}"))

    # ------------------------------------------------------------ payouts

    def _token(self) -> str:
        answer = self._request(
            "POST", "/v1/auth", {"email": self._secret["email"], "password": self._secret["password"]}
        )
        return str(answer["token"])

    def create_payout(self, request: PayoutRequest) -> PayoutEvent:
        code = PAYOUT_CURRENCIES.get((request.currency, request.network))
        if code is None:
            raise PaymentRefused("UNSUPPORTED_CURRENCY", f"{request.currency} on {request.network} is not paid out")
        token = self._token()
        callback = request.callback_url
        withdrawal = {
            "address": request.address,
            "currency": code,
            "amount": float(request.amount),
            "ipn_callback_url": callback,
            "unique_external_id": request.order_number,
        }
        batch = self._request("POST", "/v1/payout", {"ipn_callback_url": callback, "withdrawals": [withdrawal]}, token)
        if self._secret.get("totp_secret"):  # confirm with the 2FA code, as the dashboard would
            code_now = pyotp.TOTP(str(self._secret["totp_secret"])).now()
            self._request("POST", f"/v1/payout/{batch['id']}/verify", {"verification_code": code_now}, token)
        created = payout_event_from(batch["withdrawals"][0])
        return PayoutEvent(str(batch["id"]), request.order_number, created.status, created.outcome)

    def payout_status(self, payout_id: str) -> PayoutEvent:
        answer = self._request("GET", f"/v1/payout/{payout_id}", bearer=self._token())
        rows = answer if isinstance(answer, list) else answer.get("withdrawals", [answer])
        found = payout_event_from(rows[0])
        return PayoutEvent(payout_id, found.order_number, found.status, found.outcome)

    def parse_payout_callback(self, body: bytes, headers: dict[str, str]) -> PayoutEvent:
        payload = verify(ipn_secrets(self._secret), body, headers)
        found = payout_event_from(payload)
        batch = str(payload.get("batch_withdrawal_id") or found.payout_id)
        return PayoutEvent(batch, found.order_number, found.status, found.outcome)
