"""User items.

USER#<id> / PROFILE          the user (hash, type, role, token version, TOTP, IB; the name,
                             from KYC once given, with `name_search`: its casefolded words for the name filters);
                             gsi2: USERS#<type>#<shard> / <id, 16 digits> (users of a type, by age,
                             over SHARDS keys per type; readers merge them)
                             gsi1 (when under an IB): IBCLIENTS#<ib id> / <id, 16 digits> (an IB's direct downline)
USER#<id> / IBHIST#<at>#<n>  a change of the user's IB (who, from, to)
EMAIL#<email> / USER         unique email -> user id (written with the user)
REFCODE#<code> / IB          an IB's referral code -> the IB's user id
"""

import zlib
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import counts, ib_index, listing
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.table import Item, Table, is_condition_failure, to_ddb, transact, values


def user_key(user_id: int) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


class EmailTaken(ConditionFailed):
    pass


class ConcurrentChange(ConditionFailed):
    """The user item changed between reading and writing it."""


SHARDS = 4  # gsi2 keys per user type; raising it needs a backfill (docs/operations.md)
COUNTER_SHARDS = 2  # every sign-up writes its type's counter; readers read every shard
ALL = "all"  # the counters' one bucket


def _shard_of(user_id: int) -> int:
    return zlib.crc32(str(user_id).encode()) % SHARDS


def type_counter(user_type: str) -> counts.Counter:
    return counts.Counter(f"users#{user_type}", COUNTER_SHARDS)


def create_user(user: Item, table: Table | None = None) -> None:
    """Write the user and its unique email item, and count it, in one transaction."""
    table = table or Table()
    pk, sk = user_key(user["id"])
    items = [
        # gsi2: every user of a type, newest first (the back office's lists)
        {
            **user,
            "pk": pk,
            "sk": sk,
            "gsi2pk": f"USERS#{user['user_type']}#{_shard_of(int(user['id']))}",
            "gsi2sk": f"{user['id']:016d}",
            **(downline_keys(int(user["ib_id"]), int(user["id"])) if user.get("ib_id") is not None else {}),
        },
        {"pk": f"EMAIL#{user['email']}", "sk": "USER", "user_id": user["id"]},
    ]
    if user.get("referral_code"):
        items.append({"pk": f"REFCODE#{user['referral_code']}", "sk": "IB", "user_id": user["id"]})
    puts = [
        {"Put": {"TableName": table.name, "Item": to_ddb(i), "ConditionExpression": "attribute_not_exists(pk)"}}
        for i in items
    ]
    counted = counts.change(table, type_counter(str(user["user_type"])), ALL)
    try:
        # the user is indexed under every IB above it, in the same transaction
        transact(table.client, [*puts, counted, *ib_index.new_user_requests(user, table)])
    except ClientError as error:
        if is_condition_failure(error):
            raise EmailTaken(user["email"]) from error
        raise


def downline_keys(ib_id: int, user_id: int) -> Item:
    """gsi1: the users directly under an IB."""
    return {"gsi1pk": f"IBCLIENTS#{ib_id}", "gsi1sk": f"{user_id:016d}"}


def direct_downline(ib_id: int, table: Table | None = None) -> list[Item]:
    """The users (clients and sub-IBs) directly under an IB."""
    return (table or Table()).query("gsi1pk = :pk", {":pk": f"IBCLIENTS#{ib_id}"}, index="gsi1")


def get_users(user_ids: list[int], table: Table | None = None) -> list[Item]:
    """Several users at once (BatchGetItem)."""
    return (table or Table()).batch_get([user_key(u) for u in user_ids])


def get_user(user_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(*user_key(user_id))


def find_user_id_by_email(email: str, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"EMAIL#{email}", "USER")
    return int(found["user_id"]) if found else None


def find_ib_by_referral_code(code: str, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"REFCODE#{code}", "IB")
    return int(found["user_id"]) if found else None


def set_password(user_id: int, password_hash: str, expected_version: int, table: Table | None = None) -> Item:
    """Replace the hash and bump the token version, revoking earlier tokens; a
    one-time password's mark goes with it."""
    try:
        return (table or Table()).update(
            *user_key(user_id),
            "SET password_hash = :hash, token_version = token_version + :one REMOVE must_change_password",
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


def set_fields(user_id: int, fields: Item, table: Table | None = None) -> None:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    (table or Table()).update(
        *user_key(user_id),
        "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        {f":f{i}": value for i, value in enumerate(fields.values())},
        condition="attribute_exists(pk)",
        names=names,
    )


def set_fields_request(user_id: int, fields: Item, table: Table | None = None) -> dict[str, Any]:
    """`set_fields` as one Update of another write's transaction (a KYC save and the name it gives)."""
    table = table or Table()
    return {
        "Update": {
            "TableName": table.name,
            "Key": values(dict(zip(("pk", "sk"), user_key(user_id), strict=True))),
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(fields)},
            "ExpressionAttributeValues": values({f":f{i}": value for i, value in enumerate(fields.values())}),
        }
    }


def activate_totp(user_id: int, secret: str, step: int, recovery_hashes: set[str], table: Table | None = None) -> None:
    (table or Table()).update(
        *user_key(user_id),
        "SET totp_secret = :secret, totp_last_step = :step, recovery_codes = :codes REMOVE totp_pending_secret",
        {":secret": secret, ":step": step, ":codes": recovery_hashes, ":pending": secret},
        condition="totp_pending_secret = :pending",
    )


def use_totp_step(user_id: int, step: int, table: Table | None = None) -> bool:
    """Record the step of a good code, once: False if it (or a later one) was used."""
    try:
        (table or Table()).update(
            *user_key(user_id),
            "SET totp_last_step = :step",
            {":step": step},
            condition="attribute_not_exists(totp_last_step) OR totp_last_step < :step",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def use_recovery_code(user_id: int, code_hash: str, table: Table | None = None) -> bool:
    """Remove the code from the user's set, once: False if it is not there."""
    try:
        (table or Table()).update(
            *user_key(user_id),
            "DELETE recovery_codes :code",
            {":code": {code_hash}, ":one": code_hash},
            condition="contains(recovery_codes, :one)",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def set_status(user_id: int, status: str, table: Table | None = None) -> Item:
    """Enable or disable; disabling also revokes every token (version bump)."""
    bump = ", token_version = token_version + :one" if status != "active" else ""
    table = table or Table()
    updated = table.update(
        *user_key(user_id),
        "SET #status = :status" + bump,
        {":status": status} | ({":one": 1} if bump else {}),
        condition="attribute_exists(pk)",
        names={"#status": "status"},
    )
    ib_index.flags_changed(user_id, table=table)  # the IB lists' enabled/disabled partitions
    return updated


def users_page(user_type: str, number: int, size: int, table: Table | None = None) -> list[Item]:
    """Page `number` of the users of a type, newest first: the shards merged lazily."""
    parts = [listing.Part("gsi2pk = :pk", {":pk": f"USERS#{user_type}#{shard}"}, "gsi2") for shard in range(SHARDS)]
    return listing.page(table or Table(), parts, number, size, order=lambda item: str(item["gsi2sk"]))


def count_users(user_type: str, table: Table | None = None) -> int:
    """From the type's counter (one BatchGetItem)."""
    return counts.total(table or Table(), type_counter(user_type), [ALL])


def set_ib(user_id: int, ib_id: int | None, record: Item, table: Table | None = None) -> None:
    """Move the user under another IB and keep the change in its history, at once."""
    table = table or Table()
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": values({"pk": f"USER#{user_id}", "sk": "PROFILE"}),
        "ConditionExpression": "attribute_exists(pk)",
    }
    # ib_moves tells readers of the tree that this user has a history to read
    if ib_id is None:
        update["UpdateExpression"] = "REMOVE ib_id, gsi1pk, gsi1sk ADD ib_moves :one"
        update["ExpressionAttributeValues"] = values({":one": 1})
    else:
        update["UpdateExpression"] = "SET ib_id = :ib, gsi1pk = :g1pk, gsi1sk = :g1sk ADD ib_moves :one"
        keys = downline_keys(ib_id, user_id)
        update["ExpressionAttributeValues"] = values(
            {":ib": ib_id, ":g1pk": keys["gsi1pk"], ":g1sk": keys["gsi1sk"], ":one": 1}
        )
    history = {"pk": f"USER#{user_id}", "sk": f"IBHIST#{record['at']:010d}#{record['id']}", **record}
    table.client.transact_write_items(
        TransactItems=[{"Update": update}, {"Put": {"TableName": table.name, "Item": to_ddb(history)}}]
    )


def ib_history(user_id: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{user_id}", ":prefix": "IBHIST#"}
    )


def reset_totp(user_id: int, table: Table | None = None) -> None:
    """Forget the second factor (the owner enrols again) and end every session."""
    (table or Table()).update(
        *user_key(user_id),
        "REMOVE totp_secret, totp_pending_secret, totp_last_step, recovery_codes "
        "SET token_version = token_version + :one",
        {":one": 1},
        condition="attribute_exists(pk)",
    )
