"""Access tokens: HS256 JWTs with a pinned algorithm, issuer, audience, expiry
and the user's token version (bumped to revoke every earlier token)."""

import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from fxcrm.adapters.secrets import get_secret_json
from fxcrm.core.errors import NotAuthenticated
from fxcrm.core.settings import Settings

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    user_id: int
    user_type: str
    role: str
    token_version: int
    expires_at: int
    mfa: bool = False  # a second factor was checked at login (staff)


def _secret(settings: Settings) -> dict[str, Any]:
    return get_secret_json(settings.jwt_secret_name, settings.secret_cache_seconds)


def _key(settings: Settings) -> str:
    return str(_secret(settings)["signing_key"])


def _verification_keys(settings: Settings) -> list[str]:
    """The signing key, then (while a rotation is under way) the previous one: tokens
    signed before the rotation stay valid until they expire (docs/operations.md)."""
    secret = _secret(settings)
    previous = secret.get("previous_signing_key")
    return [str(secret["signing_key"])] + ([str(previous)] if previous else [])


def _decode(settings: Settings, token: str) -> dict[str, Any]:
    keys = _verification_keys(settings)
    for key in keys[:-1]:
        try:
            return _decode_with(settings, token, key)
        except jwt.InvalidSignatureError:
            continue
    return _decode_with(settings, token, keys[-1])


def _decode_with(settings: Settings, token: str, key: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["exp", "iat", "sub", "iss", "aud", "ver"]},
    )


def issue(
    settings: Settings, user_id: int, user_type: str, role: str, token_version: int, now: int, mfa: bool = False
) -> str:
    payload = {
        "sub": str(user_id),
        "typ": user_type,
        "role": role,
        "ver": token_version,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + settings.token_ttl_seconds,
        "jti": secrets.token_urlsafe(12),
        "mfa": mfa,
    }
    return jwt.encode(payload, _key(settings), algorithm=ALGORITHM)


def verify(settings: Settings, token: str) -> Claims:
    try:
        payload = _decode(settings, token)
        return Claims(
            int(payload["sub"]),
            str(payload["typ"]),
            str(payload["role"]),
            int(payload["ver"]),
            int(payload["exp"]),
            payload.get("mfa") is True,
        )
    except (jwt.InvalidTokenError, KeyError, ValueError) as error:
        raise NotAuthenticated("the token is invalid or has expired", "Authorization") from error
