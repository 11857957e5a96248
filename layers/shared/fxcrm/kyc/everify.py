"""E-verification: the provider port, its Sumsub adapter and a local stand-in,
chosen by `E_VERIFY_PROVIDER`.

- `Sumsub` speaks Sumsub's API: every request signed with the app token's
  secret (`X-App-Access-Sig` = HMAC-SHA256 of timestamp + method + path + body),
  an external WebSDK link per attempt (`/resources/sdkIntegrations/levels/-/websdkLink`)
  that sends the client back to `success_url` or `failed_url`, and the
  `applicantReviewed` webhook signed with `X-Payload-Digest`.
- `LocalVerifier` stands in on a laptop: the link is our own page
  (`/kyc/e-verification/local/{session_id}`). A GET only shows pass/fail
  buttons; the verdict is recorded on their POST, which must carry the page's
  token (an HMAC of the attempt), and then redirects to the client's URL. A
  stack with `Stage=prod` cannot select it (template Rules).

Secrets (Secrets Manager, `E_VERIFY_SECRET_NAME`): `webhook_secret` always;
for Sumsub also `app_token`, `secret_key`, `level_name` and optionally `base_url`."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fxcrm.adapters.secrets import get_secret_json
from fxcrm.core.errors import NotAuthenticated, ProviderUnavailable
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings

if TYPE_CHECKING:
    import httpx

SUMSUB_URL = "https://api.sumsub.com"
# Digest algorithms accepted on webhooks (SHA-1 is not).
DIGESTS = {"HMAC_SHA256_HEX": hashlib.sha256, "HMAC_SHA512_HEX": hashlib.sha512}
EXTERNAL_PREFIX = "fxcrm-user-"


@dataclass(frozen=True)
class Attempt:
    user_id: int
    email: str
    session_id: str
    success_url: str
    failed_url: str
    ttl_seconds: int


@dataclass(frozen=True)
class Review:
    """A provider's verdict on a user."""

    user_id: int
    passed: bool
    reason_code: str
    reason_msg: str
    decided_ms: int = 0  # when the provider decided (its createdAtMs): an older verdict never replaces a newer one


class EVerifier(Protocol):
    name: str

    def start(self, attempt: Attempt, api_base: str) -> str:
        """Start an attempt; returns the URL to send the client to."""
        ...


class Sumsub:
    name = "sumsub"

    def __init__(self, secret: dict[str, Any], http: "httpx.Client | None" = None) -> None:
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        self._secret = secret
        self._http = http or httpx.Client(base_url=secret.get("base_url") or SUMSUB_URL, timeout=10)

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        signature = hmac.new(
            self._secret["secret_key"].encode(), ts.encode() + method.encode() + path.encode() + body, hashlib.sha256
        ).hexdigest()
        return {
            "X-App-Token": self._secret["app_token"],
            "X-App-Access-Ts": ts,
            "X-App-Access-Sig": signature,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def start(self, attempt: Attempt, api_base: str) -> str:
        import httpx  # here, not at module import: httpx is ~4% of each function's cold start

        path = "/resources/sdkIntegrations/levels/-/websdkLink"
        body = json.dumps(
            {
                "levelName": self._secret["level_name"],
                "userId": f"{EXTERNAL_PREFIX}{attempt.user_id}",
                "applicantIdentifiers": {"email": attempt.email},
                "redirect": {"successUrl": attempt.success_url, "rejectUrl": attempt.failed_url},
                "ttlInSecs": attempt.ttl_seconds,
            }
        ).encode()
        try:
            response = self._http.post(path, content=body, headers=self._headers("POST", path, body))
        except httpx.HTTPError as error:
            raise ProviderUnavailable("the verification provider did not answer; try again shortly") from error
        if response.status_code != 200:
            logger.error("sumsub refused the link", extra={"status": response.status_code})
            raise ProviderUnavailable("the verification provider refused the request; try again later")
        return str(response.json()["url"])


class LocalVerifier:
    name = "local"

    def start(self, attempt: Attempt, api_base: str) -> str:
        return f"{api_base.rstrip('/')}/kyc/e-verification/local/{attempt.session_id}"


def local_token(settings: Settings, session_id: str) -> str:
    """The stand-in page's form token: bound to one attempt and keyed with the
    webhook secret, so that only a POST from the page itself (not a link, an
    image or another site's form) can record a verdict."""
    secret = get_secret_json(settings.e_verify_secret_name, settings.secret_cache_seconds)["webhook_secret"]
    return hmac.new(secret.encode(), f"local-e-verify:{session_id}".encode(), hashlib.sha256).hexdigest()


def verifier_from_settings(settings: Settings) -> EVerifier:
    if settings.e_verify_provider == "sumsub":
        return Sumsub(get_secret_json(settings.e_verify_secret_name, settings.secret_cache_seconds))
    return LocalVerifier()


def _ascii_digits(text: str) -> bool:
    # str.isdigit() is true for any script's digits ("٣٠"); ids are ASCII.
    return text.isascii() and text.isdigit()


def parse_webhook(settings: Settings, body: bytes, headers: dict[str, str]) -> Review | None:
    """Verify a Sumsub webhook's signature and read its verdict. Events other
    than `applicantReviewed` answer None (nothing to record)."""
    secret = get_secret_json(settings.e_verify_secret_name, settings.secret_cache_seconds)["webhook_secret"]
    algorithm = DIGESTS.get(headers.get("x-payload-digest-alg", "HMAC_SHA256_HEX"))
    given = headers.get("x-payload-digest", "")
    if algorithm is None or not given:
        raise NotAuthenticated("missing or unsupported payload digest", "X-Payload-Digest", "bad_signature")
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise NotAuthenticated("the payload digest does not match", "X-Payload-Digest", "bad_signature")
    event = json.loads(body)
    if event.get("type") != "applicantReviewed":
        return None
    external = str(event.get("externalUserId", ""))
    if not external.startswith(EXTERNAL_PREFIX) or not _ascii_digits(external.removeprefix(EXTERNAL_PREFIX)):
        return None  # not one of ours
    result = event.get("reviewResult") or {}
    return Review(
        int(external.removeprefix(EXTERNAL_PREFIX)),
        result.get("reviewAnswer") == "GREEN",
        ",".join(result.get("rejectLabels") or []),
        str(result.get("moderationComment") or result.get("clientComment") or ""),
        int(event.get("createdAtMs") or 0),
    )


def sign_webhook(secret: str, body: bytes) -> dict[str, str]:
    """The headers Sumsub sends with a webhook (used by the local tools and tests)."""
    return {
        "X-Payload-Digest": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "X-Payload-Digest-Alg": "HMAC_SHA256_HEX",
    }
