"""The Sumsub adapter against a fake Sumsub answering over httpx's transport:
each request is signed as Sumsub checks it, and webhooks are verified."""

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from fxcrm.core.errors import NotAuthenticated, ProviderUnavailable
from fxcrm.kyc import everify
from fxcrm.kyc.everify import Attempt, Sumsub

SECRET = {"app_token": "sbx:token", "secret_key": "sbx-secret", "level_name": "basic-kyc-level"}
ATTEMPT = Attempt(7, "lena@example.com", "a" * 32, "https://portal.example/ok", "https://portal.example/no", 1800)


def fake_sumsub(seen: list[httpx.Request], status: int = 200) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"url": "https://in.sumsub.com/websdk/p/sbx_abc"})

    return httpx.Client(base_url="https://api.sumsub.com", transport=httpx.MockTransport(answer))


def test_the_link_request_is_signed_as_sumsub_verifies_it() -> None:
    seen: list[httpx.Request] = []
    url = Sumsub(SECRET, fake_sumsub(seen)).start(ATTEMPT, "https://api.broker.example")
    assert url == "https://in.sumsub.com/websdk/p/sbx_abc"
    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/resources/sdkIntegrations/levels/-/websdkLink")
    body = request.content
    ts = request.headers["X-App-Access-Ts"]
    expected = hmac.new(b"sbx-secret", ts.encode() + b"POST" + request.url.raw_path + body, hashlib.sha256).hexdigest()
    assert request.headers["X-App-Access-Sig"] == expected
    assert request.headers["X-App-Token"] == "sbx:token"
    sent = json.loads(body)
    assert sent["userId"] == "fxcrm-user-7" and sent["levelName"] == "basic-kyc-level"
    assert sent["redirect"] == {"successUrl": "https://portal.example/ok", "rejectUrl": "https://portal.example/no"}


def test_a_refusal_is_a_provider_error() -> None:
    with pytest.raises(ProviderUnavailable):
        Sumsub(SECRET, fake_sumsub([], status=401)).start(ATTEMPT, "")


@pytest.fixture
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(everify, "get_secret_json", lambda name, seconds: {"webhook_secret": "hook-secret"})
    return "hook-secret"


def _event(answer: str) -> bytes:
    return json.dumps(
        {
            "type": "applicantReviewed",
            "externalUserId": "fxcrm-user-7",
            "reviewResult": {"reviewAnswer": answer, "rejectLabels": ["BAD_PROOF"], "moderationComment": "blurred"},
            "createdAtMs": 1795380000000,
        }
    ).encode()


def test_webhook_verdicts_are_read_after_the_digest_matches(webhook_secret: str) -> None:
    from fxcrm.core.settings import Settings

    body = _event("RED")
    review = everify.parse_webhook(
        Settings(), body, {k.lower(): v for k, v in everify.sign_webhook(webhook_secret, body).items()}
    )
    assert review == everify.Review(7, False, "BAD_PROOF", "blurred", 1795380000000)
    sha512 = hmac.new(webhook_secret.encode(), _event("GREEN"), hashlib.sha512).hexdigest()
    headers: dict[str, Any] = {"x-payload-digest": sha512, "x-payload-digest-alg": "HMAC_SHA512_HEX"}
    assert everify.parse_webhook(Settings(), _event("GREEN"), headers) == everify.Review(
        7, True, "BAD_PROOF", "blurred", 1795380000000
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-payload-digest": "00" * 32},
        {"x-payload-digest": hmac.new(b"hook-secret", b"other", hashlib.sha256).hexdigest()},
        {
            "x-payload-digest": hmac.new(b"hook-secret", _event("GREEN"), hashlib.sha1).hexdigest(),
            "x-payload-digest-alg": "HMAC_SHA1_HEX",
        },
    ],
)
def test_forged_or_weak_webhooks_are_refused(webhook_secret: str, headers: dict[str, str]) -> None:
    from fxcrm.core.settings import Settings

    with pytest.raises(NotAuthenticated):
        everify.parse_webhook(Settings(), _event("GREEN"), headers)
