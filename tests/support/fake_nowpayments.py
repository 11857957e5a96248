"""A fake NOWPayments API on loopback, written for the tests, speaking the
documented protocol: `x-api-key` on every call, `POST /v1/invoice` answering an
invoice with its `invoice_url`, `GET /v1/payment/{id}`, the error body
`{"status": false, "statusCode": ..., "code": ..., "message": ...}`, and IPN
callbacks signed as NOWPayments signs them (its own implementation here: the
body's keys sorted, HMAC-SHA512 under the IPN secret, in `x-nowpayments-sig`)."""

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import httpx

from tests.support.fake_http import JsonHandler

REQUIRED = ("price_amount", "price_currency")


def nowpayments_signature(ipn_secret: str, params: dict[str, Any]) -> str:
    """JSON.stringify(params, Object.keys(params).sort()) signed with HMAC-SHA512, as in the docs."""
    ordered = {key: params[key] for key in sorted(params)}
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(ipn_secret.encode(), text.encode(), hashlib.sha512).hexdigest()


@dataclass
class FakeNowPaymentsState:
    api_key: str
    ipn_secret: str
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(4522625843))
    requests: list[tuple[str, str]] = field(default_factory=list)
    email: str = "finance@broker.example.com"
    password: str = "np-password"
    totp_secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    tokens: set[str] = field(default_factory=set)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0  # answer this many requests with 502
    delay_next: float = 0.0  # hold the next request this long (a timeout for a short-timeout client)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(JsonHandler):
    state: FakeNowPaymentsState

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        self.send_json(status, payload)

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, {"status": False, "statusCode": status, "code": code, "message": message})

    def _handle(self, method: str) -> None:
        state = self.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with state.lock:
            state.requests.append((method, self.path))
            failing, state.fail_next = state.fail_next > 0, max(0, state.fail_next - 1)
            delay, state.delay_next = state.delay_next, 0.0
        if delay:
            time.sleep(delay)
        if failing:
            self._error(502, "BAD_GATEWAY", "upstream unavailable")
            return
        if self.headers.get("x-api-key") != state.api_key:
            self._error(403, "INVALID_API_KEY", "Invalid api key")
            return
        if method == "POST" and self.path == "/v1/auth":
            body = json.loads(raw or b"{}")
            if (body.get("email"), body.get("password")) != (state.email, state.password):
                self._error(401, "INVALID_CREDENTIALS", "Invalid email or password")
                return
            token = f"jwt-{next(state.ids)}"
            state.tokens.add(token)
            self._reply(200, {"token": token})
            return
        if self.path.startswith("/v1/payout"):
            self._payout(method, raw)
            return
        if method == "POST" and self.path == "/v1/invoice":
            body = json.loads(raw or b"{}")
            missing = [name for name in REQUIRED if name not in body]
            if missing:
                self._error(400, "INVALID_REQUEST_PARAMS", f'"{missing[0]}" is required')
                return
            invoice_id = str(next(state.ids))
            invoice = {
                "id": invoice_id,
                "token_id": "kd3gqfp8",
                "order_id": body.get("order_id"),
                "order_description": body.get("order_description"),
                "price_amount": str(body["price_amount"]),
                "price_currency": body["price_currency"],
                "pay_currency": None,
                "ipn_callback_url": body.get("ipn_callback_url"),
                "invoice_url": f"https://nowpayments.io/payment/?iid={invoice_id}",
                "success_url": body.get("success_url"),
                "cancel_url": body.get("cancel_url"),
                "created_at": "2026-12-01T11:00:00.000Z",
                "updated_at": "2026-12-01T11:00:00.000Z",
            }
            with state.lock:
                state.invoices[invoice_id] = invoice
            self._reply(200, invoice)
            return
        if method == "GET" and self.path.startswith("/v1/payment/"):
            payment = state.payments.get(self.path.removeprefix("/v1/payment/"))
            if payment is None:
                self._error(404, "PAYMENT_NOT_FOUND", "Payment not found")
                return
            self._reply(200, payment)
            return
        self._error(404, "NOT_FOUND", "Not found")

    def _payout(self, method: str, raw: bytes) -> None:
        import pyotp

        state = self.state
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in state.tokens:
            self._error(401, "AUTH_REQUIRED", "Authorization header is empty (Bearer JWTtoken is required)")
            return
        body = json.loads(raw or b"{}")
        parts = self.path.strip("/").split("/")  # v1, payout[, id[, verify]]
        if method == "POST" and len(parts) == 2:
            batch_id = str(next(state.ids))
            rows = [
                w
                | {
                    "id": str(next(state.ids)),
                    "batch_withdrawal_id": batch_id,
                    "status": "WAITING",
                    "amount": str(w["amount"]),
                    "hash": None,
                    "error": None,
                }
                for w in body.get("withdrawals", [])
            ]
            with state.lock:
                state.payouts[batch_id] = {"id": batch_id, "withdrawals": rows, "verified": False}
            self._reply(200, {"id": batch_id, "withdrawals": rows})
            return
        batch = state.payouts.get(parts[2]) if len(parts) > 2 else None
        if batch is None:
            self._error(404, "PAYOUT_NOT_FOUND", "Payout not found")
            return
        if method == "POST" and parts[3:] == ["verify"]:
            if not pyotp.TOTP(state.totp_secret).verify(str(body.get("verification_code")), valid_window=1):
                self._error(400, "INVALID_VERIFICATION_CODE", "Invalid verification code")
                return
            batch["verified"] = True
            self._reply(200, {"result": "OK"})
            return
        self._reply(200, batch["withdrawals"])

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class FakeNowPayments:
    def __init__(self, api_key: str = "NP-KEY-1", ipn_secret: str = "ipn-secret-1") -> None:
        self.state = FakeNowPaymentsState(api_key, ipn_secret)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pay(self, invoice_id: str, status: str = "finished") -> tuple[dict[str, Any], dict[str, str]]:
        """The customer pays the invoice: the payment, and the signed IPN NOWPayments sends for it."""
        invoice = self.state.invoices[invoice_id]
        payment_id = str(next(self.state.ids))
        payment = {
            "payment_id": int(payment_id),
            "invoice_id": int(invoice_id),
            "payment_status": status,
            "pay_address": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
            "price_amount": float(invoice["price_amount"]),
            "price_currency": invoice["price_currency"],
            "pay_amount": float(invoice["price_amount"]),
            "actually_paid": float(invoice["price_amount"]),
            "pay_currency": "usdttrc20",
            "order_id": invoice["order_id"],
            "order_description": invoice["order_description"],
            "purchase_id": "5312822613",
            "outcome_amount": float(invoice["price_amount"]) * 0.995,
            "outcome_currency": "usdttrc20",
        }
        self.state.payments[payment_id] = payment
        return payment, {"x-nowpayments-sig": nowpayments_signature(self.state.ipn_secret, payment)}

    def send_ipn(self, payment: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """POST the IPN to the invoice's ipn_callback_url, as NOWPayments does."""
        invoice = self.state.invoices[str(payment["invoice_id"])]
        return httpx.post(str(invoice["ipn_callback_url"]), content=json.dumps(payment), headers=headers, timeout=10)

    def settle_payout(self, batch_id: str, status: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The payout ends (FINISHED, FAILED, REJECTED): its row, and the signed IPN sent for it."""
        row = self.state.payouts[batch_id]["withdrawals"][0]
        row["status"] = status
        row["hash"] = "a1b2c3" if status == "FINISHED" else None
        return dict(row), {"x-nowpayments-sig": nowpayments_signature(self.state.ipn_secret, row)}
