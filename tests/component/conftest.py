"""Component tier: moto in process (`mock_aws`), every resource provisioned
from template.yaml, the real handlers called through the template's routes."""

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.functions import Dispatcher, load_stack
from localcloud.moto_patches import make_dynamodb_atomic
from localcloud.provision import ACCOUNT_ID, REGION, Stack, provision
from tests.support.api import ApiClient


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    import os

    make_dynamodb_atomic()  # DynamoDB's write atomicity, which moto lacks under threads
    # State machines run on moto's interpreter; their Lambda invokes reach our handlers.
    config: Any = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config):
        made = provision(boto3.Session())
        os.environ.update(made.environment())
        from fxcrm.adapters import secrets as fx_secrets
        from fxcrm.core.settings import get_settings
        from fxcrm.dal import aws

        get_settings.cache_clear()
        aws.reset_clients()
        fx_secrets.clear_cache()
        from localcloud.seed import seed_demo_data

        seed_demo_data(int(time.time()))
        yield made


@pytest.fixture(scope="session")
def dispatcher(stack: Stack) -> Dispatcher:
    """Every function's handler, each held to its IAM role (`dispatcher.guard`)."""
    loaded, _ = load_stack(stack)
    loaded.install_into_moto()
    return loaded


@pytest.fixture(scope="session")
def api(stack: Stack, dispatcher: Dispatcher) -> ApiClient:
    return ApiClient(stack.resolver.template, stack.functions, dispatcher.handlers)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def sent_mail(to: str) -> list[Any]:
    from moto.ses.models import ses_backends

    return [m for m in ses_backends[ACCOUNT_ID][REGION].sent_messages if to in m.destinations.get("ToAddresses", [])]


def last_code(to: str) -> str:
    found = re.search(r"\b(\d{6})\b", sent_mail(to)[-1].body)
    assert found, "no code in the mail"
    return found.group(1)


def captcha_headers(randstr: str | None = None) -> dict[str, str]:
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
    password: str = "Secret-pass-1",
    invite_code: str | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    ip = source_ip or f"198.51.100.{secrets.randbelow(250) + 1}"
    sent = api.post(
        "/auth/email-codes", {"email": email, "received_at": int(time.time()), "scene": "register"}, source_ip=ip
    )
    assert sent.status == 200, sent.body
    body: dict[str, Any] = {"email": email, "email_code": last_code(email), "password": password}
    if invite_code:
        body["invite_code"] = invite_code
    reply = api.post("/auth/register", body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def login(api: ApiClient, email: str, password: str) -> Any:
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


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> int:
    """Every handler reads one `now` for the test: fixed-window limits cannot
    straddle a window's end while the test runs."""
    from fxcrm.core import clock

    now = int(time.time())
    monkeypatch.setattr(clock, "now", lambda: now)
    return now
