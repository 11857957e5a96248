"""ClientApi function: the InstaForex-style Client and Partner API
(/api/Authentication/*, /client/*, /partner/*). A token comes from the login
and the API password and is sent back in the `passkey` header; on the open
level the methods answer without one."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse

from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import client_ip
from fxcrm.clientapi import access, methods
from fxcrm.clientapi.schemas import TokenRequest
from fxcrm.core import clock, times
from fxcrm.core.errors import InvalidInput
from fxcrm.core.settings import get_settings

auth = APIRouter(prefix="/api/Authentication", tags=["client api"])
client = APIRouter(prefix="/client", tags=["client api"])
partner = APIRouter(prefix="/partner", tags=["client api"])

Login = Annotated[int, Path(ge=1, le=2**53, description="The trading account's login (partner: the IB's id)")]
Passkey = Annotated[str | None, Header(description="The token from RequestClientApiToken / RequestPartnerApiToken")]
Day = Annotated[
    str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="YYYY-MM-DD (broker's time zone)")
]
TOKEN: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The token, as plain text"}
}
CALL = error_responses(401, 403, 404, 503)


def _period(
    start: Annotated[Day, Query(alias="from")] = None, end: Annotated[Day, Query(alias="to")] = None
) -> tuple[int, int]:
    """`from` and `to` as whole days; by default the last 30 days."""
    tz, now = get_settings().broker_timezone, clock.now()
    first = times.parse(f"{start} 00:00:00", "from", tz, 0) if start else now - 30 * 86400
    last = times.parse(f"{end} 23:59:59", "to", tz, 0) if end else now
    if first > last:
        raise InvalidInput("must not be after to", "from")
    return first, last


Period = Annotated[tuple[int, int], Depends(_period)]


def _token(kind: access.Kind, body: TokenRequest, request: Request) -> PlainTextResponse:
    token = access.request_token(kind, body.Login, body.Password, client_ip(request), clock.now())
    return PlainTextResponse(token)


@auth.post("/RequestClientApiToken", responses=TOKEN | error_responses(401, 429))
def request_client_token(body: TokenRequest, request: Request) -> PlainTextResponse:
    """A token for a trading account's login (valid for an hour)."""
    return _token("client", body, request)


@auth.post("/RequestPartnerApiToken", responses=TOKEN | error_responses(401, 429))
def request_partner_token(body: TokenRequest, request: Request) -> PlainTextResponse:
    """A token for an IB's partner login (valid for an hour)."""
    return _token("partner", body, request)


def _authorised(kind: access.Kind) -> Callable[..., access.Caller]:
    def caller(login: Login, request: Request, passkey: Passkey = None) -> access.Caller:
        return access.authorise(kind, login, passkey, client_ip(request), clock.now())

    return caller


@dataclass(frozen=True)
class _Asked:
    caller: access.Caller
    first: int
    last: int


def _authorised_over(kind: access.Kind) -> Callable[..., _Asked]:
    # the period is this dependency's own sub-dependency, so a bad period answers 422
    # before the token is checked (a sibling dependency would be called regardless)
    def asked(period: Period, login: Login, request: Request, passkey: Passkey = None) -> _Asked:
        return _Asked(access.authorise(kind, login, passkey, client_ip(request), clock.now()), *period)

    return asked


ClientCaller = Annotated[access.Caller, Depends(_authorised("client"))]
ClientOver = Annotated[_Asked, Depends(_authorised_over("client"))]
PartnerCaller = Annotated[access.Caller, Depends(_authorised("partner"))]
PartnerOver = Annotated[_Asked, Depends(_authorised_over("partner"))]


@client.get("/GetOpenTrades/{login}", responses=CALL)
def open_trades(caller: ClientCaller) -> list[dict[str, Any]]:
    """Open trades now, from the trading server."""
    return methods.open_trades(get_settings(), caller)


@client.get("/GetClosedTrades/{login}", responses=CALL)
def closed_trades(asked: ClientOver) -> list[dict[str, Any]]:
    """Trades closed in a period (default the last 30 days), newest first."""
    return methods.closed_trades(get_settings(), asked.caller, asked.first, asked.last)


@client.get("/GetLotsClosed/{login}", responses=CALL)
def lots_closed(asked: ClientOver) -> dict[str, Any]:
    """Lots and trades closed in a period."""
    return methods.lots_closed(asked.caller, asked.first, asked.last)


@client.get("/GetBalance/{login}", responses=CALL)
def balance(caller: ClientCaller) -> dict[str, Any]:
    """Balance, credit, equity and margin, from the trading server."""
    return methods.balance(get_settings(), caller)


@client.get("/GetBonusStatistics/{login}", responses=CALL)
def bonus_statistics(asked: ClientOver) -> dict[str, Any]:
    """Bonus (credit) received and removed in a period, and the credit now."""
    return methods.bonus_statistics(get_settings(), asked.caller, asked.first, asked.last)


def _history(asked: _Asked) -> list[dict[str, Any]]:
    attempts = access.history(asked.caller.kind, asked.caller.login, asked.first)
    return methods.authorization_history(get_settings(), attempts)


@client.get("/GetAuthorizationHistory/{login}", responses=CALL)
def client_history(asked: ClientOver) -> list[dict[str, Any]]:
    """Token requests and refusals of this login (time, address, result), newest first."""
    return _history(asked)


@client.get("/GetAccountSummary/{login}", responses=CALL)
def account_summary(caller: ClientCaller) -> dict[str, Any]:
    """The account at a glance: balances, type, leverage, open trades, the last 30 days' lots."""
    return methods.account_summary(get_settings(), caller, clock.now())


# A commission report's window: by default the last 30 days, at most a year.
MAX_RECORDS_WINDOW = 366 * 86400


@partner.get("/GetCommissionRecords/{login}", responses=CALL | error_responses(422))
def partner_commission_records(
    asked: PartnerOver,
    page: Annotated[int, Query(ge=1, le=10_000, description="Page of records, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=100, description="Records per page")] = 20,
    details_page: Annotated[int, Query(ge=1, le=10_000, description="Page of each record's balance records")] = 1,
    details_size: Annotated[
        int, Query(ge=1, le=1000, description="Balance records per record (size x details_size <= 20,000)")
    ] = 1000,
) -> list[dict[str, Any]]:
    """The IB's commission records calculated in a period (`from`/`to`, default
    the last 30 days, at most 366 days), newest first, one page of them, each
    with one page of its balance records (the details) and `TotalDetails`."""
    if asked.last - asked.first > MAX_RECORDS_WINDOW:
        raise InvalidInput("from and to may be at most 366 days apart", "from")
    return methods.commission_records(
        get_settings(), asked.caller, asked.first, asked.last, page, size, details_page, details_size
    )


@partner.get("/GetAuthorizationHistory/{login}", responses=CALL)
def partner_history(asked: PartnerOver) -> list[dict[str, Any]]:
    """Token requests and refusals of this partner login, newest first."""
    return _history(asked)


app = create_app("fxcrm client api", [auth, client, partner], "The InstaForex-style Client and Partner API")
handler = lambda_handler(app, "client_api")
