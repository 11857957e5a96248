"""Filters and rows of the six reports (the seed's names and enums)."""

from typing import Literal

from pydantic import BaseModel, Field

from fxcrm.core.pages import Page
from fxcrm.core.types import Strict
from fxcrm.funding.schemas import TIME_DESCRIPTION, MethodFilter

OrderStatus = Literal["all", "auditing", "approved", "disapproved"]
TransferStatus = Literal["all", "pending", "auditing", "approved", "disapproved"]
Side = Literal["all", "BUY", "SELL"]
PendingType = Literal["all", "BUY_LIMIT", "SELL_LIMIT", "BUY_STOP", "SELL_STOP", "BUY_STOP_LIMIT", "SELL_STOP_LIMIT"]
ExportFormat = Literal["csv", "xlsx"]
MAX_SIZE = 100
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


class Window(Strict):
    start_time: str | None = Field(default=None, pattern=TIME_PATTERN, description=TIME_DESCRIPTION)
    end_time: str | None = Field(default=None, pattern=TIME_PATTERN, description=TIME_DESCRIPTION)


class Filters(Window):
    page: int = Field(default=1, ge=1, le=10_000, description="Page number, from 1 (ignored by exports)")
    size: int = Field(
        default=20, ge=1, le=MAX_SIZE, description=f"Rows per page, at most {MAX_SIZE} (ignored by exports)"
    )


class Export(BaseModel):
    format: ExportFormat = Field(default="csv", description="csv or xlsx")


class DepositFields(BaseModel):
    status: OrderStatus = Field(description="all = auditing, approved and disapproved")


class WithdrawalFields(DepositFields):
    method: MethodFilter = Field(default="all", description="all = every method")


class TransferFields(BaseModel):
    status: TransferStatus
    order_number: str | None = Field(default=None, max_length=40)


class DepositFilters(DepositFields, Filters): ...


class WithdrawalFilters(WithdrawalFields, Filters): ...


class TransferFilters(TransferFields, Filters): ...


class TradeFilters(Filters):
    account: str | None = Field(default=None, max_length=20, description="The trading account's login")
    order_number: str | None = Field(default=None, max_length=40, description="The trade's ticket")
    server_id: int | None = Field(
        default=None, ge=1, le=4, description="1 MT4-Demo, 2 MT4-Live, 3 MT5-Demo, 4 MT5-Live"
    )
    symbol: str | None = Field(default=None, max_length=32, description="Exact symbol, e.g. EURUSD")
    trading_account_id: int | None = Field(default=None, ge=1, le=2**53)


class HistoryFilters(TradeFilters):
    trading_type: Side
    time_type: Literal["open", "close"] = Field(default="open", description="Filter the window on open or close time")


class PositionFilters(TradeFilters):
    trading_type: Side


class PendingFilters(TradeFilters):
    trading_type: PendingType


DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TimeSearch = Literal["calculate_at", "grant_at"]


class CommissionFields(BaseModel):
    time_search_type: TimeSearch = Field(default="calculate_at", description="Which time the window filters")


class CommissionFilters(CommissionFields, Filters): ...


class DetailFields(CommissionFields):
    start_time: str | None = Field(default=None, pattern=DATE_PATTERN, description="YYYY-MM-DD")
    end_time: str | None = Field(default=None, pattern=DATE_PATTERN, description="YYYY-MM-DD")
    client_user_name: str | None = Field(default=None, max_length=100, description="Part of the client's name")


class CommissionDetailFilters(DetailFields, Filters):
    rebate_aggregation_id: int | None = Field(
        default=None, ge=1, le=2**53, description="One commission record's details"
    )


class DepositExport(DepositFields, Window, Export): ...


class WithdrawalExport(WithdrawalFields, Window, Export): ...


class TransferExport(TransferFilters, Export): ...


class HistoryExport(HistoryFilters, Export): ...


class PositionExport(PositionFilters, Export): ...


class PendingExport(PendingFilters, Export): ...


class CommissionExport(CommissionFields, Window, Export): ...


class CommissionDetailExport(DetailFields, Window, Export):
    rebate_aggregation_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,16}$", description="One commission record's details"
    )


class AccountRef(BaseModel):
    account: str
    id: int
    server_name: str
    server_type: str


class MoneyRow(BaseModel):
    id: int
    order_number: str
    account: str
    amount: str
    currency: str
    fee: str
    method: str
    server_name: str
    server_type: str
    status: str
    submit_time: str
    auditor_name: str
    user_name: str


class TransferReportRow(BaseModel):
    order_number: str
    amount: str
    currency: str
    status: str
    submit_time: str
    source_trading_account: AccountRef
    target_trading_account: AccountRef
    user_name: str


class TradeRow(BaseModel):
    """What a closed trade and an open position share."""

    order_number: str
    trading_account: AccountRef
    trading_type: str
    symbol: str
    volume: str
    open_time: str
    open_price: str
    close_price: str
    sl: str
    tp: str
    commission: str
    swap: str
    profit: str
    currency: str
    user_name: str


class HistoryRow(TradeRow):
    close_time: str


class PositionRow(TradeRow):
    leverage: int
    close_price: str = Field(description="The current price the position would close at")


class PendingRow(BaseModel):
    order_number: str
    trading_account: AccountRef
    trading_type: str
    symbol: str
    volume: str
    pending_price: str
    pending_time: str
    sl: str
    tp: str
    currency: str
    user_name: str


# The pages' schema names are kept as first published: generated clients name their classes after them.
class MoneyReport(Page[MoneyRow]): ...


class TransferReport(Page[TransferReportRow]): ...


class HistoryReport(Page[HistoryRow]): ...


class PositionReport(Page[PositionRow]): ...


class PendingReport(Page[PendingRow]): ...


class ExportAnswer(BaseModel):
    download_url: str = Field(description="A presigned GET valid for 15 minutes ('' while a background export runs)")
    job_id: str = Field(description="Poll GET /reports/exports/{job_id} when status is running")
    status: Literal["done", "running", "failed"]
    rows: int = Field(description="Rows written (so far)")
    error: str = Field("", description="Why a failed export failed ('' otherwise)")


class CommissionRow(BaseModel):
    id: int
    order_number: str
    login_id: str = Field(description="The IB's user id")
    user_name: str
    user_email: str
    total_amount: str
    total_orders: int
    currency: str
    calculate_at: str
    grant_at: str


class CommissionDetailRow(BaseModel):
    order_number: str = Field(description="The trade's position")
    mt_order_number: str = Field(description="The closing deal's ticket")
    symbol: str
    volume: float
    open_price: str
    close_price: str
    profit: str
    amount: str
    currency: str
    client_user_name: str
    ib_user_name: str
    sub_ib_user_name: str = Field(description="The IB one level below, for level 2 and deeper")
    trigger_event: str = Field(description="What produced the amount: the rule, level, volume or commission and rate")
    calculate_at: str
    grant_at: str


class CommissionReport(Page[CommissionRow]): ...


class CommissionDetailReport(Page[CommissionDetailRow]): ...
