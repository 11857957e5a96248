"""Admin function: the staff back office (/admin/*): the console page, the
approval queue and decisions, clients and IBs, staff accounts, the audit log
and the funding settings."""

from pathlib import Path as Path_
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from fxcrm.api import reconciliation as reconciliation_routes
from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import client_ip, require_staff
from fxcrm.approvals import workflow
from fxcrm.approvals.schemas import ApprovalItem, ApprovalKind, ApprovalList, ApprovalStatus, DecisionRequest
from fxcrm.backoffice import audit_log as audit_log_domain
from fxcrm.backoffice import users as backoffice
from fxcrm.backoffice.schemas import (
    AuditList,
    IbChange,
    IdOnly,
    StaffCreate,
    TotpReset,
    UserDetail,
    UserList,
    UserRow,
    UserStatusChange,
)
from fxcrm.core import clock, times
from fxcrm.core.caller import Principal
from fxcrm.core.errors import NotFound
from fxcrm.core.settings import get_settings
from fxcrm.funding import online, online_payouts, reference
from fxcrm.funding.schemas import ChannelConfig, ExchangeRates, FundingSettings, PayoutRefresh, PspIssueList
from fxcrm.kyc import forms as kyc_forms
from fxcrm.kyc import profile as kyc_profile
from fxcrm.kyc.forms import FormConfig
from fxcrm.kyc.schemas import ReviewerKyc
from fxcrm.rebates import rules as rebate_rules_module
from fxcrm.rebates import staff as rebate_staff
from fxcrm.rebates.rules import RebateRules
from fxcrm.rebates.schemas import (
    CommissionRecord,
    CommissionRecordList,
    RecomputeAnswer,
    RecomputeRequest,
    SettlementStarted,
)
from fxcrm.trading import accounts
from fxcrm.trading.schemas import AccountTypeConfig, AccountTypeSaved

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
    return workflow.queue(get_settings(), staff, status, kind, page, size, clock.now())


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


@router.get("/funding/psp-issues", response_model=PspIssueList, responses=error_responses(401, 403))
def psp_issues(staff: Viewer, month: Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]) -> Any:
    """The payment provider's callbacks that changed nothing (bad signature, unknown order,
    another amount or currency, a refund the account no longer holds) in a month, newest first."""
    return online.issues(month)


@router.post(
    "/funding/withdrawals/{order_number}/payout-status",
    response_model=PayoutRefresh,
    responses=error_responses(401, 403, 404),
)
def refresh_payout(
    staff: Decider, order_number: Annotated[str, Path(pattern=r"^W[0-9]{1,16}$")], request: Request
) -> Any:
    """Ask the payment provider for a payout's outcome and act on it (audited): when its callback was lost."""
    return online_payouts.refresh(get_settings(), staff, order_number, client_ip(request), clock.now())


@router.put(
    "/account-types/{platform}/{kind}/{type_id}",
    response_model=AccountTypeSaved,
    responses=error_responses(401, 403),
)
def save_account_type(
    staff: Annotated[Principal, Depends(require_staff("admin.settings.trading"))],
    platform: Literal["MT4", "MT5"],
    kind: Literal["demo", "live"],
    type_id: Annotated[int, Path(ge=1, le=999_999)],
    body: AccountTypeConfig,
    request: Request,
) -> Any:
    """Create or change an account type with its leverage options (audited)."""
    return accounts.save_account_type(
        staff, platform, kind == "demo", type_id, body.model_dump(), client_ip(request), clock.now()
    )


@router.put("/funding/exchange-rates", response_model=ExchangeRates, responses=error_responses(401, 403))
def save_exchange_rates(staff: Settler, body: ExchangeRates, request: Request) -> Any:
    """Units of each payout currency per USD (audited)."""
    return reference.save_setting(staff, "exchange_rates", body.model_dump(), client_ip(request), clock.now())


@router.put("/funding/settings", response_model=FundingSettings, responses=error_responses(401, 403))
def save_funding_settings(staff: Settler, body: FundingSettings, request: Request) -> Any:
    """The transfer amount above which staff approve (audited)."""
    return reference.save_setting(staff, "funding", body.model_dump(), client_ip(request), clock.now())


# ---------------------------------------------------------------- KYC

KycEditor = Annotated[Principal, Depends(require_staff("admin.settings.kyc"))]


@router.get("/kyc/form", response_model=FormConfig, responses=error_responses(401, 403))
def staff_kyc_form(staff: KycEditor) -> Any:
    """The KYC form clients fill: modules, fields, questionnaires, requirements, e-verification."""
    return kyc_forms.current()


@router.put("/kyc/form", response_model=FormConfig, responses=error_responses(401, 403))
def save_kyc_form(staff: KycEditor, body: FormConfig, request: Request) -> Any:
    """Replace the KYC form (audited)."""
    return kyc_forms.save(staff, body.model_dump(), client_ip(request), clock.now())


# ---------------------------------------------------------------- rebates

RebateManager = Annotated[Principal, Depends(require_staff("admin.rebates.manage"))]


@router.get("/rebates/rules", response_model=RebateRules, responses=error_responses(401, 403))
def rebate_rules(staff: RebateManager) -> Any:
    """Symbol groups, the rule of each level and group, minimum hold, hedging, payout timing."""
    return rebate_rules_module.current()


@router.put("/rebates/rules", response_model=RebateRules, responses=error_responses(401, 403))
def save_rebate_rules(staff: RebateManager, body: RebateRules, request: Request) -> Any:
    """Replace the rebate rules (audited); they apply to trades settled from now on."""
    return rebate_rules_module.save(staff, body.model_dump(mode="json"), client_ip(request), clock.now())


@router.post("/rebates/recompute", response_model=RecomputeAnswer, responses=error_responses(401, 403))
def recompute_rebates(staff: RebateManager, body: RecomputeRequest, request: Request) -> Any:
    """Trades closed in a period under the current rules against what was paid: preview, or apply as adjustments."""
    settings = get_settings()
    start = times.parse(body.start_time, "start_time", settings.broker_timezone, 0)
    end = times.parse(body.end_time, "end_time", settings.broker_timezone, 0)
    return rebate_staff.recompute(settings, staff, start, end, body.apply, client_ip(request), clock.now())


@router.get("/rebates", response_model=CommissionRecordList, responses=error_responses(401, 403))
def commission_records(
    staff: RebateManager,
    ib_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    status: Literal["held", "granted"] | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Commission records, newest first: one IB's, or everyone's of the last months."""
    return rebate_staff.records(get_settings(), ib_id, status, page, size, clock.now())


@router.post(
    "/rebates/{aggregation_id}/grant", response_model=CommissionRecord, responses=error_responses(401, 403, 404, 409)
)
def grant_rebate(staff: RebateManager, aggregation_id: Annotated[int, Path(ge=1, le=2**53)], request: Request) -> Any:
    """Pay a commission record held for approval into the IB's rebate balance (once, audited)."""
    return rebate_staff.grant(staff, aggregation_id, client_ip(request), clock.now())


@router.post(
    "/rebates/settlement", response_model=SettlementStarted, status_code=202, responses=error_responses(401, 403)
)
def run_settlement(staff: RebateManager, request: Request) -> Any:
    """Run the settlement now (in the background; the same run the schedule starts every hour)."""
    return rebate_staff.run_now(get_settings(), staff, client_ip(request), clock.now())


# ---------------------------------------------------------------- clients, IBs and staff

UserViewer = Annotated[Principal, Depends(require_staff("admin.users.view"))]
UserManager = Annotated[Principal, Depends(require_staff("admin.users.manage"))]
AuditViewer = Annotated[Principal, Depends(require_staff("admin.audit.view"))]
UserId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/users", response_model=UserList, responses=error_responses(401, 403))
def users(
    staff: UserViewer,
    email: Annotated[str | None, Query(max_length=254)] = None,
    user_type: Literal["client", "ib", "staff"] = "client",
    page: Annotated[int, Query(ge=1, le=100)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Find a user by exact email, or list the newest users of a type."""
    return backoffice.search(staff, email, user_type, page, size)


@router.get("/users/{user_id}", response_model=UserDetail, responses=error_responses(401, 403, 404))
def user_detail(staff: UserViewer, user_id: UserId) -> Any:
    """A user's profile, KYC status, accounts, orders, audit trail and IB history."""
    return backoffice.detail(staff, user_id)


@router.get("/users/{user_id}/kyc", response_model=ReviewerKyc, responses=error_responses(401, 403, 404))
def user_kyc(staff: UserViewer, user_id: UserId) -> Any:
    """A client's KYC answers; for KYC reviewers (admin, compliance) 5-minute links to each document."""
    return kyc_profile.reviewer_view(get_settings(), staff, user_id)


@router.put("/users/{user_id}/status", response_model=UserRow, responses=error_responses(401, 403, 404, 422))
def user_status(staff: UserManager, user_id: UserId, body: UserStatusChange, request: Request) -> Any:
    """Enable or disable a user (disabling ends every session at once)."""
    return backoffice.set_status(staff, user_id, body.status, body.reason, client_ip(request), clock.now())


@router.put("/users/{user_id}/ib", response_model=UserRow, responses=error_responses(401, 403, 404, 409, 422))
def user_ib(staff: UserManager, user_id: UserId, body: IbChange, request: Request) -> Any:
    """Attach a client to an IB, move a sub-IB, or detach (`ib_id` null); kept in the user's history."""
    settings = get_settings()
    effective = (
        times.parse(body.effective_at, "effective_at", settings.broker_timezone, 0) if body.effective_at else None
    )
    return backoffice.move_to_ib(
        staff, user_id, body.ib_id, body.reason, client_ip(request), clock.now(), effective_at=effective
    )


@router.put("/users/{user_id}/totp-reset", response_model=UserRow, responses=error_responses(401, 403, 404, 422))
def user_totp_reset(staff: UserManager, user_id: UserId, body: TotpReset, request: Request) -> Any:
    """Staff who lost their authenticator and recovery codes enrol again at the next login."""
    return backoffice.reset_totp(staff, user_id, body.reason, client_ip(request), clock.now())


@router.post("/staff", response_model=IdOnly, status_code=201, responses=error_responses(401, 403, 409, 422))
def create_staff(staff: UserManager, body: StaffCreate, request: Request) -> Any:
    """A staff account with a role (and optionally the networks it may be used from)."""
    user_id = backoffice.create_staff(
        staff,
        body.email,
        body.role,
        body.first_name,
        body.last_name,
        body.password,
        [str(n) for n in body.ip_allow],
        client_ip(request),
        clock.now(),
    )
    return {"id": user_id}


@router.get("/audit", response_model=AuditList, responses=error_responses(401, 403, 422))
def audit_log(
    staff: AuditViewer,
    day: Annotated[str, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="UTC date")],
    actor: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    """Staff actions and security events of a day, newest first, filtered by actor, action or target."""
    return audit_log_domain.entries(staff, day, actor, action, target, page, size)


CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The entries as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("/audit/export", response_model=None, responses=CSV_FILE | error_responses(401, 403, 422))
def audit_export(
    staff: AuditViewer,
    day: Annotated[str, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")],
    actor: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    """The same entries as CSV."""
    body = audit_log_domain.export_csv(staff, day, actor, action, target)
    return Response(
        body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="audit-{day}.csv"'}
    )


# ---------------------------------------------------------------- the console page

CONSOLE = Path_(__file__).parent / "console"
ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}
# The page and its scripts come from here only; receipts are shown from the bucket's presigned links.
CSP = (
    "default-src 'self'; script-src 'self' https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com; "
    "style-src 'self'; img-src 'self' data: https: http://127.0.0.1:*; frame-src https: http://127.0.0.1:*; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _static(name: str, media_type: str) -> Response:
    body = (CONSOLE / name).read_text()
    if name == "index.html":  # how the page gets a captcha ticket for the login
        settings = get_settings()
        captcha = f'data-captcha-provider="{settings.captcha_provider}" data-captcha-app-id="{settings.captcha_app_id}"'
        body = body.replace("<body>", f"<body {captcha}>")
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
def console() -> Response:
    """The approval console: a static page that calls this API with the staff token."""
    return _static("index.html", "text/html; charset=utf-8")


@router.get("/console/{asset}", include_in_schema=False)
def console_asset(asset: str) -> Response:
    if asset not in ASSETS:
        raise NotFound("no such file", "asset")
    return _static(asset, ASSETS[asset])


app = create_app("fxcrm admin", [router, reconciliation_routes.router], "The staff back office")
handler = lambda_handler(app, "admin")
