"""Two-factor login for staff: TOTP (RFC 6238) with enrolment by QR code and
single-use recovery codes.

A staff password login gives a token without `mfa`; it is good only for the
endpoints here. Enrolment stores a pending secret, activation (a first good
code) makes it the secret and returns ten recovery codes once (kept as
SHA-256 hashes: they are long random strings, not passwords). Each code's
time step is used at most once per user. Each check takes one of the
address's login attempts first (`accounts.take_login_attempt`), so wrong
codes and wrong passwords share one limit that holds under concurrency."""

import hashlib
import secrets
import time
from typing import Any

import pyotp

from fxcrm import audit
from fxcrm.auth.accounts import Session, session_for, take_login_attempt
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from fxcrm.core.settings import Settings
from fxcrm.dal import rate_limits
from fxcrm.dal import users as users_dal

RECOVERY_CODES = 10
ISSUER = "fxcrm"


def _user(principal: Principal) -> dict[str, Any]:
    if not principal.is_staff:
        raise Forbidden("two-factor login is for staff accounts", code="staff_only")
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("the token is invalid or has expired", "Authorization")
    return user


def status(principal: Principal) -> dict[str, Any]:
    return {"enrolled": bool(_user(principal).get("totp_secret")), "mfa": principal.mfa}


def enrol(settings: Settings, principal: Principal) -> dict[str, Any]:
    """A new secret to scan; it takes effect once a code from it is confirmed."""
    user = _user(principal)
    if user.get("totp_secret"):
        raise Conflict("two-factor login is set up already", code="totp_enrolled")
    secret = pyotp.random_base32()
    users_dal.set_fields(principal.user_id, {"totp_pending_secret": secret})
    uri = pyotp.TOTP(secret).provisioning_uri(name=principal.email, issuer_name=settings.totp_issuer or ISSUER)
    import segno  # here: only enrolment draws a QR code (cold start of the Auth function)

    qr = segno.make(uri, error="m")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr.svg_data_uri(scale=4)}


def _step(now: float) -> int:
    return int(now // 30)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is."""
    totp = pyotp.TOTP(secret)
    for step in (_step(now), _step(now) - 1, _step(now) + 1):
        if secrets.compare_digest(totp.at(step * 30), code):
            return step
    return None


def _refuse(user: dict[str, Any], now: int, source_ip: str) -> None:
    # the attempt taken before the check stays spent
    audit.security_event(user, "login.mfa_failed", source_ip, now)
    raise InvalidInput("the code is wrong or was used already", "code", "totp_invalid")


def activate(
    settings: Settings, principal: Principal, code: str, now: int, source_ip: str = ""
) -> tuple[Session, list[str]]:
    user = _user(principal)
    pending = user.get("totp_pending_secret")
    if not pending:
        raise Conflict("start the enrolment first", code="totp_not_started")
    attempt = take_login_attempt(settings, principal.email, now)
    step = _matching_step(str(pending), code, time.time())
    if step is None:
        _refuse(user, now, source_ip)
    rate_limits.give_back(attempt)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    users_dal.activate_totp(principal.user_id, str(pending), step or 0, {_hash(c) for c in codes})
    audit.security_event(user, "login.mfa_enrolled", source_ip, now)
    return session_for(settings, principal.user_id, now, mfa=True), codes


def verify(
    settings: Settings,
    principal: Principal,
    code: str | None,
    recovery_code: str | None,
    now: int,
    source_ip: str = "",
) -> Session:
    user = _user(principal)
    secret = user.get("totp_secret")
    if not secret:
        raise Conflict("set up two-factor login first", code="totp_not_enrolled")
    attempt = take_login_attempt(settings, principal.email, now)
    if recovery_code:
        if not users_dal.use_recovery_code(principal.user_id, _hash(recovery_code.strip().lower())):
            _refuse(user, now, source_ip)
    else:
        step = _matching_step(str(secret), code or "", time.time())
        if step is None or not users_dal.use_totp_step(principal.user_id, step):
            _refuse(user, now, source_ip)
    rate_limits.give_back(attempt)
    audit.security_event(user, "login.mfa" if not recovery_code else "login.recovery_code", source_ip, now)
    return session_for(settings, principal.user_id, now, mfa=True)


def _hash(recovery_code: str) -> str:
    return hashlib.sha256(recovery_code.encode()).hexdigest()
