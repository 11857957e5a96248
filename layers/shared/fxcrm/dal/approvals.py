"""Items waiting for (or past) a staff decision, and their flows' task tokens.

APPROVAL#<id> / APPROVAL        kind, status, owner, summary for the reviewer, decision,
                                the flow's task token (never returned), sealed secrets;
                                gsi1: APPROVALS#<status> / <kind>#<created_at>#<id> (the queue)
USER#<user id> / APPROVAL#<id>  the owner's index entry (list my applications)

The id is the subject's own id (the application, order or review number), so one
subject has one approval and its flow's execution is named after it.
"""

from botocore.exceptions import ClientError

from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.models.approvals import ApprovalChange, ApprovalItem, approval_from_item
from fxcrm.dal.table import Item, Table, is_condition_failure

WAITING_FOR_DECISION = ("pending", "waiting")


class StatusChanged(ConditionFailed):
    """The item was not in a status the change allows (someone else moved it)."""


def _queue_keys(kind: str, status: str, created_at: int, approval_id: int) -> Item:
    return {"gsi1pk": f"APPROVALS#{status}", "gsi1sk": f"{kind}#{created_at:010d}#{approval_id}"}


def create_approval(approval: ApprovalItem, table: Table | None = None) -> None:
    approval_id, kind, status = approval.id, approval.kind, approval.status
    (table or Table()).transact_put_new(
        {
            **approval.to_item(),
            **_queue_keys(kind, status, approval.created_at, approval_id),
            "pk": f"APPROVAL#{approval_id}",
            "sk": "APPROVAL",
        },
        {
            "pk": f"USER#{approval.user_id}",
            "sk": f"APPROVAL#{approval_id}",
            "approval_id": approval_id,
            "kind": kind,
        },
    )


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
    the flow has not closed it. Returns the new item."""
    sets: Item = {**(fields or {}), "status": status, "updated_at": now}
    sets |= _queue_keys(approval.kind, status, approval.created_at, approval.id)
    names = {f"#f{i}": name for i, name in enumerate(sets)}
    expression_values: Item = {f":f{i}": value for i, value in enumerate(sets.values())}
    allowed = {f":from{i}": value for i, value in enumerate(allowed_from)}
    expression_values |= allowed
    update = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(sets)))
    if remove:
        names |= {f"#r{i}": name for i, name in enumerate(remove)}
        update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    names["#status"] = "status"
    condition = f"#status IN ({', '.join(allowed)})" + (" AND attribute_not_exists(closed_at)" if only_open else "")
    try:
        item = (table or Table()).update(
            f"APPROVAL#{approval.id}",
            "APPROVAL",
            update,
            expression_values,
            condition=condition,
            names=names,
        )
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


def list_queue(status: str, kind: str | None, table: Table | None = None) -> list[Item]:
    """Items in one status, oldest first, optionally of one kind."""
    condition = "gsi1pk = :pk"
    expression_values: Item = {":pk": f"APPROVALS#{status}"}
    if kind:
        condition += " AND begins_with(gsi1sk, :kind)"
        expression_values[":kind"] = f"{kind}#"
    return (table or Table()).query(condition, expression_values, index="gsi1")


def list_user_approvals(user_id: int, kind: str, table: Table | None = None) -> list[Item]:
    table = table or Table()
    entries = table.query("pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{user_id}", ":prefix": "APPROVAL#"})
    wanted = [(f"APPROVAL#{e['approval_id']}", "APPROVAL") for e in entries if e["kind"] == kind]
    return table.batch_get(wanted)


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
