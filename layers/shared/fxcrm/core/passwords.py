"""Portal passwords: argon2id with OWASP's parameters, and the password rule."""

import re
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from fxcrm.core.errors import InvalidInput

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both paths cost the same.
    Made on first use, not at import: a hash costs ~40 ms of cold start."""
    return _hasher.hash("fxcrm-timing-equaliser")


MIN_LENGTH = 8
MAX_LENGTH = 128


def check_rule(password: str, field: str = "password") -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters", field)
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        raise InvalidInput("must contain at least one letter and one digit", field)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
