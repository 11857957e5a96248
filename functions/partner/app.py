"""Partner function: the IB portal (/ib/*): profile with referral code, link
and QR code, the downline's clients and their trading accounts, rebate
records, and the commission and commission-detail reports with exports."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from fxcrm import clock
from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.reports import add_report_routes
from fxcrm.api.security import CurrentPrincipal, current_principal
from fxcrm.clientapi import access as client_api
from fxcrm.clientapi.schemas import AccessChange, AccessSettings
from fxcrm.ib import portal
from fxcrm.ib.schemas import IbClientAccountList, IbClientList, IbProfile, RebateRecordList
from fxcrm.settings import get_settings

router = APIRouter(prefix="/ib", tags=["ib"])
READ = error_responses(401, 403)
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1")]
Size = Annotated[int, Query(ge=1, le=100, description="Rows per page, at most 100")]
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/profile", response_model=IbProfile, responses=error_responses(401, 403, 404))
def profile(principal: CurrentPrincipal) -> Any:
    """The IB's referral code, link and QR code, with its KYC status and data."""
    return portal.profile(get_settings(), principal)


@router.get("/clients", response_model=IbClientList, responses=READ)
def clients(
    principal: CurrentPrincipal,
    page: Page = 1,
    size: Size = 20,
    client_user_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    kyc_status: Literal["approved", "disapproved"] | None = None,
    status: Literal["enabled", "disabled"] | None = None,
    email: Text = None,
    client_name: Text = None,
) -> Any:
    """The clients of the IB's whole downline, newest first; email and name match a part."""
    return portal.clients(get_settings(), principal, client_user_id, kyc_status, status, email, client_name, page, size)


@router.get("/client-accounts", response_model=IbClientAccountList, responses=error_responses(401, 403, 503))
def client_accounts(
    principal: CurrentPrincipal,
    page: Page = 1,
    size: Size = 20,
    account_id: Annotated[str | None, Query(max_length=20, description="The login on the trading server")] = None,
    trading_account_type_name: Text = None,
    user_name: Text = None,
) -> Any:
    """The downline clients' trading accounts with their balances."""
    return portal.client_accounts(
        get_settings(), principal, account_id, trading_account_type_name, user_name, page, size
    )


@router.get("/rebates", response_model=RebateRecordList, responses=READ)
def rebates(principal: CurrentPrincipal, page: Page = 1, size: Size = 20) -> Any:
    """The IB's rebates, one per trade and level it earned on, newest first."""
    return portal.rebate_records(get_settings(), principal, page, size)


# GET /ib/commissions and /ib/commission-details, and their exports (reports/descriptors.py)
add_report_routes(router, "partner", current_principal, portal.require_ib)


@router.get("/api-access", response_model=AccessSettings, responses=READ)
def ib_api_access(principal: CurrentPrincipal) -> Any:
    """The Partner API settings (the login is the IB's id; never the password)."""
    return client_api.settings_of("partner", client_api.partner_login(principal))


@router.put("/api-access", response_model=AccessSettings, responses=error_responses(401, 403, 409))
def save_ib_api_access(principal: CurrentPrincipal, body: AccessChange) -> Any:
    """Turn the Partner API on or off, choose open or closed, set the password and IP masks."""
    login = client_api.partner_login(principal)
    return client_api.save(
        "partner", login, principal.user_id, None, body.enabled, body.level, body.password, body.ip_masks, clock.now()
    )


app = create_app("fxcrm partner", [router], "The IB portal")
handler = lambda_handler(app, "partner")
