"""The Client/Partner API's records.

APILOGIN#<kind>#<login> / ACCESS     access settings of one API login (kind client: a trading
                                     account's login; partner: an IB's user id): owner_id,
                                     account_id, enabled, level (open | closed), password_hash,
                                     ip_masks, token_generation, updated_at
APITOKEN#<sha256 of the token> / TOKEN   kind, login, expires_at, ttl (DynamoDB expires it), generation
                                     (the access's token_generation), owner_version (the owner's
                                     token_version) at issue: a token is good while both still match
APIAUTH#<kind>#<login> / <at>#<id>   the authorization history: at, address, result, ttl
"""

from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.table import Item, Table, is_condition_failure

HISTORY_DAYS = 90


class LoginTaken(ConditionFailed):
    """Another owner's account has this login."""


def access_key(kind: str, login: int) -> tuple[str, str]:
    return f"APILOGIN#{kind}#{login}", "ACCESS"


def get_access(kind: str, login: int) -> dict[str, Any] | None:
    return Table().get(*access_key(kind, login))


def put_access(kind: str, login: int, owner_id: int, settings: Item) -> None:
    """Save the settings of a login that is free or already the owner's."""
    pk, sk = access_key(kind, login)
    try:
        Table().put(
            {"pk": pk, "sk": sk, "kind": kind, "login": login, "owner_id": owner_id, **settings},
            condition="attribute_not_exists(pk) OR owner_id = :owner",
            expression_values={":owner": owner_id},
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise LoginTaken(login) from error
        raise


def put_token(token_hash: str, kind: str, login: int, expires_at: int, generation: int, owner_version: int) -> None:
    Table().put(
        {
            "pk": f"APITOKEN#{token_hash}",
            "sk": "TOKEN",
            "kind": kind,
            "login": login,
            "expires_at": expires_at,
            "generation": generation,
            "owner_version": owner_version,
            "ttl": expires_at,
        },
        condition="attribute_not_exists(pk)",
    )


def get_token(token_hash: str) -> dict[str, Any] | None:
    return Table().get(f"APITOKEN#{token_hash}", "TOKEN", consistent=False)


def record_attempt(kind: str, login: int, attempt_id: int, at: int, address: str, result: str) -> None:
    Table().put(
        {
            "pk": f"APIAUTH#{kind}#{login}",
            "sk": f"{at:010d}#{attempt_id}",
            "at": at,
            "address": address,
            "result": result,
            "ttl": at + HISTORY_DAYS * 86400,
        }
    )


def attempts(kind: str, login: int, since: int) -> list[dict[str, Any]]:
    """The login's authorization history since a time, newest first."""
    return Table().query(
        "pk = :pk AND sk >= :since", {":pk": f"APIAUTH#{kind}#{login}", ":since": f"{since:010d}#"}, forward=False
    )
