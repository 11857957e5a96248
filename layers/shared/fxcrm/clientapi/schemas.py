"""Models of the Client/Partner API and of its settings in the portals."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fxcrm.core.types import Strict


class TokenRequest(BaseModel):
    """As InstaForex's examples send it."""

    model_config = ConfigDict(extra="forbid")
    Login: int = Field(ge=1, le=2**53)
    Password: str = Field(min_length=1, max_length=128)


class AccessSettings(BaseModel):
    kind: Literal["client", "partner"]
    login: int = Field(description="The login the API is called with")
    enabled: bool
    level: Literal["open", "closed"]
    has_password: bool
    ip_masks: list[str]


class AccessChange(Strict):
    enabled: bool
    level: Literal["open", "closed"] = Field(description="open: no token needed; closed: a token, and the IP masks")
    password: str | None = Field(default=None, max_length=128, description="A new API password (kept as argon2id)")
    ip_masks: list[str] = Field(default=[], max_length=20, description="IPv4 or IPv6 networks, e.g. 203.0.113.0/24")
