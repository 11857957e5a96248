"""Auth function: /auth/* (register, login, password, email codes, captcha,
permissions, menus) and /site/* (login pages and branding)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request

from fxcrm.adapters.captcha import CaptchaAnswer
from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import CurrentPrincipal, client_ip, optional_principal, require_staff
from fxcrm.auth import accounts, captcha, permissions, totp
from fxcrm.auth.schemas import (
    TOKEN_PATTERN,
    CaptchaVerifyRequest,
    CaptchaVerifyResponse,
    ChangePasswordRequest,
    EmptyResponse,
    LanguageSetting,
    LoginRequest,
    MenuListResponse,
    PermissionsResponse,
    RegisterRequest,
    SendEmailCodeRequest,
    SendEmailCodeResponse,
    SessionResponse,
    TotpActivated,
    TotpCode,
    TotpEnrolment,
    TotpStatus,
    TotpVerification,
)
from fxcrm.core import clock
from fxcrm.core.caller import Principal
from fxcrm.core.languages import DEFAULT, from_accept_language
from fxcrm.core.settings import get_settings
from fxcrm.site import config as site
from fxcrm.site.config import Branding, LoginPages

auth = APIRouter(prefix="/auth", tags=["auth"])
site_router = APIRouter(prefix="/site", tags=["site"])


@auth.post("/login", response_model=SessionResponse, responses=error_responses(401, 403, 429, 503))
def login(
    body: LoginRequest,
    request: Request,
    # all three are required: a missing one is a 422 naming it
    captcha_token: Annotated[str, Header(alias="Captcha-Token", max_length=4096, pattern=TOKEN_PATTERN)],
    captcha_action: Annotated[
        str, Header(alias="Captcha-Action", max_length=64, pattern=TOKEN_PATTERN, description="`login`")
    ],
    captcha_randstr: Annotated[str, Header(alias="Captcha-Randstr", max_length=128, pattern=TOKEN_PATTERN)],
) -> Any:
    """One login for clients, IBs and staff; `user_info.user_type` says which.
    Each captcha ticket is accepted once."""
    now, address = clock.now(), client_ip(request)
    captcha.check_login(get_settings(), captcha_token, captcha_randstr, captcha_action, address, now)
    session = accounts.login(get_settings(), body.email, body.password, now, address)
    return {"token": session.token, "user_info": session.user_info}


@auth.post("/register", response_model=SessionResponse, status_code=201, responses=error_responses(409, 429))
def register(body: RegisterRequest, request: Request) -> Any:
    """Register a client; `invite_code` attributes the client to that IB. Their
    mail is in `language`, else in the best of en, zh-CN, zh-TW for the
    request's Accept-Language, else in English."""
    language = body.language or from_accept_language(request.headers.get("accept-language")) or DEFAULT
    session = accounts.register_client(
        get_settings(), body.email, body.email_code, body.password, body.invite_code, clock.now(), language
    )
    return {"token": session.token, "user_info": session.user_info}


@auth.post("/password", response_model=EmptyResponse, responses=error_responses(401, 409))
def change_password(body: ChangePasswordRequest, principal: CurrentPrincipal) -> Any:
    """Change the caller's password; every token issued before stops working."""
    accounts.change_password(
        get_settings(), principal, body.old_password, body.new_password, body.email_code, clock.now()
    )
    return {}


@auth.post(
    "/email-codes",
    response_model=SendEmailCodeResponse,
    responses=error_responses(401, 403, 409, 429),
    openapi_extra={"security": [{}, {"HTTPBearer": []}]},
)  # the token is optional here
def send_email_code(
    body: SendEmailCodeRequest,
    request: Request,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Any:
    """Email a 6-digit code. Scene `register` is for new addresses (the mail is
    in the request's Accept-Language); the other scenes need the caller's token
    and go to the caller's own address, in the caller's language."""
    language = from_accept_language(request.headers.get("accept-language"))
    sent = accounts.request_email_code(
        get_settings(), body.email, body.scene, principal, client_ip(request), clock.now(), language
    )
    return {"can_resend_at": sent.can_resend_at, "expired_at": sent.expired_at}


@auth.get("/language", response_model=LanguageSetting, responses=error_responses(401))
def my_language(principal: CurrentPrincipal) -> Any:
    """The language fxcrm writes to the caller in (en, zh-CN, zh-TW)."""
    return {"language": accounts.get_language(principal)}


@auth.put("/language", response_model=LanguageSetting, responses=error_responses(401))
def change_language(body: LanguageSetting, principal: CurrentPrincipal) -> Any:
    """Choose the language of the caller's mail."""
    return {"language": accounts.set_language(principal, body.language)}


@auth.get("/totp", response_model=TotpStatus, responses=error_responses(401, 403))
def totp_status(principal: CurrentPrincipal) -> Any:
    """Staff: is two-factor login set up, and did this token pass it?"""
    return totp.status(principal)


@auth.post("/totp/enrolment", response_model=TotpEnrolment, responses=error_responses(401, 403, 409))
def totp_enrol(principal: CurrentPrincipal) -> Any:
    """Staff: a new authenticator secret and its QR code (not active until confirmed)."""
    return totp.enrol(get_settings(), principal)


@auth.post("/totp/activation", response_model=TotpActivated, responses=error_responses(401, 403, 409, 429))
def totp_activate(body: TotpCode, principal: CurrentPrincipal, request: Request) -> Any:
    """Staff: confirm the enrolment with a first code; returns a full token and the recovery codes."""
    session, codes = totp.activate(get_settings(), principal, body.code, clock.now(), client_ip(request))
    return {"token": session.token, "user_info": session.user_info, "recovery_codes": codes}


@auth.post("/totp/verification", response_model=SessionResponse, responses=error_responses(401, 403, 409, 429))
def totp_verify(body: TotpVerification, principal: CurrentPrincipal, request: Request) -> Any:
    """Staff: the second factor after the password; returns a token good for the back office."""
    session = totp.verify(get_settings(), principal, body.code, body.recovery_code, clock.now(), client_ip(request))
    return {"token": session.token, "user_info": session.user_info}


@auth.post("/captcha/verify", response_model=CaptchaVerifyResponse, responses=error_responses(429, 503))
def verify_captcha(body: CaptchaVerifyRequest, request: Request) -> Any:
    """Check a captcha ticket with the configured provider (Tencent or local). A valid
    ticket is used up by this check; checks are limited per address."""
    answer = CaptchaAnswer(body.app_id, body.ticket, body.rand_str, str(body.user_ip))
    return {"is_valid": captcha.verify(get_settings(), answer, client_ip(request), clock.now())}


@auth.get("/permissions", response_model=PermissionsResponse, responses=error_responses(401))
def my_permissions(principal: CurrentPrincipal) -> Any:
    """The caller's actions and menus in its own portal."""
    return permissions.permissions(principal, permissions.home_portal(principal))


@auth.get("/permissions/{portal}", response_model=PermissionsResponse, responses=error_responses(401, 403))
def portal_permissions(
    principal: CurrentPrincipal,
    portal: Annotated[str, Path(pattern="^(client|ib|admin)$")],
) -> Any:
    """The caller's actions and menus in another portal (an IB in the client portal)."""
    return permissions.permissions(principal, portal)


@auth.get("/menus", response_model=MenuListResponse, responses=error_responses(401))
def menus(principal: CurrentPrincipal) -> Any:
    """The menu tree the caller may see in its own portal."""
    return {"list": permissions.menu_tree(principal, permissions.home_portal(principal))}


@site_router.get("/login-page", response_model=LoginPages)
def login_page() -> Any:
    """Login-page layout, background and copy of the three portals (no token)."""
    return site.get_login_pages()


@site_router.put("/login-page", response_model=LoginPages, responses=error_responses(401, 403))
def save_login_page(
    body: LoginPages, staff: Annotated[Principal, Depends(require_staff("site.update"))], request: Request
) -> Any:
    """Staff: the login pages of the three portals (audited)."""
    return site.save_login_pages(body, staff, client_ip(request), clock.now())


@site_router.get("/branding", response_model=Branding)
def branding() -> Any:
    """The broker's name, logos, contact and time zone (no token)."""
    return site.get_branding(get_settings().broker_timezone)


@site_router.put("/branding", response_model=Branding, responses=error_responses(401, 403))
def save_branding(
    body: Branding, staff: Annotated[Principal, Depends(require_staff("site.update"))], request: Request
) -> Any:
    """Staff: the broker's name, logos, contacts and time zone (audited)."""
    return site.save_branding(body, staff, client_ip(request), clock.now())


app = create_app("fxcrm auth", [auth, site_router], "Login, registration, email codes, captcha, permissions, site")
handler = lambda_handler(app, "auth")
