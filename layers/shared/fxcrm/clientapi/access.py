"""Who may call the Client/Partner API for a login, as InstaForex's Client
Cabinet API works: the owner turns access on per trading account (client) or
for their IB account (partner) and picks a level.

- open: the methods answer without a token;
- closed: a token is required, obtained with the login and the API password
  (argon2id), and, if IP masks are set, only from an address inside one.

Tokens are random, stored hashed, and expire. A token also ends when the
owner changes the API password, turns access off or changes the level (the
access item's `token_generation` moves on), and when the owner's sessions end
(staff disable the user, a portal password change: the user's token version
moves on). Every token request and every refusal is kept in the login's
authorization history; token requests are limited per login."""

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from fxcrm.core import ids, passwords
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from fxcrm.dal import client_api as dal
from fxcrm.dal import rate_limits
from fxcrm.dal import trading as trading_dal
from fxcrm.dal import users as users_dal

Kind = Literal["client", "partner"]
TOKEN_SECONDS = 3600
FAILURES_ALLOWED = 5
FAILURE_WINDOW_SECONDS = 900


@dataclass(frozen=True)
class Caller:
    """Who the API answered: the login and its owner (for the data methods)."""

    kind: Kind
    login: int
    owner_id: int
    account_id: int | None


# ---------------------------------------------------------------- settings (portal)


def _networks(masks: list[str]) -> list[str]:
    out = []
    for i, mask in enumerate(masks):
        try:
            out.append(str(ipaddress.ip_network(mask.strip(), strict=False)))
        except ValueError as error:
            raise InvalidInput("is not an IPv4 or IPv6 address or network (CIDR)", f"ip_masks.{i}") from error
    return out


def _view(kind: Kind, login: int, stored: dict[str, Any] | None) -> dict[str, Any]:
    stored = stored or {}
    return {
        "kind": kind,
        "login": login,
        "enabled": bool(stored.get("enabled", False)),
        "level": stored.get("level", "closed"),
        "has_password": bool(stored.get("password_hash")),
        "ip_masks": list(stored.get("ip_masks", [])),
    }


def client_login(principal: Principal, account_id: int) -> tuple[int, int]:
    """The caller's own trading account: (login, account id); anyone else's is 404."""
    account = trading_dal.get_trading_account(account_id)
    if account is None or int(account["user_id"]) != principal.user_id:
        raise NotFound("no such trading account", "account_id")
    return int(account["login"]), account_id


def partner_login(principal: Principal) -> int:
    if principal.user_type != "ib":
        raise Forbidden("for introducing brokers only", code="ib_only")
    return principal.user_id


def settings_of(kind: Kind, login: int) -> dict[str, Any]:
    return _view(kind, login, dal.get_access(kind, login))


def save(
    kind: Kind,
    login: int,
    owner_id: int,
    account_id: int | None,
    enabled: bool,
    level: str,
    password: str | None,
    ip_masks: list[str],
    now: int,
) -> dict[str, Any]:
    """Save the owner's settings. A new password replaces the old one (never returned)."""
    current = dal.get_access(kind, login) or {}
    password_hash = current.get("password_hash")
    if password is not None:
        passwords.check_rule(password, "password")
        password_hash = passwords.hash_password(password)
    if enabled and level == "closed" and not password_hash:
        raise InvalidInput("set an API password for the closed level", "password")
    generation = int(current.get("token_generation", 0))
    if password is not None or enabled != bool(current.get("enabled")) or level != current.get("level"):
        generation += 1  # every token issued before stops working
    settings = {
        "enabled": enabled,
        "level": level,
        "password_hash": password_hash,
        "ip_masks": _networks(ip_masks),
        "account_id": account_id,
        "token_generation": generation,
        "updated_at": now,
    }
    try:
        dal.put_access(kind, login, owner_id, settings)
    except dal.LoginTaken as error:
        raise Conflict("this login's API access belongs to another account", "login", "login_taken") from error
    return _view(kind, login, settings)


# ---------------------------------------------------------------- tokens and checks


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _allowed(address: str, masks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(mask, strict=False) for mask in masks)


def _record(kind: Kind, login: int, now: int, address: str, result: str) -> None:
    dal.record_attempt(kind, login, ids.new_id(), now, address, result)


def _owner_active(access: dict[str, Any]) -> dict[str, Any] | None:
    """The login's owner, if staff have not disabled the user."""
    owner = users_dal.get_user(int(access["owner_id"]))
    return owner if owner is not None and owner.get("status") == "active" else None


def _refusal(access: dict[str, Any] | None, owner: dict[str, Any] | None, inside: bool) -> str | None:
    """Why no token may be issued whatever the password (None: the password decides)."""
    if access is None:
        return "unknown_login"
    if not access.get("enabled"):
        return "api_disabled"
    if not access.get("password_hash"):
        return "no_password"
    if owner is None:
        return "account_disabled"
    if not inside:
        return "address_not_allowed"
    return None


def request_token(kind: Kind, login: int, password: str, address: str, now: int) -> str:
    """A token for the login, if the password is right (and the address allowed).
    Every refusal is the same 401 after the same argon2 work, so neither a login,
    its settings, its owner's status nor (outside the masks) the password can be probed."""
    # An attempt is taken before the password is checked, so concurrent requests
    # never evaluate more than FAILURES_ALLOWED of them; a token gives its own back.
    attempt = rate_limits.take("api-auth", f"{kind}:{login}", FAILURES_ALLOWED, FAILURE_WINDOW_SECONDS, now)
    if attempt is None:
        _record(kind, login, now, address, "rate_limited")
        raise TooManyRequests(
            "too many failed attempts for this login; try again later",
            rate_limits.seconds_left(FAILURE_WINDOW_SECONDS, now),
            "Login",
        )
    access = dal.get_access(kind, login)
    owner = _owner_active(access) if access is not None else None
    masks = list(access.get("ip_masks") or []) if access is not None else []
    refusal = _refusal(access, owner, not masks or _allowed(address, masks))
    # outside the masks the real hash is not even tried: a dummy verification costs the same
    stored = str(access["password_hash"]) if access is not None and refusal is None else None
    right = passwords.verify_password(stored, password)  # False whenever `stored` is None
    if refusal is not None or not right or access is None or owner is None:
        if access is not None:
            _record(kind, login, now, address, refusal or "wrong_password")
        raise NotAuthenticated("wrong login or API password", "Password", "bad_credentials")
    token = secrets.token_urlsafe(32)
    dal.put_token(
        _hash(token),
        kind,
        login,
        now + TOKEN_SECONDS,
        int(access.get("token_generation", 0)),
        int(owner["token_version"]),
    )
    rate_limits.give_back(attempt)
    _record(kind, login, now, address, "token_issued")
    return token


def authorise(kind: Kind, login: int, passkey: str | None, address: str, now: int) -> Caller:
    """Check a method call against the login's settings; answers who it is for."""
    access = dal.get_access(kind, login)
    # a disabled owner's API is off too, on either level
    owner = _owner_active(access) if access is not None and access.get("enabled") else None
    if access is None or owner is None:
        raise NotFound("API access is not turned on for this login", "login", "api_disabled")
    caller = Caller(
        kind, login, int(access["owner_id"]), int(access["account_id"]) if access.get("account_id") else None
    )
    if access.get("level") == "open":
        return caller
    if not passkey:
        raise NotAuthenticated("send the token in the passkey header", "passkey", "token_required")
    token = dal.get_token(_hash(passkey.strip().strip('"')))
    if token is None or int(token["expires_at"]) <= now:
        raise NotAuthenticated("the token is unknown or has expired; request a new one", "passkey", "bad_token")
    if token["kind"] != kind or int(token["login"]) != login:
        _record(kind, login, now, address, "token_of_another_login")
        raise Forbidden("this token was issued for another login", "passkey", "token_of_another_login")
    same_settings = int(token.get("generation", 0)) == int(access.get("token_generation", 0))
    same_sessions = int(token.get("owner_version", -1)) == int(owner["token_version"])
    if not (same_settings and same_sessions):
        raise NotAuthenticated("the token was revoked; request a new one", "passkey", "bad_token")
    masks = list(access.get("ip_masks") or [])
    if masks and not _allowed(address, masks):
        _record(kind, login, now, address, "address_not_allowed")
        raise Forbidden("this address is outside the login's IP masks", "address", "address_not_allowed")
    return caller


def history(kind: Kind, login: int, since: int) -> list[dict[str, Any]]:
    return dal.attempts(kind, login, since)
