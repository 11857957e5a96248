"""User items.

USER#<id> / PROFILE          the user (hash, type, role, token version, lockout)
EMAIL#<email> / USER         unique email -> user id (written with the user)
REFCODE#<code> / IB          an IB's referral code -> the IB's user id
"""

from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.table import Item, Table, is_condition_failure


def user_key(user_id: int) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


class EmailTaken(Exception):
    pass


class ConcurrentChange(Exception):
    """The user item changed between reading and writing it."""


def create_user(user: Item, table: Table | None = None) -> None:
    """Write the user and its unique email item in one transaction."""
    table = table or Table()
    pk, sk = user_key(user["id"])
    items = [
        {**user, "pk": pk, "sk": sk},
        {"pk": f"EMAIL#{user['email']}", "sk": "USER", "user_id": user["id"]},
    ]
    if user.get("referral_code"):
        items.append({"pk": f"REFCODE#{user['referral_code']}", "sk": "IB", "user_id": user["id"]})
    try:
        table.transact_put_new(*items)
    except ClientError as error:
        if is_condition_failure(error):
            raise EmailTaken(user["email"]) from error
        raise


def get_user(user_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(*user_key(user_id))


def find_user_id_by_email(email: str, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"EMAIL#{email}", "USER")
    return int(found["user_id"]) if found else None


def find_ib_by_referral_code(code: str, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"REFCODE#{code}", "IB")
    return int(found["user_id"]) if found else None


def record_failed_login(
    user_id: int, now: int, max_failures: int, lockout_seconds: int, table: Table | None = None
) -> Item:
    """Count a failure atomically; lock the account once the count reaches the limit."""
    table = table or Table()
    updated = table.update(
        *user_key(user_id),
        "ADD failed_logins :one",
        {":one": 1},
        condition="attribute_exists(pk)",
    )
    if int(updated.get("failed_logins", 0)) >= max_failures:
        updated = table.update(*user_key(user_id), "SET locked_until = :until", {":until": now + lockout_seconds})
    return updated


def clear_failed_logins(user_id: int, table: Table | None = None) -> None:
    (table or Table()).update(*user_key(user_id), "SET failed_logins = :zero REMOVE locked_until", {":zero": 0})


def set_password(user_id: int, password_hash: str, expected_version: int, table: Table | None = None) -> Item:
    """Replace the hash and bump the token version, revoking earlier tokens."""
    try:
        return (table or Table()).update(
            *user_key(user_id),
            "SET password_hash = :hash, token_version = token_version + :one",
            {":hash": password_hash, ":one": 1, ":expected": expected_version},
            condition="token_version = :expected",
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise ConcurrentChange() from error
        raise


def set_password_hash(user_id: int, password_hash: str, table: Table | None = None) -> None:
    """Store a rehash (new argon2 parameters) without touching the token version."""
    (table or Table()).update(*user_key(user_id), "SET password_hash = :hash", {":hash": password_hash})


def public_fields(user: Item) -> dict[str, Any]:
    return {k: user.get(k) for k in ("id", "email", "first_name", "last_name", "user_type")}
