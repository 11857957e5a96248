"""The typed approval item: what waits for (or is past) a staff decision, as
fxcrm.approvals writes it and fxcrm.dal.approvals stores and loads it. The
wire model staff see is fxcrm.approvals.schemas.ApprovalItem (this one has the
private attributes that never leave the table)."""

from typing import Annotated, Any, Literal, TypedDict

from pydantic import BeforeValidator

from fxcrm.dal.models.base import Record, without_keys

Kind = Literal["account_opening", "kyc", "deposit", "withdrawal", "transfer"]
Status = Literal["pending", "waiting", "approved", "completed", "rejected", "expired", "failed"]
RequiredApprovals = Literal[1, 2]
# DynamoDB's binary values load as boto3's Binary wrapper
Bytes = Annotated[bytes, BeforeValidator(lambda value: bytes(value) if not isinstance(value, bytes | str) else value)]


class ApprovalItem(Record):
    id: int
    kind: Kind
    status: Status
    user_id: int
    email: str
    summary: dict[str, Any]  # what the reviewer sees, each kind its own
    created_at: int
    updated_at: int
    # Maker-checker, fixed at submit. An item written before the number was
    # stored gets the stricter rule.
    required_approvals: RequiredApprovals = 2
    # private: never shown to staff or clients
    task_token: str | None = None
    sealed: Bytes | None = None
    # the decision
    decided_by: int | None = None
    decided_by_email: str | None = None
    decided_at: int | None = None
    reason: str | None = None
    first_approved_by: int | None = None
    first_approved_by_email: str | None = None
    first_approved_at: int | None = None
    closed_at: int | None = None
    login: int | None = None  # account opening: the login the platform gave


class ApprovalChange(TypedDict, total=False):
    """The fields a status change (or a flow's step) may set on an item."""

    task_token: str
    decided_by: int
    decided_by_email: str
    decided_at: int
    reason: str
    closed_at: int
    login: int


def approval_from_item(item: dict[str, Any]) -> ApprovalItem:
    return ApprovalItem.model_validate(without_keys(item))
