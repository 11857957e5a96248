"""The approval machinery shared by live-account applications, deposits,
withdrawals, transfers and KYC reviews.

An item is submitted (status `pending`) and its flow started, named after the
item; the flow's wait step stores its task token on the item (`waiting`);
staff decide (`approved` or `rejected`), which answers the token; the flow ends
the item as `completed`, `rejected`, `expired` or `failed` and stamps
`closed_at`. Each move is one conditional write, so a second decision, or a
decision racing the timeout, cannot take effect twice. Task tokens never leave
the table."""

from contextlib import suppress
from typing import Any

from fxcrm import audit
from fxcrm.adapters import files, workflows
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, InvalidInput, NotFound, ProviderUnavailable
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as dal
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal.approvals import WAITING_FOR_DECISION, StatusChanged
from fxcrm.dal.models.approvals import ApprovalChange, ApprovalItem, Kind, RequiredApprovals
from fxcrm.dal.table import plain

__all__ = ["ApprovalChange", "ApprovalItem", "Kind", "RequiredApprovals"]
# The state machine of each kind, named <stack>-<flow> in template.yaml.
FLOWS: dict[str, str] = {
    "account_opening": "account-opening",
    "kyc": "kyc-review",
    "deposit": "deposit",
    "withdrawal": "withdrawal",
    "transfer": "transfer",
}
# Attributes that stay in the table: never shown to staff or clients.
PRIVATE = {"task_token", "sealed"}


def submit(
    settings: Settings,
    kind: Kind,
    approval_id: int,
    owner: Principal,
    summary: dict[str, Any],
    now: int,
    sealed: bytes | None = None,
    timeout_seconds: int | None = None,
    required_approvals: RequiredApprovals = 1,
) -> None:
    """Record the item and start its flow, named after the item (a retried
    start cannot start a second flow). The submitter says how many approvers
    the item needs; it is fixed here, so a setting changed while the item
    waits cannot lower it. `sealed`: secrets the flow needs later, encrypted."""
    if required_approvals not in (1, 2):
        raise ValueError(f"an item needs one or two approvals, not {required_approvals}")
    approval = ApprovalItem(
        id=approval_id,
        kind=kind,
        status="pending",
        required_approvals=required_approvals,
        user_id=owner.user_id,
        email=owner.email,
        summary=summary,
        created_at=now,
        updated_at=now,
        sealed=sealed,
    )
    dal.create_approval(approval)
    try:
        workflows.start(
            settings.workflow_arn(FLOWS[kind]),
            f"{kind}-{approval_id}",
            {"approval_id": approval_id, "timeout_seconds": timeout_seconds or settings.approval_timeout_seconds},
        )
    except workflows.ExecutionExists:
        pass  # started by an earlier attempt: that flow owns the item
    except Exception as error:
        logger.exception("could not start the approval flow", extra={"approval_id": approval_id})
        dal.change_status(approval, "failed", ("pending",), now, remove=("sealed",))
        raise ProviderUnavailable("could not submit this for approval; try again shortly") from error


def await_decision(approval_id: int, task_token: str, now: int) -> None:
    """The flow's wait step: keep the token on the item for the decision."""
    approval = _get(approval_id)
    try:
        dal.change_status(approval, "waiting", WAITING_FOR_DECISION, now, {"task_token": task_token})
    except StatusChanged:
        # Closed before the flow got here (e.g. the start failed and was marked
        # failed): end the wait at once rather than leave it hanging.
        workflows.fail(task_token, "Closed", f"the item is {_get(approval_id).status}")


def decide(
    settings: Settings,
    staff: Principal,
    approval_id: int,
    approve: bool,
    reason: str | None,
    source_ip: str,
    now: int,
) -> dict[str, Any]:
    permissions.require(staff, "admin.approvals.decide")
    approval = _get(approval_id)
    permissions.require(staff, f"admin.approvals.{approval.kind}")
    if not approve and not (reason and reason.strip()):
        raise InvalidInput("say why the item is rejected; the client sees this", "reason")
    if approval.status != "waiting" or approval.task_token is None:
        raise Conflict(f"this item is {approval.status}, not waiting for a decision", "approval_id", "not_waiting")
    if approve and approval.required_approvals == 2:
        first = approval.first_approved_by
        if first is None:
            return _first_approval(staff, approval, source_ip, now)
        if first == staff.user_id:
            raise Conflict(
                "a different staff member must give the second approval", "approval_id", "second_approver_required"
            )
    status = "approved" if approve else "rejected"
    try:
        decided = dal.change_status(
            approval,
            status,
            ("waiting",),
            now,
            {"decided_by": staff.user_id, "decided_by_email": staff.email, "decided_at": now, "reason": reason or ""},
        )
    except StatusChanged as error:
        raise Conflict("someone decided this item a moment ago", "approval_id", "not_waiting") from error
    try:
        if approve:
            workflows.succeed(approval.task_token, {"decision": "approved", "decided_by": staff.user_id})
        else:
            workflows.fail(approval.task_token, "Rejected", reason or "")
    except workflows.TaskGone as error:
        # The wait timed out as staff decided. A rejection stands (the flow's
        # expiry step keeps it); an approval cannot go through any more.
        if approve:
            with suppress(StatusChanged):
                dal.change_status(decided, "expired", ("approved",), now, only_open=True)
            raise Conflict("this item expired before the decision reached it", "approval_id", "expired") from error
    audit.record(
        staff,
        "approval.approve" if approve else "approval.reject",
        f"approval:{approval_id}",
        source_ip,
        now,
        before={"status": "waiting"},
        after={"status": "approved" if approve else "rejected", "reason": reason or ""},
    )
    logger.info("approval decided", extra={"approval_id": approval_id, "approve": approve, "staff": staff.user_id})
    return view(_get(approval_id))


# The statuses each outcome may close from. A staff rejection stays a rejection
# even if its answer reached the flow too late and the wait timed out.
CLOSE_FROM = {
    "completed": ("approved",),
    "rejected": ("pending", "waiting", "rejected"),
    "expired": ("pending", "waiting", "approved"),
    "failed": ("pending", "waiting", "approved"),
}


def _first_approval(staff: Principal, approval: ApprovalItem, source_ip: str, now: int) -> dict[str, Any]:
    try:
        updated = dal.record_first_approval(approval.id, staff.user_id, staff.email, now)
    except StatusChanged as error:
        raise Conflict("someone decided this item a moment ago", "approval_id", "not_waiting") from error
    audit.record(
        staff,
        "approval.first_approve",
        f"approval:{approval.id}",
        source_ip,
        now,
        before={"status": "waiting"},
        after={"status": "waiting", "first_approved_by": staff.email},
    )
    return view(updated)


def close(approval_id: int, outcome: str, now: int, fields: ApprovalChange | None = None) -> ApprovalItem | None:
    """The flow's last step: end the item with its outcome and drop its token
    and sealed secrets. Idempotent: an item already closed is left as it is and
    None is returned."""
    approval = _get(approval_id)
    if outcome == "expired" and approval.status == "rejected":
        outcome = "rejected"
    try:
        return dal.change_status(
            approval,
            outcome,
            CLOSE_FROM[outcome],
            now,
            ApprovalChange(**(fields or {}), closed_at=now),
            remove=("task_token", "sealed"),
            only_open=True,
        )
    except StatusChanged:
        return None


def _get(approval_id: int) -> ApprovalItem:
    approval = dal.get_approval(approval_id)
    if approval is None:
        raise NotFound("no such approval item", "approval_id")
    return approval


def view(approval: ApprovalItem) -> dict[str, Any]:
    """What staff see of an item (never the task token or sealed secrets)."""
    shown: dict[str, Any] = plain(approval.model_dump(exclude=PRIVATE, exclude_none=True))
    return shown


RECEIPT_LINK_SECONDS = 300


def get(settings: Settings, staff: Principal, approval_id: int) -> dict[str, Any]:
    """One item; an uploaded receipt comes with a short-lived link to look at it."""
    permissions.require(staff, "admin.approvals.view")
    shown = view(_get(approval_id))
    shown["kyc_status"] = kyc_dal.get_kyc_status(int(shown["user_id"]))
    return _with_receipt_link(settings, shown)


def _with_receipt_link(settings: Settings, shown: dict[str, Any]) -> dict[str, Any]:
    """An item with a short-lived link to its uploaded receipt, if it has one:
    the one place both the detail and each queue row get it."""
    receipt, version = shown["summary"].get("receipt_key"), shown["summary"].get("receipt_version")
    if receipt and version:  # only the version checked at submit, never bytes uploaded since
        shown["receipt_link"] = files.presigned_get(
            settings.bucket_name, receipt, RECEIPT_LINK_SECONDS, version_id=str(version)
        )
    return shown


def queue(
    settings: Settings, staff: Principal, status: str, kind: str | None, page: int, size: int, now: int
) -> dict[str, Any]:
    """One page of the queue, oldest first, each with its age in seconds (and
    a deposit's receipt link, as in the detail)."""
    permissions.require(staff, "admin.approvals.view")
    page_rows = dal.queue_page(status, kind, page, size)
    shown = [_with_receipt_link(settings, view(r) | {"age_seconds": max(0, now - r.created_at)}) for r in page_rows]
    return {"list": shown, "total": dal.queue_total(status, kind)}
