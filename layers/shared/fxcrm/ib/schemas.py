"""Response models of the IB portal (the seed's field names)."""

from pydantic import BaseModel, Field

from fxcrm.kyc.schemas import KycStatusResponse
from fxcrm.pages import Page


class IbProfile(KycStatusResponse):
    ReferralCode: str
    ReferralLink: str = Field(description="<portal>/register?invite_code=<code>")
    QRCodeURL: str = Field(description="The referral link as a QR code (PNG), a link valid for an hour")


class IbClient(BaseModel):
    client_id: int
    client_user_id: int
    email: str
    first_name: str
    last_name: str
    full_name: str
    kyc_status: str
    status: str = Field(description="enabled or disabled")
    account: str = Field(description="The client's newest trading account")
    latest_trade_time: str
    source: str = Field(description="direct, or sub_ib:<id> for a client of a sub-IB")
    created_at: str
    updated_at: str


class IbClientList(Page[IbClient]): ...


class IbClientAccount(BaseModel):
    id: int
    account_id: str = Field(description="The login on the trading server")
    balance: str
    credit: str
    equity: str
    margin_level: str
    leverage: int
    trading_account_type_name: str
    trading_platform: str
    trading_server_name: str
    user_name: str


class IbClientAccountList(Page[IbClientAccount]): ...


class RebateRecord(BaseModel):
    rebate_id: int = Field(description="This row: the rebate on one trade at one level of the IB tree")
    rebate_aggregation_id: int = Field(description="The commission record this rebate was paid in")
    rebate_type: str = Field(description="per_lot or commission_share")
    client_user_id: int
    client_user_name: str
    ib_user_id: int
    ib_user_name: str
    symbol: str
    trade_profit: str = Field(description="The client's profit or loss on the trade (not the IB's rebate)")
    rebate_amount: str = Field(description="What the IB earned on this trade")
    rebate_currency: str
    open_time: str
    settlement_time: str
    payment_time: str = Field(description="'' while held for approval")


class RebateRecordList(Page[RebateRecord]): ...
