"""What the component tier's tests do again and again, through the real
handlers in process (`ApiClient`): sign up and log in, a staff member's
second factor, accounts opened, KYC approved, money in and out, and waiting
for a workflow or a mail. Each helper asserts that its own steps worked, so a
test fails at the step that broke.

fxcrm is imported inside the helpers: the modules must load after the
session's stack has set the environment (tests/component/conftest.py)."""

import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from tests.support.api import ApiClient, Reply
from tests.support.demo import DEMO_ACCOUNT
from tests.support.waiting import wait_for

PASSWORD = "Secret-pass-1"  # what `register` signs up with
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
BANK = {"bank_country": "GB", "bank_name": "Example Bank", "bank_no": "GB33BUKB20201555555555", "branch_name": "City"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def _any_ip() -> str:
    """A caller address of its own, so the per-address allowance of email codes is not what a test meets."""
    return f"198.51.100.{secrets.randbelow(250) + 1}"


# ---------------------------------------------------------------- mail


def sent_mail(to: str) -> list[Any]:
    """Mail SES accepted for `to`, oldest first: each with `subject`, `body` (the text part) and `html`."""
    from localcloud.mail_events import sent_mail as accepted

    return list(accepted(to))


def wait_for_mail(to: str, subject: str = "", body: str = "", timeout: float = 30) -> Any:
    """The first mail to `to` whose subject has `subject` and body has `body`. A
    flow's last step records its outcome and then sends the mail, so a test
    that saw the outcome waits for the mail (bounded) rather than look at once."""
    deadline = time.monotonic() + timeout
    while not (found := [m for m in sent_mail(to) if subject in m.subject and body in m.body]):
        assert time.monotonic() < deadline, f"no mail to {to} with {subject!r} / {body!r}"
        time.sleep(0.1)
    return found[0]


def last_code(to: str) -> str:
    found = re.search(r"\b(\d{6})\b", sent_mail(to)[-1].body)
    assert found, "no code in the mail"
    return found.group(1)


def email_code(api: ApiClient, email: str, token: str, scene: str) -> str:
    """A fresh email code of `scene` for the caller's own address, read from the mailbox."""
    body = {"email": email, "received_at": int(time.time()), "scene": scene}
    sent = api.post("/auth/email-codes", body, token=token, source_ip=_any_ip())
    assert sent.status == 200, sent.body
    return last_code(email)


# ---------------------------------------------------------------- signing up and logging in


def captcha_headers(randstr: str | None = None) -> dict[str, str]:
    """The three captcha headers of a ticket the local verifier vouches for (as /_dev/captcha issues)."""
    from fxcrm.adapters.captcha import local_ticket
    from fxcrm.adapters.secrets import get_secret_json
    from fxcrm.core import clock
    from fxcrm.core.settings import get_settings

    settings = get_settings()
    randstr = randstr or secrets.token_hex(6)
    key = get_secret_json(settings.captcha_secret_name, 0)["local_key"]
    return {
        "Captcha-Token": local_ticket(key, settings.captcha_app_id, randstr, clock.now()),
        "Captcha-Randstr": randstr,
        "Captcha-Action": "login",
    }


def register(
    api: ApiClient,
    email: str,
    password: str = PASSWORD,
    invite_code: str | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """Sign up with the code mailed for `register`; the answer (token and user_info)."""
    sent = api.post(
        "/auth/email-codes",
        {"email": email, "received_at": int(time.time()), "scene": "register"},
        source_ip=source_ip or _any_ip(),
    )
    assert sent.status == 200, sent.body
    body: dict[str, Any] = {"email": email, "email_code": last_code(email), "password": password}
    if invite_code:
        body["invite_code"] = invite_code
    reply = api.post("/auth/register", body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def login(api: ApiClient, email: str, password: str) -> Reply:
    return api.post("/auth/login", {"email": email, "password": password}, headers=captcha_headers())


# Staff tokens, one per address for the session: a TOTP code's time step is
# good once, so logging in again within 30 s would (rightly) be refused.
_STAFF_TOKENS: dict[str, str] = {}


def staff_token(api: ApiClient, email: str, password: str) -> str:
    """Log a staff member in with password and TOTP (enrolling at the first login)."""
    import pyotp

    if email not in _STAFF_TOKENS:
        pending = login(api, email, password).json()["token"]
        assert not api.get("/auth/totp", token=pending).json()["enrolled"], "enrolled outside this helper"
        secret = api.post("/auth/totp/enrolment", token=pending).json()["secret"]
        done = api.post("/auth/totp/activation", {"code": pyotp.TOTP(secret).now()}, token=pending)
        assert done.status == 200, done.body
        _STAFF_TOKENS[email] = done.json()["token"]
    return _STAFF_TOKENS[email]


def new_staff(api: ApiClient, admin: str, role: str, **extra: Any) -> tuple[str, str]:
    """A new staff member of `role`, created by an admin: (email, password)."""
    email = unique_email(role)
    body = {"email": email, "role": role, "first_name": "New", "last_name": role.title(), "password": "Staff-pass-1"}
    created = api.post("/admin/staff", body | extra, token=admin)
    assert created.status == 201, created.body
    return email, "Staff-pass-1"


def create_ib(
    prefix: str,
    password: str,
    created_at: int,
    parent: int | None = None,
    first_name: str = "Ib",
    last_name: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """An IB stored directly (sign-up makes clients only): the new user item. Its
    referral code is a fresh one unless given, and its last name that code unless given."""
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import users

    code = code or f"{prefix[0].upper()}{secrets.token_hex(4).upper()}"
    user = new_user(
        unique_email(prefix),
        password,
        "ib",
        "ib",
        created_at,
        referral_code=code,
        ib_id=parent,
        first_name=first_name,
        last_name=code if last_name is None else last_name,
    )
    users.create_user(user)
    return dict(user)


# ---------------------------------------------------------------- accounts and KYC


def open_demo_account(api: ApiClient, token: str, **overrides: Any) -> int:
    """A demo account opened by its owner (10,000.00 demo funds): its id."""
    opened = api.post("/trading-accounts", DEMO_ACCOUNT | overrides, token=token)
    assert opened.status == 201, opened.body
    return int(opened.json()["id"])


def live_account(client_id: int, email: str, record_type: str | None = None) -> int:
    """A live MT5 account opened directly (the approval flow has its own tests),
    of an account type whose record type is `record_type` if given: its id."""
    from fxcrm.core import ids
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import trading
    from fxcrm.trading import accounts
    from fxcrm.trading.accounts import Application

    account_type = trading.get_account_type("MT5", 202, False)
    assert account_type is not None
    if record_type is not None:
        account_type = {**account_type, "record_type": record_type}
    application = Application("MT5", 202, 100, "USD", "Live-Pass1", None)
    login_number = accounts.create_on_platform(get_settings(), "MT5-Live", account_type, email, application)
    account_id = ids.new_id()
    accounts.record_account(
        account_id, client_id, application, account_type, "MT5-Live", login_number, False, int(time.time())
    )
    return account_id


def approve_kyc(user_id: int) -> None:
    """The KYC marked approved directly (the review has its own tests in test_kyc.py)."""
    from fxcrm.dal import kyc

    kyc.set_kyc_status(user_id, "approved", int(time.time()))


@dataclass
class Client:
    email: str
    token: str
    id: int
    accounts: list[int]


def approved_client(api: ApiClient, prefix: str = "fund", live_accounts: int = 2) -> Client:
    """A new client whose KYC is approved, with `live_accounts` live accounts."""
    email = unique_email(prefix)
    registered = register(api, email)
    user_id = int(registered["user_info"]["id"])
    approve_kyc(user_id)
    return Client(email, registered["token"], user_id, [live_account(user_id, email) for _ in range(live_accounts)])


# ---------------------------------------------------------------- approvals


def decide(api: ApiClient, staff: str, approval_id: int | str, decision: str, reason: str | None = None) -> Reply:
    body = {"decision": decision} | ({"reason": reason} if reason is not None else {})
    return api.post(f"/admin/approvals/{approval_id}/decision", body, token=staff)


def approval_waiting(api: ApiClient, staff: str, approval_id: int) -> dict[str, Any]:
    """The item once its flow waits for a decision."""
    return wait_for(lambda: api.get(f"/admin/approvals/{approval_id}", token=staff).json(), "waiting")


# ---------------------------------------------------------------- money


def idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def platform_balance(api: ApiClient, client: Client, account_id: int) -> Decimal:
    """The balance the trading server shows the owner."""
    return Decimal(api.get(f"/trading-accounts/{account_id}", token=client.token).json()["balance"])


def order_row(api: ApiClient, client: Client, kind: str, number: str) -> Callable[[], dict[str, Any]]:
    """A probe of the client's own row of order `number` in `/funding/<kind>`."""
    return lambda: next(
        r for r in api.get(f"/funding/{kind}", token=client.token).json()["list"] if r["order_number"] == number
    )


def upload_receipt(
    api: ApiClient, client: Client, number: str, content: bytes = PDF, kind: str = "application/pdf"
) -> str:
    """A receipt posted to S3 with the order's presigned form: its key."""
    form = api.post(
        f"/funding/deposits/{number}/receipt-upload", {"content_type": "application/pdf"}, token=client.token
    ).json()
    reply = requests.post(form["url"], data=form["fields"], files={"file": ("receipt.pdf", content, kind)}, timeout=10)
    assert reply.status_code in (200, 201, 204), reply.text
    return str(form["key"])


def draft_deposit(api: ApiClient, client: Client, amount: str, account: int | None = None) -> str:
    """A deposit drafted (no receipt yet) to `account`, by default the client's first: its number."""
    body = {"deposit_amount": amount, "remittance_id": 1, "trading_account_id": account or client.accounts[0]}
    draft = api.post("/funding/deposits", body, token=client.token, headers=idempotency_key())
    assert draft.status == 201, draft.body
    return str(draft.json()["order_number"])


def deposit_waiting(
    api: ApiClient, staff: str, client: Client, amount: str, account: int | None = None, content: bytes = PDF
) -> str:
    """A deposit drafted, its receipt uploaded and submitted, waiting for staff: its number."""
    number = draft_deposit(api, client, amount, account)
    submit = {"order_number": number, "receipt_url": upload_receipt(api, client, number, content)}
    submitted = api.post("/funding/deposits/submit", submit, token=client.token, headers=idempotency_key())
    assert submitted.status == 200 and submitted.json()["status"] == "auditing", submitted.body
    approval_waiting(api, staff, int(number[1:]))
    return number


def deposit(api: ApiClient, admin: str, client: Client, account: int, amount: str) -> str:
    """A deposit approved by `admin` and credited: its number."""
    number = deposit_waiting(api, admin, client, amount, account)
    assert decide(api, admin, int(number[1:]), "approve").status == 200
    wait_for(order_row(api, client, "deposits", number), "approved")
    return number


def withdrawal_quote(
    api: ApiClient, client: Client, amount: str, channel: int = 11, currency: str = "USD"
) -> dict[str, Any]:
    reply = api.get(
        f"/funding/withdrawals/quote?remittance_id={channel}&withdrawal_amount={amount}&currency={currency}",
        token=client.token,
    )
    assert reply.status == 200, reply.body
    return dict(reply.json())


def withdrawal_body(api: ApiClient, client: Client, account_id: int, amount: str, **overrides: Any) -> dict[str, Any]:
    """A bank-transfer withdrawal as the portal sends it: the server's quote and a fresh email code."""
    quote = withdrawal_quote(api, client, amount)
    body = {
        "bank_transfer_info": BANK | {"account_holder_name": "Chen Li"},
        "currency": "USD",
        "email_code": email_code(api, client.email, client.token, "withdrawal"),
        "exchange_rate": quote["exchange_rate"],
        "fee": quote["fee"],
        "method": "bank_transfer",
        "remittance_amount": quote["remittance_amount"],
        "remittance_id": 11,
        "trading_account_id": account_id,
        "withdrawal_amount": amount,
    }
    return body | overrides


def request_withdrawal(api: ApiClient, client: Client, account_id: int, amount: str) -> str:
    """A withdrawal requested (reserved at once; its flow then holds and waits for staff): its number."""
    body = withdrawal_body(api, client, account_id, amount)
    reply = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
    assert reply.status == 201, reply.body
    return str(reply.json()["order_number"])


def transfer_body(api: ApiClient, client: Client, amount: str, remark: str = "") -> dict[str, Any]:
    """A transfer from the client's first account to its second, with a fresh email code."""
    return {
        "amount": amount,
        "email_code": email_code(api, client.email, client.token, "transfer"),
        "remark": remark,
        "source_trading_account_id": client.accounts[0],
        "target_trading_account_id": client.accounts[1],
    }
