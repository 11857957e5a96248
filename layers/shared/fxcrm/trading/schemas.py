"""Wire models of the trading-account endpoints (field names as in the seed).

`password` and `observe_password` are accepted but never returned: fxcrm does
not keep trading passwords (docs/api.md lists the deviation)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fxcrm.auth.schemas import Int, Strict
from fxcrm.funding.times import WireTime
from fxcrm.pages import Page
from fxcrm.text import FreeText

Platform = Literal["MT4", "MT5"]
RecordType = Literal["deposit_only", "withdrawal_only", "normal"]
# MT5's password rule; checked again by the domain with a message naming the rule.
PLATFORM_PASSWORD = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[^A-Za-z0-9]).{8,16}$"  # noqa: S105 - a pattern
PASSWORD_DESCRIPTION = "8-16 characters with a lower-case and an upper-case letter, a digit and a special character"  # noqa: S105


class LeverageOption(BaseModel):
    id: int
    value: int


class AccountType(BaseModel):
    id: int
    leverage_options: list[LeverageOption]
    name: str


class AccountTypeList(Page[AccountType]): ...


class LiveApplicationRequest(Strict):
    currency: Literal["USD"]
    leverage: Int = Field(ge=1, le=3000)
    observe_password: str | None = Field(default=None, pattern=PLATFORM_PASSWORD, description=PASSWORD_DESCRIPTION)
    password: str = Field(pattern=PLATFORM_PASSWORD, description=PASSWORD_DESCRIPTION)
    trading_account_type_id: Int = Field(ge=1)
    trading_platform: Platform

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "currency": "USD",
                    "leverage": 100,
                    "password": "Live-Pass1",
                    "trading_account_type_id": 202,
                    "trading_platform": "MT5",
                }
            ]
        }
    )


class AccountTypeConfig(Strict):
    name: FreeText = Field(min_length=1, max_length=60)
    record_type: RecordType = "normal"
    group: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\\-]+$", description="The MT group, e.g. real\\ecn"
    )
    leverages: list[Int] = Field(min_length=1, max_length=20, description="e.g. [50, 100, 200, 500]")


class AccountTypeSaved(BaseModel):
    id: int
    name: str
    is_demo: bool
    trading_platform: Platform
    record_type: RecordType
    group: str
    leverage_options: list[LeverageOption]


class OpenAccountRequest(LiveApplicationRequest):
    is_demo: bool

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "currency": "USD",
                    "is_demo": True,
                    "leverage": 100,
                    "password": "Trade-Pass1",
                    "trading_account_type_id": 101,
                    "trading_platform": "MT4",
                }
            ]
        }
    )


class OpenAccountResponse(BaseModel):
    id: int


class LiveApplicationResponse(BaseModel):
    application_account_id: int


class LiveApplication(BaseModel):
    application_account_id: int
    status: Literal["pending", "waiting", "approved", "completed", "rejected", "expired", "failed"]
    reason: str = Field(description="Why staff declined it (rejected applications only)")
    trading_platform: Platform
    trading_account_type_name: str
    leverage: int
    currency: str
    account: str = Field(description="The trading account number once opened")
    created_at: WireTime


class LiveApplicationList(Page[LiveApplication]): ...


class TradingAccount(BaseModel):
    account: str
    balance: str
    credit: str
    currency: str
    equity: str
    id: int
    is_demo: bool
    leverage: int
    server_name: str
    trading_account_type_name: str
    trading_platform: Platform


class TradingAccountList(Page[TradingAccount]): ...


class ChangeTradingPasswordRequest(Strict):
    id: Int = Field(ge=1)
    password: str = Field(pattern=PLATFORM_PASSWORD, description=PASSWORD_DESCRIPTION)
    type: Literal["observe", "trade"]


class AccountBalance(BaseModel):
    balance: str
    server_name: str
    server_type: str
    trading_account: str
    trading_account_id: int


class AccountBalanceList(Page[AccountBalance]): ...


class PlatformDownload(BaseModel):
    android_download_url: str
    created_at: str
    description: str
    icon_url: str
    id: int
    ios_download_url: str
    logo_url: str
    macos_download_url: str
    name: str
    updated_at: str
    windows_download_url: str


class PlatformDownloadList(Page[PlatformDownload]): ...
