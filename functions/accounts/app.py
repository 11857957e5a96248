"""Accounts function: /trading-accounts/* and /platforms/* (account types,
opening, list, detail, passwords, balances, platform downloads)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import CurrentPrincipal
from fxcrm.auth.schemas import EmptyResponse
from fxcrm.clientapi import access as client_api
from fxcrm.clientapi.schemas import AccessChange, AccessSettings
from fxcrm.core import clock
from fxcrm.core.errors import Forbidden
from fxcrm.core.settings import get_settings
from fxcrm.trading import accounts, applications
from fxcrm.trading.accounts import Application
from fxcrm.trading.schemas import (
    AccountBalanceList,
    AccountTypeList,
    ChangeTradingPasswordRequest,
    LiveApplicationList,
    LiveApplicationRequest,
    LiveApplicationResponse,
    OpenAccountRequest,
    OpenAccountResponse,
    Platform,
    PlatformDownloadList,
    RecordType,
    TradingAccount,
    TradingAccountList,
)

router = APIRouter(prefix="/trading-accounts", tags=["trading accounts"])
platforms = APIRouter(prefix="/platforms", tags=["trading accounts"])

Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1")]
Size = Annotated[int, Query(ge=1, le=100, description="Rows per page, at most 100")]


def _application(body: LiveApplicationRequest) -> Application:
    return Application(
        body.trading_platform,
        body.trading_account_type_id,
        body.leverage,
        body.currency,
        body.password,
        body.observe_password,
    )


@router.get("/types", response_model=AccountTypeList, responses=error_responses(401))
def account_types(
    principal: CurrentPrincipal,
    trading_platform: Platform,
    is_demo: bool | None = None,
    page: Page = 1,
    size: Size = 20,
) -> Any:
    """Account types the caller can open, with their leverage options."""
    return accounts.list_types(trading_platform, is_demo, page, size)


# The OpenAPI link tells clients (and schemathesis' stateful phase) where the new id leads.
OPENED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Opened",
        "links": {
            "GetAccount": {
                "operationRef": "#/paths/~1trading-accounts~1{account_id}/get",
                "parameters": {"account_id": "$response.body#/id"},
            }
        },
    }
}


@router.post("", response_model=OpenAccountResponse, status_code=201, responses=OPENED | error_responses(401, 403, 503))
def open_account(body: OpenAccountRequest, principal: CurrentPrincipal) -> Any:
    """Open a demo account at once (with demo funds). A live one needs approved KYC
    and becomes an application for staff to approve; `id` is then the application's,
    which the account keeps once opened (until then its detail is 404)."""
    if body.is_demo:
        return {"id": accounts.open_demo_account(get_settings(), principal, _application(body), clock.now())}
    return {"id": applications.apply(get_settings(), principal, _application(body), clock.now())}


@router.post(
    "/applications", response_model=LiveApplicationResponse, status_code=201, responses=error_responses(401, 403, 503)
)
def apply_for_live_account(body: LiveApplicationRequest, principal: CurrentPrincipal) -> Any:
    """Apply for a live account (client portal); staff approve it, then it opens."""
    return {"application_account_id": applications.apply(get_settings(), principal, _application(body), clock.now())}


@router.get("/applications", response_model=LiveApplicationList, responses=error_responses(401))
def my_applications(principal: CurrentPrincipal, page: Page = 1, size: Size = 20) -> Any:
    """The caller's live-account applications with their status (and the reason of a rejection)."""
    return applications.list_mine(principal, page, size)


@router.get("", response_model=TradingAccountList, responses=error_responses(401, 503))
def list_accounts(principal: CurrentPrincipal, is_demo: bool | None = None, page: Page = 1, size: Size = 20) -> Any:
    """The caller's trading accounts with their balances, newest first."""
    return accounts.list_accounts(get_settings(), principal, is_demo, page, size)


@router.get("/balances", response_model=AccountBalanceList, responses=error_responses(401, 503))
def balances(
    principal: CurrentPrincipal,
    type: Annotated[list[RecordType], Query(min_length=1, description="record types, e.g. deposit_only and normal")],  # noqa: A002 - the seed's name
) -> Any:
    """Balances of the caller's accounts whose record type is one of `type`."""
    return accounts.balances(get_settings(), principal, set(type))


@router.post("/password", response_model=EmptyResponse, responses=error_responses(401, 404, 503))
def change_trading_password(body: ChangeTradingPasswordRequest, principal: CurrentPrincipal) -> Any:
    """Change the trade or observe (investor) password on the trading server."""
    accounts.change_password(get_settings(), principal, body.id, body.type, body.password)
    return {}


# `:int` so that only numeric ids reach this route (not /trading-accounts/applications).
@router.get("/{account_id:int}", response_model=TradingAccount, responses=error_responses(401, 404, 503))
def account_detail(principal: CurrentPrincipal, account_id: Annotated[int, Path(ge=1, le=2**53)]) -> Any:
    """One of the caller's trading accounts; another user's id is 404."""
    return accounts.detail(get_settings(), principal, account_id)


@platforms.get("/downloads", response_model=PlatformDownloadList, responses=error_responses(401))
def downloads(principal: CurrentPrincipal) -> Any:
    """Trading platform downloads for the client portal."""
    return accounts.platform_downloads("client")


@platforms.get("/downloads/ib", response_model=PlatformDownloadList, responses=error_responses(401, 403))
def ib_downloads(principal: CurrentPrincipal) -> Any:
    """Trading platform downloads for the IB portal."""
    if principal.user_type != "ib":
        raise Forbidden("for introducing brokers only", code="ib_only")
    return accounts.platform_downloads("ib")


@router.get("/{account_id}/api-access", response_model=AccessSettings, responses=error_responses(401, 404))
def account_api_access(principal: CurrentPrincipal, account_id: Annotated[int, Path(ge=1, le=2**53)]) -> Any:
    """The Client API settings of one of the caller's trading accounts (never the password)."""
    login, _ = client_api.client_login(principal, account_id)
    return client_api.settings_of("client", login)


@router.put("/{account_id}/api-access", response_model=AccessSettings, responses=error_responses(401, 404, 409))
def save_account_api_access(
    principal: CurrentPrincipal, account_id: Annotated[int, Path(ge=1, le=2**53)], body: AccessChange
) -> Any:
    """Turn the Client API on or off for the account, choose open or closed, set the API
    password and the IP masks."""
    login, account = client_api.client_login(principal, account_id)
    return client_api.save(
        "client", login, principal.user_id, account, body.enabled, body.level, body.password, body.ip_masks, clock.now()
    )


app = create_app("fxcrm accounts", [router, platforms], "Trading accounts and platform downloads")
handler = lambda_handler(app, "accounts")
