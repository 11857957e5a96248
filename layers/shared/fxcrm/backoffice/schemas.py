"""Wire models of the back office's user and audit endpoints."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, WithJsonSchema

from fxcrm.auth.schemas import PASSWORD_PATTERN, PASSWORD_RULE, Email, Int, Strict
from fxcrm.funding.times import WireTime
from fxcrm.pages import Page
from fxcrm.text import FreeText

Network = Annotated[IPvAnyNetwork, WithJsonSchema({"type": "string", "description": "e.g. 203.0.113.0/24"})]


class UserRow(BaseModel):
    id: int
    email: str
    first_name: str | None = None
    last_name: str | None = None
    full_name: str = Field(default="", description="The name given in KYC (else first and last name)")
    user_type: Literal["client", "ib", "staff"]
    role: str
    status: str
    ib_id: int | None = None
    referral_code: str | None = None
    created_at: WireTime | None = None
    totp_enrolled: bool | None = Field(default=None, description="Staff: two-factor login is set up")


class UserList(Page[UserRow]): ...


class UserDetail(BaseModel):
    user: UserRow
    kyc_status: str
    accounts: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    ib_history: list[dict[str, Any]]


class UserStatusChange(Strict):
    status: Literal["active", "disabled"]
    reason: FreeText = Field(min_length=1, max_length=500)


class IbChange(Strict):
    ib_id: Int | None = Field(ge=1, description="The new IB; null detaches")
    reason: FreeText = Field(min_length=1, max_length=500)
    effective_at: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
        description="When the move takes effect for rebates (broker's time zone; default now; not in the future)",
    )


class StaffCreate(Strict):
    email: Email
    role: Literal["admin", "finance", "compliance", "support", "controller"]
    first_name: FreeText = Field(min_length=1, max_length=100)
    last_name: FreeText = Field(min_length=1, max_length=100)
    password: str = Field(pattern=PASSWORD_PATTERN, description=PASSWORD_RULE)
    ip_allow: list[Network] = Field(default_factory=list, max_length=20, description="Empty: any address")


class TotpReset(Strict):
    reason: FreeText = Field(min_length=1, max_length=500)


class IdOnly(BaseModel):
    id: int


class AuditList(Page[dict[str, Any]]): ...
