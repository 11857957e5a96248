"""Request and response models of the rebate endpoints (back office)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from fxcrm.auth.schemas import Strict
from fxcrm.funding.times import WireTime
from fxcrm.pages import Page
from fxcrm.reports.schemas import TIME_PATTERN

TIME = Field(pattern=TIME_PATTERN, description="YYYY-MM-DD HH:MM:SS in the broker's time zone")


class RecomputeRequest(Strict):
    start_time: str = TIME
    end_time: str = TIME
    apply: bool = Field(default=False, description="false: show the differences; true: book them")


class RecomputeAnswer(BaseModel):
    trades: int
    changed_details: int
    ibs: list[dict[str, Any]] = Field(description="[{ib_id, delta}]: what each IB would gain (or lose)")
    details: list[dict[str, Any]] = Field(description="The first 200 changed details: old and new amount and rule")
    applied: bool


class CommissionRecord(BaseModel):
    id: int
    ib_id: int
    run_id: str
    kind: Literal["settlement", "adjustment"]
    status: Literal["granted", "held"]
    period_start: WireTime
    period_end: WireTime
    total_amount: str
    total_orders: int
    currency: str
    calculate_at: WireTime
    grant_at: WireTime | None = None


class CommissionRecordList(Page[CommissionRecord]): ...


class SettlementStarted(BaseModel):
    status: str
