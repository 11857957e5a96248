"""Bearer-token authentication and per-action authorisation for routes."""

import ipaddress
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fxcrm.auth import accounts, permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Forbidden, NotAuthenticated
from fxcrm.core.settings import get_settings

_bearer = HTTPBearer(auto_error=False, description="The `token` from login or register")


def current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated("send the token as 'Authorization: Bearer <token>'", "Authorization")
    return accounts.authenticate(get_settings(), credentials.credentials)


def optional_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    return current_principal(credentials) if credentials is not None else None


def require_staff(action: str) -> Callable[..., Principal]:
    """A staff member who passed the second factor, from an allowed address, whose role may do `action`."""

    def check(principal: Annotated[Principal, Depends(current_principal)], request: Request) -> Principal:
        if not principal.is_staff:
            raise Forbidden("this is for staff only", code="staff_only")
        check_staff_session(principal, request)
        permissions.require(principal, action)
        return principal

    return check


def check_staff_session(principal: Principal, request: Request) -> None:
    """A staff token is good only after the second factor, from an allowed address,
    once a one-time password has been replaced (`POST /auth/password`)."""
    if not principal.mfa:
        raise Forbidden("confirm your login with your authenticator code first", code="mfa_required")
    if principal.must_change_password:
        raise Forbidden("set a new password first (POST /auth/password)", code="password_change_required")
    if principal.ip_allow and not _allowed(client_ip(request), principal.ip_allow):
        raise Forbidden("your account may not be used from this address", code="ip_not_allowed")


def any_portal(principal: Annotated[Principal, Depends(current_principal)], request: Request) -> Principal:
    """Clients, IBs and staff alike; staff tokens pass the staff session checks."""
    if principal.is_staff:
        check_staff_session(principal, request)
    return principal


AnyPortal = Annotated[Principal, Depends(any_portal)]


def _allowed(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (requestContext.http.sourceIp)."""
    return request.client.host if request.client else "unknown"


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
