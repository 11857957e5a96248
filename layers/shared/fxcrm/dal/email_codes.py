"""Email verification codes.

CODE#<scene>#<email> / CODE   one live code per address and scene (TTL = expiry)
"""

from botocore.exceptions import ClientError

from fxcrm.dal.table import Item, Table, is_condition_failure


def _key(scene: str, email: str) -> tuple[str, str]:
    return f"CODE#{scene}#{email}", "CODE"


def get_code(scene: str, email: str, table: Table | None = None) -> Item | None:
    return (table or Table()).get(*_key(scene, email))


def put_code(
    scene: str, email: str, code_hash: str, expires_at: int, can_resend_at: int, now: int, table: Table | None = None
) -> bool:
    """Store a new code unless another one was sent within the cooldown."""
    pk, sk = _key(scene, email)
    try:
        (table or Table()).put(
            {
                "pk": pk,
                "sk": sk,
                "code_hash": code_hash,
                "expires_at": expires_at,
                "can_resend_at": can_resend_at,
                "ttl": expires_at,
            },
            condition="attribute_not_exists(pk) OR can_resend_at <= :now",
            expression_values={":now": now},
        )
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise


def consume(scene: str, email: str, code_hash: str, table: Table | None = None) -> bool:
    """Delete the code if it is still this one: single use even under a race.
    (Wrong guesses are limited by the code's attempt counter, `rate_limits`.)"""
    try:
        (table or Table()).delete(
            *_key(scene, email),
            condition="code_hash = :hash",
            expression_values={":hash": code_hash},
        )
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
