"""The HTTP tiers' (tests/e2e, tests/browser) cloud and journeys: `python -m
localcloud` in a subprocess, and what their tests do again and again over
HTTP: log in (a staff member with TOTP), sign up with the mailed code, open a
demo or (through staff approval) a live account, post a file to a presigned
form, and wait for a workflow. Each helper asserts that its own steps worked."""

import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from localcloud.cloud import free_port
from localcloud.template import ROOT
from tests.support.demo import ADMIN, DEMO_ACCOUNT, LIVE_APPLICATION
from tests.support.waiting import wait_for

ARTIFACTS = ROOT / "test-artifacts"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RunningCloud:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    staff_tokens: dict[str, str] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def code_for(self, email: str) -> str:
        mails = self.mailbox(email)
        assert mails, f"no mail for {email}"
        found = re.search(r"\b(\d{6})\b", mails[-1]["body"])
        assert found
        return found.group(1)

    def captcha(self) -> dict[str, str]:
        randstr = secrets.token_hex(6)
        ticket = httpx.get(f"{self.url}/_dev/captcha", params={"randstr": randstr}, timeout=10).json()["ticket"]
        return {"Captcha-Token": ticket, "Captcha-Randstr": randstr, "Captcha-Action": "login"}

    def staff_token(self, email: str, password: str) -> str:
        """Password, then TOTP (enrolling at the first login); one token per
        address for the session, since a code's time step is good once."""
        import pyotp

        if email not in self.staff_tokens:
            pending = bearer(self.login(email, password).json()["token"])
            with self.client() as http:
                enrolment = http.post("/auth/totp/enrolment", headers=pending)
                assert enrolment.status_code == 200, enrolment.text
                secret = enrolment.json()["secret"]
                done = http.post("/auth/totp/activation", json={"code": pyotp.TOTP(secret).now()}, headers=pending)
                assert done.status_code == 200, done.text
            self.totp_secrets[email] = secret
            self.staff_tokens[email] = done.json()["token"]
        return self.staff_tokens[email]

    def login(self, email: str, password: str) -> Any:
        return httpx.post(
            f"{self.url}/auth/login", json={"email": email, "password": password}, headers=self.captcha(), timeout=30
        )

    def wait_for_mail(self, to: str, body: str, timeout: float = 30) -> dict[str, Any]:
        """The first mail to `to` with `body` in it, from the local mailbox. A flow
        mails the client after it closes the item, so the mail may arrive a moment
        after the status the client sees: wait for it (bounded)."""
        deadline = time.monotonic() + timeout
        while not (found := [m for m in self.mailbox(to) if body in m["body"]]):
            assert time.monotonic() < deadline, f"no mail to {to} with {body!r}"
            time.sleep(0.2)
        return dict(found[0])

    def mailbox(self, to: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_dev/mailbox", params={"to": to}, timeout=10).json())

    def headers(self, email: str, password: str) -> dict[str, str]:
        """The Authorization header of a fresh login."""
        reply = self.login(email, password)
        assert reply.status_code == 200, reply.text
        return bearer(reply.json()["token"])

    def staff_headers(self, email: str, password: str) -> dict[str, str]:
        """The Authorization header of the staff member's session token (past TOTP)."""
        return bearer(self.staff_token(email, password))


def start_cloud(name: str, seed: bool = True) -> RunningCloud:
    """`python -m localcloud` on a free port; `seed=False`: an empty stack (`--no-seed`), as deployed."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log = ARTIFACTS / f"localcloud-{name}.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    # Every e2e request comes from 127.0.0.1, so the per-address hourly allowance of
    # email codes (20, tested in tests/component) would throttle the suite itself.
    env["EMAIL_CODES_PER_ADDRESS_PER_HOUR"] = "10000"
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--port", str(port), *([] if seed else ["--no-seed"])],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local cloud exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/_dev/health", timeout=1).status_code == 200:
                return RunningCloud(url, process, log)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the local cloud did not answer within 60 s:\n{log.read_text()}")


def stop_cloud(cloud: RunningCloud) -> None:
    cloud.process.terminate()
    try:
        cloud.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        cloud.process.kill()


def register(cloud: RunningCloud, http: httpx.Client, prefix: str, password: str, **extra: Any) -> dict[str, Any]:
    """Sign up a new address with the code from the local mailbox: the answer (token and user_info)."""
    email = f"{prefix}-{secrets.token_hex(4)}@example.com"
    sent = http.post("/auth/email-codes", json={"email": email, "received_at": int(time.time()), "scene": "register"})
    assert sent.status_code == 200, sent.text
    body = {"email": email, "email_code": cloud.code_for(email), "password": password, **extra}
    reply = http.post("/auth/register", json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def open_demo_account(http: httpx.Client, client: dict[str, str], **overrides: Any) -> int:
    """A demo account (10,000.00 demo funds) opened by the caller of `client` headers: its id."""
    opened = http.post("/trading-accounts", json=DEMO_ACCOUNT | overrides, headers=client)
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def open_live_account(
    cloud: RunningCloud, http: httpx.Client, client: dict[str, str], staff: dict[str, str] | None = None
) -> int:
    """A live account applied for by a client with approved KYC and approved by the admin
    (the demo's unless `staff` is given): its id."""
    staff = staff or cloud.staff_headers(*ADMIN)
    applied = http.post("/trading-accounts/applications", json=LIVE_APPLICATION, headers=client)
    assert applied.status_code == 201, applied.text
    account = int(applied.json()["application_account_id"])
    wait_for(lambda: http.get(f"/admin/approvals/{account}", headers=staff).json(), "waiting")
    decided = http.post(f"/admin/approvals/{account}/decision", json={"decision": "approve"}, headers=staff)
    assert decided.status_code == 200, decided.text
    wait_for(lambda: http.get(f"/admin/approvals/{account}", headers=staff).json(), "completed")
    return account


def request_crypto_withdrawal(
    cloud: RunningCloud, http: httpx.Client, client: dict[str, str], email: str, account: int, amount: str, channel: int
) -> httpx.Response:
    """A USDT withdrawal to a TRC20 wallet through `channel`: an email code from
    the local mailbox and the server's quote, as the portal would send them."""
    http.post(
        "/auth/email-codes",
        json={"email": email, "received_at": int(time.time()), "scene": "withdrawal"},
        headers=client,
    )
    code = cloud.code_for(email)
    quote = http.get(
        "/funding/withdrawals/quote",
        params={"remittance_id": channel, "withdrawal_amount": amount, "currency": "USDT"},
        headers=client,
    ).json()
    return http.post(
        "/funding/withdrawals",
        json={
            "cryptocurrency_info": {
                "network": "TRC20",
                "wallet_address": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
                "currency": "USDT",
            },
            "currency": "USDT",
            "email_code": code,
            "method": "cryptocurrency",
            "remittance_id": channel,
            "trading_account_id": account,
            "withdrawal_amount": amount,
            "fee": quote["fee"],
            "exchange_rate": quote["exchange_rate"],
            "remittance_amount": quote["remittance_amount"],
        },
        headers=client | {"Idempotency-Key": str(uuid.uuid4())},
    )


def new_staff(cloud: RunningCloud, role: str, first_name: str = "New") -> tuple[str, str]:
    """A new staff member of `role`, created by the admin: (email, password)."""
    email = f"{role}-{secrets.token_hex(3)}@broker.example.com"
    body = {"email": email, "role": role, "first_name": first_name, "last_name": role.title()}
    created = httpx.post(
        f"{cloud.url}/admin/staff",
        json=body | {"password": "Staff-pass-1"},
        headers=cloud.staff_headers(*ADMIN),
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return email, "Staff-pass-1"


def post_to_form(form: dict[str, Any], content: bytes, kind: str, name: str = "upload") -> None:
    """What a browser does with a presigned POST form (again and again, until it expires)."""
    posted = httpx.post(form["url"], data=form["fields"], files={"file": (name, content, kind)}, timeout=60)
    assert posted.status_code in (200, 201, 204), posted.text


def upload_kyc_document(http: httpx.Client, client: dict[str, str], content: bytes, kind: str) -> str:
    """A KYC document posted to S3 with its presigned form: the key a module references."""
    form = http.post("/kyc/documents", json={"content_type": kind}, headers=client)
    assert form.status_code == 201, form.text
    post_to_form(form.json(), content, kind, "scan")
    return str(form.json()["key"])


def save_kyc_module(http: httpx.Client, client: dict[str, str], module: str, data: dict[str, Any]) -> httpx.Response:
    return http.put("/kyc/modules", json={"current_module": module, "kyc_data": {module: data}}, headers=client)


# a 1x1 PNG: what a receipt or a scan looks like to the upload checks and to an <img>
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5dd0c6d0000000049454e44ae426082"
)


def submit_kyc(http: httpx.Client, user: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Every module the default form needs for a live account, two scans and the
    questionnaire, submitted for review: (the review's id, the identity given)."""
    identity = {
        "first_name": "Nia",
        "last_name": "Okafor",
        "full_name": f"Nia Okafor {uuid.uuid4().hex[:4]}",
        "gender": "female",
        "birthday": "1991-07-01",
        "country": "NG",
    }
    modules = {
        "identity": identity,
        "contact": {
            "contact_phone": "+2348012345678",
            "residential_address": "4 Marina, Lagos",
            "residence_province": "Lagos",
            "postal_code": "101001",
        },
        "authentication_accessory": {
            "address_proof": upload_kyc_document(http, user, PNG + uuid.uuid4().bytes, "image/png")
        },
        "authentication": {
            "identification_type": "passport",
            "passport": upload_kyc_document(http, user, PNG + uuid.uuid4().bytes, "image/png"),
        },
        "agreement": {"client_agreement": True, "risk_disclosure": True, "privacy_policy": True},
    }
    for module, data in modules.items():
        saved = save_kyc_module(http, user, module, data)
        assert saved.status_code == 200, (module, saved.text)
    answers = [
        {"question_id": 1, "answer": "none"},
        {"question_id": 2, "answer": "yes"},
        {"question_id": 4, "answer": "lt25k"},
    ]
    answered = http.post("/kyc/questionnaire-answers", json={"questionnaire_id": 1, "answers": answers}, headers=user)
    assert answered.status_code == 200, answered.text
    submitted = http.post("/kyc/submission", headers=user)
    assert submitted.status_code == 201, submitted.text
    return int(submitted.json()["review_id"]), identity


def submit_deposit(http: httpx.Client, client: dict[str, str], account: int, amount: str, channel: int = 1) -> str:
    """An offline deposit drafted, its receipt posted to S3 and submitted for approval: its order number."""
    body = {"deposit_amount": amount, "remittance_id": channel, "trading_account_id": account}
    drafted = http.post("/funding/deposits", json=body, headers=client | {"Idempotency-Key": str(uuid.uuid4())})
    assert drafted.status_code in (200, 201), drafted.text
    number = str(drafted.json()["order_number"])
    form = http.post(f"/funding/deposits/{number}/receipt-upload", json={"content_type": "image/png"}, headers=client)
    assert form.status_code in (200, 201), form.text
    post_to_form(form.json(), PNG, "image/png", "receipt.png")
    submit = {"order_number": number, "receipt_url": form.json()["key"]}
    submitted = http.post(
        "/funding/deposits/submit", json=submit, headers=client | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert submitted.status_code == 200, submitted.text
    return number


def run_bootstrap(cloud: RunningCloud, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m fxcrm.ops bootstrap` against the cloud's AWS (its moto endpoint and
    table, as an operator would pass them), with the local cloud's dummy credentials."""
    local = httpx.get(f"{cloud.url}/_dev/environment", timeout=10).json()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        k: local[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION")
    }
    env["PYTHONPATH"] = str(ROOT / "layers" / "shared")
    command = ["--endpoint-url", local["AWS_ENDPOINT_URL"], "--table", local["TABLE_NAME"], *args]
    return subprocess.run(
        [sys.executable, "-m", "fxcrm.ops", "bootstrap", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class FirstDeposit:
    """A client's deposit on a freshly bootstrapped stack, waiting for staff."""

    client: dict[str, str]  # the client's bearer headers
    account: int
    number: str

    def row(self, http: httpx.Client) -> dict[str, Any]:
        rows = http.get("/funding/deposits", headers=self.client).json()["list"]
        return dict(next(r for r in rows if r["order_number"] == self.number))


def first_deposit_waiting(cloud: RunningCloud, http: httpx.Client, admin: dict[str, str], amount: str) -> FirstDeposit:
    """On the bootstrap's catalogue: a controller the admin creates enters the bank
    details (the channels start disabled); a client registers, its KYC is approved
    by the admin, it opens a live account and submits a deposit of `amount`, which
    then waits in the queue."""
    controller_email = f"controller-{secrets.token_hex(3)}@broker.example.com"
    staff = {"email": controller_email, "role": "controller", "first_name": "Cleo", "last_name": "Controller"}
    created = http.post("/admin/staff", json=staff | {"password": "Controller-1-pass"}, headers=admin)
    assert created.status_code == 201, created.text
    controller = bearer(cloud.staff_token(controller_email, "Controller-1-pass"))
    channel = {
        "name": "Bank transfer",
        "method": "bank_transfer",
        "min_amount": "50",
        "max_amount": "50000",
        "allowed_currencies": ["USD", "EUR"],
        "account_info": "Beneficiary: Boss Markets Ltd · IBAN GB94BARC10201530093459",
        "enabled": True,
    }
    saved = http.put("/admin/funding/channels/deposit/1", json=channel, headers=controller)
    assert saved.status_code == 200, saved.text
    client = bearer(register(cloud, http, "first-client", "First-client-2026")["token"])
    review, _ = submit_kyc(http, client)
    wait_for(lambda: http.get(f"/admin/approvals/{review}", headers=admin).json(), "waiting")
    decided = http.post(f"/admin/approvals/{review}/decision", json={"decision": "approve"}, headers=admin)
    assert decided.status_code == 200, decided.text
    wait_for(lambda: http.get("/kyc", headers=client).json(), "approved", key="kyc_status")
    account = open_live_account(cloud, http, client, staff=admin)
    number = submit_deposit(http, client, account, amount)
    wait_for(lambda: http.get(f"/admin/approvals/{number[1:]}", headers=admin).json(), "waiting")
    return FirstDeposit(client, account, number)
