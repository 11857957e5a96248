"""Register, log in, change password, and authenticate a bearer token."""

from dataclasses import dataclass
from typing import Any

from fxcrm.auth import tokens
from fxcrm.auth.email_codes import Scene, SentCode, check_code, send_code
from fxcrm.core import ids, passwords
from fxcrm.core.caller import CLIENT, STAFF, Principal, full_name, person_name
from fxcrm.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, TooManyRequests
from fxcrm.core.languages import DEFAULT, Language, known
from fxcrm.core.observability import logger, metrics
from fxcrm.core.settings import Settings
from fxcrm.dal import rate_limits
from fxcrm.dal import users as users_dal


@dataclass(frozen=True)
class Session:
    token: str
    user_info: dict[str, Any]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _session(settings: Settings, user: dict[str, Any], now: int, mfa: bool = False) -> Session:
    token = tokens.issue(
        settings, int(user["id"]), user["user_type"], user["role"], int(user["token_version"]), now, mfa
    )
    info = users_dal.public_fields(user)
    info["full_name"] = full_name(user)
    info["must_change_password"] = bool(user.get("must_change_password"))
    return Session(token, info)


def session_for(settings: Settings, user_id: int, now: int, mfa: bool) -> Session:
    user = users_dal.get_user(user_id)
    if user is None:
        raise NotAuthenticated("the token is invalid or has expired", "Authorization")
    return _session(settings, user, now, mfa)


def new_user(email: str, password: str, user_type: str, role: str, now: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": ids.new_id(),
        "email": normalise_email(email),
        "password_hash": passwords.hash_password(password),
        "user_type": user_type,
        "role": role,
        "status": "active",
        "token_version": 1,
        "created_at": now,
        **person_name(extra.pop("first_name", ""), extra.pop("last_name", "")),
        **extra,
    }


def register_client(
    settings: Settings,
    email: str,
    email_code: str,
    password: str,
    invite_code: str | None,
    now: int,
    language: Language = DEFAULT,
) -> Session:
    """A new client; `language` is what fxcrm writes to them in (they can change it)."""
    email = normalise_email(email)
    passwords.check_rule(password)
    ib_id = None
    if invite_code:
        ib_id = users_dal.find_ib_by_referral_code(invite_code.strip())
        if ib_id is None:
            raise InvalidInput("no introducing broker has this invite code", "invite_code", "invite_code_unknown")
    if users_dal.find_user_id_by_email(email) is not None:
        raise Conflict("this email is already registered", "email", "email_taken")
    check_code(settings, email, Scene.register, email_code, now)
    user = new_user(
        email, password, CLIENT, CLIENT, now, invite_code=invite_code or None, ib_id=ib_id, language=language
    )
    try:
        users_dal.create_user(user)
    except users_dal.EmailTaken as error:
        raise Conflict("this email is already registered", "email", "email_taken") from error
    metrics.add_metric(name="ClientRegistered", unit="Count", value=1)
    logger.info("client registered", extra={"user_id": user["id"], "ib_id": ib_id})
    return _session(settings, user, now)


def take_login_attempt(settings: Settings, email: str, now: int) -> str:
    """Take one of the address's attempts before any secret of it is checked
    (password or staff second factor): 429 once the window's are spent. The
    key is given back on success (`rate_limits.give_back`)."""
    window = settings.login_lockout_seconds
    taken = rate_limits.take("login", normalise_email(email), settings.max_failed_logins, window, now)
    if taken is None:
        raise TooManyRequests(
            "too many failed attempts; try again later",
            rate_limits.seconds_left(window, now),
            code="account_locked",
        )
    return taken


def login(settings: Settings, email: str, password: str, now: int, source_ip: str = "") -> Session:
    email = normalise_email(email)
    # Known and unknown addresses alike: the same limit, the same argon2 work, the same answer.
    attempt = take_login_attempt(settings, email, now)
    user_id = users_dal.find_user_id_by_email(email)
    user = users_dal.get_user(user_id) if user_id is not None else None
    right = passwords.verify_password(user["password_hash"] if user is not None else None, password)
    if user is None or not right:
        metrics.add_metric(name="LoginFailed", unit="Count", value=1)
        raise NotAuthenticated("the email or password is wrong", "password", "login_failed")
    rate_limits.give_back(attempt)
    if user.get("status") != "active":
        raise NotAuthenticated("this account is disabled; contact support", "email", "account_disabled")
    if passwords.needs_rehash(user["password_hash"]):
        users_dal.set_password_hash(int(user["id"]), passwords.hash_password(password))
    metrics.add_metric(name="LoginSucceeded", unit="Count", value=1)
    if user["user_type"] == STAFF:
        # staff logins are security events; the token still needs the second factor
        from fxcrm import audit

        audit.security_event(user, "login.password", source_ip, now)
    return _session(settings, user, now)


def change_password(
    settings: Settings, principal: Principal, old_password: str, new_password: str, email_code: str | None, now: int
) -> None:
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("the token is invalid or has expired", "Authorization")
    if not passwords.verify_password(user["password_hash"], old_password):
        raise InvalidInput("the old password is wrong", "old_password", "old_password_wrong")
    passwords.check_rule(new_password, "new_password")
    if new_password == old_password:
        raise InvalidInput("the new password must differ from the old one", "new_password")
    if settings.password_change_requires_email_code:
        if not email_code:
            raise InvalidInput("an email code is required", "email_code", "email_code_required")
        check_code(settings, principal.email, Scene.password_change, email_code, now)
    try:
        users_dal.set_password(principal.user_id, passwords.hash_password(new_password), int(user["token_version"]))
    except users_dal.ConcurrentChange as error:
        raise Conflict("the password was changed meanwhile; log in again", "old_password") from error
    logger.info("password changed", extra={"user_id": principal.user_id})


def authenticate(settings: Settings, token: str) -> Principal:
    claims = tokens.verify(settings, token)
    user = users_dal.get_user(claims.user_id)
    if user is None or int(user["token_version"]) != claims.token_version:
        raise NotAuthenticated("the token has been revoked; log in again", "Authorization", "token_revoked")
    if user.get("status") != "active":
        raise NotAuthenticated("this account is disabled; contact support", "Authorization", "account_disabled")
    return Principal(
        int(user["id"]),
        user["user_type"],
        user["role"],
        user["email"],
        claims.mfa,
        tuple(user.get("ip_allow") or ()),
        bool(user.get("must_change_password")),
    )


def request_email_code(
    settings: Settings,
    email: str,
    scene: Scene,
    caller: Principal | None,
    source_ip: str,
    now: int,
    language: Language | None = None,
) -> SentCode:
    """Scene `register` is for addresses not registered yet (the mail is in
    `language`, the request's); the other scenes confirm an action of a
    logged-in user and go to that user's own address, in the user's language."""
    email = normalise_email(email)
    if scene is Scene.register:
        if users_dal.find_user_id_by_email(email) is not None:
            raise Conflict("this email is already registered", "email", "email_taken")
    elif caller is None:
        raise NotAuthenticated("log in to receive a code for this scene", "Authorization")
    elif caller.email != email:
        raise Forbidden("codes for this scene go to your own email only", "email", "email_not_yours")
    user_id = caller.user_id if caller is not None and scene is not Scene.register else None
    return send_code(settings, email, scene, source_ip, now, user_id, language)


def get_language(principal: Principal) -> Language:
    """The language fxcrm writes to the caller in (English until chosen)."""
    user = users_dal.get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated("the token is invalid or has expired", "Authorization")
    return known(user.get("language"))


def set_language(principal: Principal, language: Language) -> Language:
    users_dal.set_fields(principal.user_id, {"language": language})
    logger.info("language changed", extra={"user_id": principal.user_id, "language": language})
    return language
