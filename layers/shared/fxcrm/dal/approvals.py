"""Items waiting for (or past) a staff decision, and their flows' task tokens.

APPROVAL#<id> / APPROVAL        kind, status, owner, summary for the reviewer, decision,
                                the flow's task token (never returned), sealed secrets;
                                gsi1: APPROVALS#<status>#<shard> / <kind>#<created_at>#<id> (the queue,
                                spread over SHARDS keys per status; readers merge them)
COUNT#approvals#<status>[#<kind>]  the queue's totals (fxcrm.dal.counts), moved with each status change
USER#<user id> / APPROVAL#<kind>#<id, 16 digits>  the owner's index entry (my applications,
                                newest first, one kind a key range)

The id is the subject's own id (the application, order or review number), so one
subject has one approval and its flow's execution is named after it.
"""

import zlib
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import counts, listing
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.models.approvals import ApprovalChange, ApprovalItem, approval_from_item
from fxcrm.dal.table import Item, Table, is_condition_failure, to_ddb, transact, values

WAITING_FOR_DECISION = ("pending", "waiting")


class StatusChanged(ConditionFailed):
    """The item was not in a status the change allows (someone else moved it)."""


SHARDS = 4  # queue keys per status; raising it needs a backfill (docs/operations.md)
COUNTER_SHARDS = 2  # every submission and decision writes a status's counter; readers read every shard
EVERY = "all"  # the counters' one bucket: the queue has no time filter


def shard_of(approval_id: int) -> int:
    return zlib.crc32(str(approval_id).encode()) % SHARDS


def _queue_keys(kind: str, status: str, created_at: int, approval_id: int) -> Item:
    return {
        "gsi1pk": f"APPROVALS#{status}#{shard_of(approval_id)}",
        "gsi1sk": f"{kind}#{created_at:010d}#{approval_id}",
    }


def queue_counter(status: str, kind: str | None = None) -> counts.Counter:
    return counts.Counter(f"approvals#{status}{'#' + kind if kind else ''}", COUNTER_SHARDS)


def _count(table: Table, kind: str, status: str, by: int) -> list[dict[str, Any]]:
    return [counts.change(table, c, EVERY, by) for c in (queue_counter(status), queue_counter(status, kind))]


def create_approval(approval: ApprovalItem, table: Table | None = None) -> None:
    table = table or Table()
    approval_id, kind, status = approval.id, approval.kind, approval.status
    item = {
        **approval.to_item(),
        **_queue_keys(kind, status, approval.created_at, approval_id),
        "pk": f"APPROVAL#{approval_id}",
        "sk": "APPROVAL",
    }
    owner = {
        "pk": f"USER#{approval.user_id}",
        "sk": f"APPROVAL#{kind}#{int(approval_id):016d}",
        "approval_id": approval_id,
        "kind": kind,
    }
    new = [
        {"Put": {"TableName": table.name, "Item": to_ddb(i), "ConditionExpression": "attribute_not_exists(pk)"}}
        for i in (item, owner)
    ]
    transact(table.client, [*new, *_count(table, kind, status, 1)])


def get_approval(approval_id: int, table: Table | None = None) -> ApprovalItem | None:
    item = (table or Table()).get(f"APPROVAL#{approval_id}", "APPROVAL")
    return None if item is None else approval_from_item(item)


def change_status(
    approval: ApprovalItem,
    status: str,
    allowed_from: tuple[str, ...],
    now: int,
    fields: ApprovalChange | None = None,
    remove: tuple[str, ...] = (),
    only_open: bool = False,
    table: Table | None = None,
) -> ApprovalItem:
    """Move the item to `status` only if it is in one of `allowed_from`; set
    `fields` and remove attributes in the same write; with `only_open`, only if
    the flow has not closed it. Returns the new item. A new status moves the
    queue keys and the counts in one transaction, conditioned on the status the
    item was read in (read again if it moved meanwhile)."""
    table = table or Table()
    sets: Item = {**(fields or {}), "status": status, "updated_at": now}
    sets |= _queue_keys(approval.kind, status, approval.created_at, approval.id)
    names = {f"#f{i}": name for i, name in enumerate(sets)}
    expression_values: Item = {f":f{i}": value for i, value in enumerate(sets.values())}
    update = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(sets)))
    if remove:
        names |= {f"#r{i}": name for i, name in enumerate(remove)}
        update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    names["#status"] = "status"
    open_only = " AND attribute_not_exists(closed_at)" if only_open else ""
    key = (f"APPROVAL#{approval.id}", "APPROVAL")
    for _ in range(3):
        current = table.get(*key)
        if current is None or current["status"] not in allowed_from or (only_open and "closed_at" in current):
            raise StatusChanged(str(approval.id))
        if current["status"] == status:
            break  # the same status: the keys and counts stay
        entry = {
            "Update": {
                "TableName": table.name,
                "Key": values({"pk": key[0], "sk": key[1]}),
                "UpdateExpression": update,
                "ConditionExpression": "#status = :was" + open_only,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values(expression_values | {":was": current["status"]}),
            }
        }
        moved = _count(table, current["kind"], current["status"], -1) + _count(table, current["kind"], status, 1)
        try:
            transact(table.client, [entry, *moved])
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            continue  # it moved meanwhile: read it again
        return approval_from_item({k: v for k, v in (current | sets).items() if k not in remove})
    else:
        raise StatusChanged(str(approval.id))
    allowed = {f":from{i}": value for i, value in enumerate(allowed_from)}
    condition = f"#status IN ({', '.join(allowed)})" + open_only
    try:
        item = table.update(*key, update, expression_values | allowed, condition=condition, names=names)
    except ClientError as error:
        if is_condition_failure(error):
            raise StatusChanged(str(approval.id)) from error
        raise
    return approval_from_item(item)


def set_fields(approval_id: int, fields: ApprovalChange, table: Table | None = None) -> None:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    (table or Table()).update(
        f"APPROVAL#{approval_id}",
        "APPROVAL",
        "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        {f":f{i}": value for i, value in enumerate(fields.values())},
        condition="attribute_exists(pk)",
        names=names,
    )


def _queue_parts(status: str, kind: str | None) -> list[listing.Part]:
    condition = "gsi1pk = :pk" + (" AND begins_with(gsi1sk, :kind)" if kind else "")
    return [
        listing.Part(
            condition, {":pk": f"APPROVALS#{status}#{shard}"} | ({":kind": f"{kind}#"} if kind else {}), "gsi1"
        )
        for shard in range(SHARDS)
    ]


def _queue_order(item: Item) -> str:
    return str(item["gsi1sk"])


def queue_page(status: str, kind: str | None, number: int, size: int, table: Table | None = None) -> list[ApprovalItem]:
    """Page `number` of the items in one status, by kind then oldest first
    (the index's order), optionally of one kind: the shards merged lazily."""
    table = table or Table()
    page = listing.page(table, _queue_parts(status, kind), number, size, _queue_order, newest_first=False)
    return [approval_from_item(item) for item in page]


def queue_total(status: str, kind: str | None, table: Table | None = None) -> int:
    """From the counters (one BatchGetItem)."""
    return counts.total(table or Table(), queue_counter(status, kind), [EVERY])


def list_queue(status: str, kind: str | None, table: Table | None = None) -> list[Item]:
    """Every item in one status, in the queue's order (an operator's look, such as
    reconciliation's; pages use queue_page)."""
    table = table or Table()
    return list(listing.merged(table, _queue_parts(status, kind), _queue_order, newest_first=False))


def _owned_part(user_id: int, kind: str) -> listing.Part:
    return listing.Part(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{user_id}", ":prefix": f"APPROVAL#{kind}#"}
    )


def user_approvals_page(user_id: int, kind: str, number: int, size: int, table: Table | None = None) -> list[Item]:
    """Page `number` of the user's items of a kind, newest first: the page's
    owner entries (one Query), then their items (one BatchGetItem)."""
    table = table or Table()
    entries = listing.page(table, [_owned_part(user_id, kind)], number, size, order=lambda e: str(e["sk"]))
    found = {int(a["id"]): a for a in table.batch_get([(f"APPROVAL#{e['approval_id']}", "APPROVAL") for e in entries])}
    return [found[int(e["approval_id"])] for e in entries if int(e["approval_id"]) in found]


def count_user_approvals(user_id: int, kind: str, table: Table | None = None) -> int:
    """A bounded count: Select COUNT over the user's own entries of one kind."""
    return _owned_part(user_id, kind).count(table or Table())


def record_first_approval(
    approval_id: int, staff_id: int, staff_email: str, now: int, table: Table | None = None
) -> ApprovalItem:
    """Maker-checker: the first of two approvals, once, while the item waits."""
    try:
        item = (table or Table()).update(
            f"APPROVAL#{approval_id}",
            "APPROVAL",
            "SET first_approved_by = :id, first_approved_by_email = :email, first_approved_at = :now",
            {":id": staff_id, ":email": staff_email, ":now": now, ":waiting": "waiting"},
            condition="#status = :waiting AND attribute_not_exists(first_approved_by)",
            names={"#status": "status"},
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise StatusChanged(str(approval_id)) from error
        raise
    return approval_from_item(item)
