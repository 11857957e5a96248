"""Wire models of the auth and site endpoints (field names as in the seed)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from fxcrm.auth.email_codes import Scene


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)


class RegisterRequest(Strict):
    email: EmailStr
    email_code: str = Field(pattern=r"^\d{6}$", description="The 6-digit code sent for scene `register`")
    invite_code: str | None = Field(default=None, max_length=32, description="An IB's referral code")
    password: str = Field(min_length=8, max_length=128, description="8-128 characters, a letter and a digit")


class UserInfo(BaseModel):
    email: str
    first_name: str
    full_name: str
    id: int
    last_name: str
    user_type: Literal["client", "ib", "staff"]


class SessionResponse(BaseModel):
    token: str
    user_info: UserInfo


class ChangePasswordRequest(Strict):
    email_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    new_password: str = Field(min_length=8, max_length=128)
    old_password: str = Field(min_length=1, max_length=128)


class SendEmailCodeRequest(Strict):
    email: EmailStr
    received_at: int = Field(ge=0, description="The client's Unix time in seconds when it asked")
    scene: Scene


class SendEmailCodeResponse(BaseModel):
    can_resend_at: int
    expired_at: int


class CaptchaVerifyRequest(Strict):
    app_id: int = Field(ge=0)
    rand_str: str = Field(min_length=1, max_length=128)
    ticket: str = Field(min_length=1, max_length=4096)
    user_ip: str = Field(min_length=1, max_length=64)


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


def empty() -> dict[str, Any]:
    return {}
