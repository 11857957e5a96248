"""Access tokens: HS256 JWTs with a pinned algorithm, issuer, audience, expiry
and the user's token version (bumped to revoke every earlier token)."""

import secrets
from dataclasses import dataclass

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


def _key(settings: Settings) -> str:
    return str(get_secret_json(settings.jwt_secret_name, settings.secret_cache_seconds)["signing_key"])


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
        payload = jwt.decode(
            token,
            _key(settings),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud", "ver"]},
        )
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
