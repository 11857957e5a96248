"""Wire models of the approval queue."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from fxcrm.auth.schemas import Strict
from fxcrm.funding.times import WireTime
from fxcrm.pages import Page
from fxcrm.text import FreeText

ApprovalKind = Literal["account_opening", "kyc", "deposit", "withdrawal", "transfer"]
ApprovalStatus = Literal["pending", "waiting", "approved", "completed", "rejected", "expired", "failed"]


class DecisionRequest(Strict):
    decision: Literal["approve", "reject"]
    reason: FreeText | None = Field(default=None, max_length=500, description="Required to reject; the client sees it")


class ApprovalItem(BaseModel):
    id: int
    kind: ApprovalKind
    status: ApprovalStatus
    user_id: int
    email: str
    summary: dict[str, Any]
    created_at: WireTime
    updated_at: WireTime
    decided_by: int | None = None
    decided_by_email: str | None = None
    decided_at: WireTime | None = None
    reason: str | None = None
    closed_at: WireTime | None = None
    required_approvals: int = Field(default=1, description="Approvers needed, fixed when the item was submitted")
    first_approved_by: int | None = Field(default=None, description="Maker-checker: who gave the first approval")
    first_approved_by_email: str | None = None
    first_approved_at: WireTime | None = None
    login: int | None = None
    age_seconds: int | None = None
    kyc_status: str | None = Field(default=None, description="The client's KYC status (item detail)")
    receipt_link: str | None = Field(default=None, description="A 5-minute link to the uploaded receipt")


class ApprovalList(Page[ApprovalItem]): ...
