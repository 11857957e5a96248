"""Six-digit email codes per scene: expiry, resend cooldown, single use,
limited attempts, and a per-address sending limit."""

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from fxcrm.core.errors import InvalidInput, TooManyRequests
from fxcrm.core.languages import Language
from fxcrm.core.settings import Settings
from fxcrm.dal import email_codes as codes_dal
from fxcrm.dal import rate_limits
from fxcrm.mail import sender as mail


class Scene(StrEnum):
    register = "register"
    withdrawal = "withdrawal"
    transfer = "transfer"
    password_change = "password_change"  # noqa: S105 - not a secret


@dataclass(frozen=True)
class SentCode:
    can_resend_at: int
    expired_at: int


def _hash(scene: Scene, email: str, code: str) -> str:
    return hashlib.sha256(f"{scene.value}:{email}:{code}".encode()).hexdigest()


def send_code(
    settings: Settings,
    email: str,
    scene: Scene,
    source_ip: str,
    now: int,
    user_id: int | None = None,
    language: Language | None = None,
) -> SentCode:
    """Store a new code and mail it (message `code_<scene>`), in the user's
    language, or `language` for an address not registered yet."""
    if not rate_limits.take("email-code-ip", source_ip, settings.email_codes_per_address_per_hour, 3600, now):
        raise TooManyRequests("too many codes requested from this address", retry_after=3600 - now % 3600)
    code = f"{secrets.randbelow(10**6):06d}"
    sent = SentCode(now + settings.email_code_resend_seconds, now + settings.email_code_ttl_seconds)
    stored = codes_dal.put_code(scene.value, email, _hash(scene, email, code), sent.expired_at, sent.can_resend_at, now)
    if not stored:
        current = codes_dal.get_code(scene.value, email)
        wait = int(current["can_resend_at"]) - now if current else 1
        raise TooManyRequests(
            "a code was sent recently; wait before asking again",
            retry_after=wait,
            field="email",
            code="resend_too_soon",
        )
    minutes = settings.email_code_ttl_seconds // 60
    mail.send(
        settings, email, f"code_{scene.value}", {"code": code, "minutes": minutes}, user_id=user_id, language=language
    )
    return sent


def check_code(settings: Settings, email: str, scene: Scene, code: str, now: int, field: str = "email_code") -> None:
    """Consume the code if it is right; raise a 422 naming `field` otherwise."""
    current = codes_dal.get_code(scene.value, email)
    if current is None or int(current["expires_at"]) <= now:
        raise InvalidInput("the code has expired or was never sent; request a new one", field, "code_expired")
    # One attempt counter per code (its send time tells codes apart), taken
    # before the comparison: concurrent guesses cannot exceed the limit.
    subject = f"{scene.value}:{email}:{int(current['can_resend_at'])}"
    limit = settings.email_code_max_attempts
    if rate_limits.take_until("email-code", subject, limit, int(current["expires_at"])) is None:
        raise InvalidInput("too many wrong codes; request a new one", field, "code_attempts_exceeded")
    code_hash = _hash(scene, email, code)
    if not secrets.compare_digest(code_hash, str(current["code_hash"])):
        raise InvalidInput("the code is wrong", field, "code_invalid")
    if not codes_dal.consume(scene.value, email, code_hash):
        raise InvalidInput("the code was already used; request a new one", field, "code_expired")
