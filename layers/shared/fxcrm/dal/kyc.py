"""KYC records.

KYC#<user id> / STATUS          kyc_status (filling | pending | approved | disapproved), apply_status,
                                completed_module, kyc_way, kyc_approved_at, remark, approval_id,
                                e_verify {attempt_times, status, session_id, ...}
KYC#<user id> / MODULE#<key>    one saved module's data
KYCSESSION#<session id> / SESSION   an e-verification session → its user (for the provider's callback)
KYCMATCH#<fingerprint> / USER#<user id>
                                who submitted a document (sha256 of its bytes) or an identity
                                (name, birthday, country): a second user under one key is a duplicate
"""

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import ib_index
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.table import Table, is_condition_failure
from fxcrm.dal.table import values as _ddb

STATUS = "STATUS"


class AttemptsExhausted(ConditionFailed):
    """No e-verification attempts left."""


def get_kyc_status(user_id: int, table: Table | None = None) -> str:
    found = (table or Table()).get(f"KYC#{user_id}", STATUS)
    return str(found["kyc_status"]) if found else "filling"


def get_kyc_statuses(user_ids: list[int], table: Table | None = None) -> dict[int, str]:
    """Several users' KYC statuses at once (BatchGetItem); a user without one is filling."""
    found = (table or Table()).batch_get([(f"KYC#{u}", STATUS) for u in user_ids]) if user_ids else []
    known = {int(str(i["pk"]).removeprefix("KYC#")): str(i["kyc_status"]) for i in found if "kyc_status" in i}
    return {u: known.get(u, "filling") for u in user_ids}


def set_kyc_status(user_id: int, status: str, now: int, table: Table | None = None) -> None:
    """Set the status alone (the local demo seed)."""
    (table or Table()).update(
        f"KYC#{user_id}",
        STATUS,
        "SET kyc_status = :s, apply_status = :s, updated_at = :now",
        {":s": status, ":now": now},
    )
    ib_index.flags_changed(user_id, status, table)


def get_status(user_id: int) -> dict[str, Any] | None:
    return Table().get(f"KYC#{user_id}", STATUS)


def get_modules(user_id: int) -> dict[str, Any]:
    """Every saved module of a user, by key (one Query)."""
    rows = Table().query("pk = :pk AND begins_with(sk, :m)", {":pk": f"KYC#{user_id}", ":m": "MODULE#"})
    return {row["sk"].removeprefix("MODULE#"): row.get("data") for row in rows}


def get_module(user_id: int, module: str) -> Any:
    """One saved module's data (one GetItem), or None."""
    row = Table().get(f"KYC#{user_id}", f"MODULE#{module}")
    return row.get("data") if row else None


def save_module(
    user_id: int, module: str, data: Any, completed: list[str], now: int, with_items: Sequence[dict[str, Any]] = ()
) -> None:
    """Write a module and the list of completed modules together (and
    `with_items`, other writes of the same transaction); ConditionFailed once
    the KYC is under review or approved."""
    table = Table()
    item = {"pk": f"KYC#{user_id}", "sk": f"MODULE#{module}", "data": data, "updated_at": now}
    changeable = "attribute_not_exists(kyc_status) OR kyc_status IN (:filling, :disapproved)"
    try:
        table.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": _ddb(item),
                    }
                },
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": _ddb({"pk": f"KYC#{user_id}", "sk": STATUS}),
                        "UpdateExpression": "SET completed_module = :done, updated_at = :now, "
                        "kyc_status = if_not_exists(kyc_status, :filling), "
                        "apply_status = if_not_exists(apply_status, :filling)",
                        "ConditionExpression": changeable,
                        "ExpressionAttributeValues": _ddb(
                            {":done": completed, ":now": now, ":filling": "filling", ":disapproved": "disapproved"}
                        ),
                    }
                },
                *with_items,
            ]
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise ConditionFailed(f"the KYC of user {user_id} is not changeable") from error
        raise


def change_status(
    user_id: int, status: str, allowed_from: tuple[str, ...], now: int, fields: dict[str, Any]
) -> dict[str, Any]:
    """Move the KYC status, only from one of `allowed_from`; ConditionFailed otherwise."""
    names = {"#s": "kyc_status"}
    sets = ["#s = :status", "apply_status = :status", "updated_at = :now"]
    expression_values: dict[str, Any] = {":status": status, ":now": now}
    for i, (key, value) in enumerate(fields.items()):
        names[f"#f{i}"] = key
        expression_values[f":f{i}"] = value
        sets.append(f"#f{i} = :f{i}")
    allowed = ", ".join(f":from{i}" for i in range(len(allowed_from)))
    expression_values |= {f":from{i}": value for i, value in enumerate(allowed_from)}
    try:
        changed = Table().update(
            f"KYC#{user_id}",
            STATUS,
            "SET " + ", ".join(sets),
            expression_values,
            condition=f"#s IN ({allowed})",
            names=names,
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise ConditionFailed(f"the KYC of user {user_id} is not in {allowed_from}") from error
        raise
    if status == "approved" or "approved" in allowed_from:
        ib_index.flags_changed(user_id, status)  # the IB lists' KYC filter partitions
    return changed


def start_e_verification(user_id: int, session: dict[str, Any], retry_times: int, now: int) -> None:
    """Count an attempt and remember the session, only while attempts are left."""
    table = Table()
    try:
        table.client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": _ddb({"pk": f"KYC#{user_id}", "sk": STATUS}),
                        "UpdateExpression": "SET e_verify_attempts = if_not_exists(e_verify_attempts, :zero) + :one, "
                        "e_verify = :session, updated_at = :now, kyc_status = if_not_exists(kyc_status, :filling), "
                        "apply_status = if_not_exists(apply_status, :filling)",
                        "ConditionExpression": "attribute_not_exists(e_verify_attempts) OR e_verify_attempts < :limit",
                        "ExpressionAttributeValues": _ddb(
                            {
                                ":zero": 0,
                                ":one": 1,
                                ":session": session,
                                ":now": now,
                                ":limit": retry_times,
                                ":filling": "filling",
                            }
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": _ddb(
                            {
                                "pk": f"KYCSESSION#{session['session_id']}",
                                "sk": "SESSION",
                                "user_id": user_id,
                                "created_at": now,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise AttemptsExhausted from error
        raise


def get_session_user(session_id: str) -> int | None:
    found = Table().get(f"KYCSESSION#{session_id}", "SESSION")
    return int(found["user_id"]) if found else None


def record_e_verification(user_id: int, session_id: str, result: dict[str, Any], now: int) -> dict[str, Any] | None:
    """Store a provider's result for the session the user is on, unless a newer
    verdict is stored; None if refused (a stale, replayed or out-of-order callback)."""
    try:
        return Table().update(
            f"KYC#{user_id}",
            STATUS,
            "SET e_verify = :result, updated_at = :now",
            {":result": result, ":now": now, ":session": session_id, ":decided": result.get("decided_ms", 0)},
            condition="e_verify.session_id = :session AND "
            "(attribute_not_exists(e_verify.decided_ms) OR e_verify.decided_ms <= :decided)",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise


def add_match(fingerprint: str, user_id: int, what: str, now: int) -> list[int]:
    """Record that the user submitted this document or identity; returns the
    other users who did too."""
    table = Table()
    table.put({"pk": f"KYCMATCH#{fingerprint}", "sk": f"USER#{user_id}", "user_id": user_id, "what": what, "at": now})
    rows = table.query("pk = :pk", {":pk": f"KYCMATCH#{fingerprint}"})
    return sorted(int(r["user_id"]) for r in rows if int(r["user_id"]) != user_id)
