"""Admin function: the staff back office API (/admin/*): the approval queue and
decisions, and the funding settings (channels, exchange rates, threshold)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from fxcrm import clock
from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import client_ip, require_staff
from fxcrm.approvals import workflow
from fxcrm.approvals.schemas import ApprovalItem, ApprovalKind, ApprovalList, ApprovalStatus, DecisionRequest
from fxcrm.auth.accounts import Principal
from fxcrm.funding import reference
from fxcrm.funding.schemas import ChannelConfig, ExchangeRates, FundingSettings
from fxcrm.settings import get_settings

router = APIRouter(prefix="/admin", tags=["admin"])

Viewer = Annotated[Principal, Depends(require_staff("admin.approvals.view"))]
Decider = Annotated[Principal, Depends(require_staff("admin.approvals.decide"))]
Settler = Annotated[Principal, Depends(require_staff("admin.funding.settings"))]
ApprovalId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/approvals", response_model=ApprovalList, responses=error_responses(401, 403))
def approvals(
    staff: Viewer,
    status: ApprovalStatus = "waiting",
    kind: ApprovalKind | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """The approval queue: items in one status (default: waiting), oldest first, with their age."""
    return workflow.queue(staff, status, kind, page, size, clock.now())


@router.get("/approvals/{approval_id}", response_model=ApprovalItem, responses=error_responses(401, 403, 404))
def approval(staff: Viewer, approval_id: ApprovalId) -> Any:
    """One item with what the reviewer needs to decide."""
    return workflow.get(get_settings(), staff, approval_id)


@router.post(
    "/approvals/{approval_id}/decision", response_model=ApprovalItem, responses=error_responses(401, 403, 404, 409)
)
def decide(staff: Decider, approval_id: ApprovalId, body: DecisionRequest, request: Request) -> Any:
    """Approve or reject (with a reason the client sees). A second decision is a 409."""
    return workflow.decide(
        get_settings(), staff, approval_id, body.decision == "approve", body.reason, client_ip(request), clock.now()
    )


@router.put(
    "/funding/channels/{direction}/{channel_id}",
    response_model=dict[str, Any],
    responses=error_responses(401, 403),
)
def save_channel(
    staff: Settler,
    direction: Literal["deposit", "withdrawal"],
    channel_id: Annotated[int, Path(ge=1, le=999_999)],
    body: ChannelConfig,
    request: Request,
) -> Any:
    """Create or change a deposit or withdrawal channel (audited)."""
    return reference.save_channel(staff, direction, channel_id, body.model_dump(), client_ip(request), clock.now())


@router.put("/funding/exchange-rates", response_model=ExchangeRates, responses=error_responses(401, 403))
def save_exchange_rates(staff: Settler, body: ExchangeRates, request: Request) -> Any:
    """Units of each payout currency per USD (audited)."""
    return reference.save_setting(staff, "exchange_rates", body.model_dump(), client_ip(request), clock.now())


@router.put("/funding/settings", response_model=FundingSettings, responses=error_responses(401, 403))
def save_funding_settings(staff: Settler, body: FundingSettings, request: Request) -> Any:
    """The transfer amount above which staff approve (audited)."""
    return reference.save_setting(staff, "funding", body.model_dump(), client_ip(request), clock.now())


app = create_app("fxcrm admin", [router], "The staff back office")
handler = lambda_handler(app, "admin")
