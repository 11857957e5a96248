"""Wire models of the auth and site endpoints (field names as in the seed)."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, IPvAnyAddress, WithJsonSchema

from fxcrm.auth.email_codes import Scene
from fxcrm.core.languages import Language
from fxcrm.core.types import Int, Strict

# The portal password rule (fxcrm.core.passwords) as a schema pattern; the
# lookaheads need Python's regex engine.
PASSWORD_PATTERN = r"^(?=.*[A-Za-z])(?=.*[0-9]).{8,128}$"  # noqa: S105 - not a secret
PASSWORD_RULE = "8-128 characters with at least one letter and one digit"  # noqa: S105 - not a secret
# Captcha tickets and random strings are printable ASCII.
TOKEN_PATTERN = r"^[\x21-\x7e]+$"  # noqa: S105 - not a secret


def _email(value: str) -> str:
    # RFC 5321 syntax without a DNS look-up; reserved names (RFC 6761) cannot receive mail.
    # Imported here: compiling its patterns costs ~30 ms of cold start.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error


def _string_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


RESERVED_DOMAINS = r"(?:test|local|localhost|invalid|onion|arpa)"
Email = Annotated[
    str,
    Field(
        max_length=254,
        pattern=rf"^[^@]+@(?!(?:[^@]*\.)?{RESERVED_DOMAINS}$)[^@]+\.[^@]+$",
        json_schema_extra={"format": "email"},
    ),
    AfterValidator(_email),
]
IpAddress = Annotated[
    IPvAnyAddress,
    BeforeValidator(_string_only),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}),
]


class LoginRequest(Strict):
    email: Email
    password: str = Field(min_length=1, max_length=128)

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "client1@broker.example.com", "password": "Client-demo-2026"}]}
    )


class RegisterRequest(Strict):
    email: Email
    email_code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code sent for scene `register`")
    invite_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$", description="An IB's referral code")
    language: Language | None = Field(
        default=None, description="The language of the client's mail; absent: the request's Accept-Language, else en"
    )
    password: str = Field(pattern=PASSWORD_PATTERN, description=PASSWORD_RULE)

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "me@example.com", "email_code": "123456", "invite_code": "DEMOIB", "password": "Walk-pass-1"}
            ]
        }
    )


class UserInfo(BaseModel):
    email: str
    first_name: str
    full_name: str
    id: int
    last_name: str
    user_type: Literal["client", "ib", "staff"]
    must_change_password: bool = Field(
        default=False,
        description="A one-time password: set a new one (`POST /auth/password`) before anything else",
    )


class SessionResponse(BaseModel):
    token: str
    user_info: UserInfo


class TotpStatus(BaseModel):
    enrolled: bool = Field(description="Two-factor login is set up")
    mfa: bool = Field(description="This token was issued after the second factor")


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32; type it into the authenticator app if it cannot scan")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an SVG data URI")


class TotpCode(Strict):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code of the authenticator app")


class TotpVerification(Strict):
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    recovery_code: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{10}$", description="Instead of a code")


class TotpActivated(SessionResponse):
    recovery_codes: list[str] = Field(description="Shown once; each works once instead of a code")


class ChangePasswordRequest(Strict):
    email_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    new_password: str = Field(pattern=PASSWORD_PATTERN, description=PASSWORD_RULE)
    old_password: str = Field(min_length=1, max_length=128)

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"old_password": "Walk-pass-1", "new_password": "Walk-pass-2"}]}
    )


class SendEmailCodeRequest(Strict):
    email: Email
    received_at: Int = Field(ge=0, description="The client's Unix time in seconds when it asked")
    scene: Scene

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "me@example.com", "received_at": 1767225600, "scene": "register"}]}
    )


class LanguageSetting(Strict):
    language: Language = Field(description="The language fxcrm writes to the user in (mail)")


class SendEmailCodeResponse(BaseModel):
    can_resend_at: int
    expired_at: int


class CaptchaVerifyRequest(Strict):
    app_id: Int = Field(ge=0)
    rand_str: str = Field(max_length=128, pattern=TOKEN_PATTERN)
    ticket: str = Field(max_length=4096, pattern=TOKEN_PATTERN)
    user_ip: IpAddress


class CaptchaVerifyResponse(BaseModel):
    is_valid: bool


class ActionInfo(BaseModel):
    methods: dict[str, bool]
    path: str
    title: str
    url: str


class MenuItem(BaseModel):
    action: str
    children: list["MenuItem"]
    desc: str
    icon: str
    id: int
    key: str
    parent_id: int
    path: str
    sort_order: int
    status: int
    title: str
    user_type: str


class PermissionsResponse(BaseModel):
    actions: dict[str, ActionInfo]
    menus: list[MenuItem]


class MenuListResponse(BaseModel):
    list: list[MenuItem]


class EmptyResponse(BaseModel):
    pass
