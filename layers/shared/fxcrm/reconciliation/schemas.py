"""Wire models of the reconciliation findings staff list."""

from typing import Literal

from pydantic import BaseModel, Field

from fxcrm.core.pages import Page
from fxcrm.core.times import WireTime

FindingKind = Literal["balance_mismatch", "stalled_flow", "unsettled_trades", "approval_past_sla"]


class FindingRow(BaseModel):
    kind: FindingKind
    subject: str = Field(description="What the finding is about: the trading account id, order number or approval id")
    since: WireTime = Field(description="The first run that saw it, the order's last step, or the oldest trade")
    detail: str
    user_id: int | None = None
    account_id: int | None = None
    server: str | None = None
    login: int | None = None
    order_number: str | None = None
    approval_id: int | None = None
    approval_kind: str | None = None
    currency: str | None = None
    ledger_balance: str | None = Field(default=None, description="The ledger's posted balance")
    ledger_pending_out: str | None = Field(default=None, description="Reserved by withdrawals and transfers in flight")
    platform_balance: str | None = Field(default=None, description="The trading server's balance")
    difference: str | None = Field(default=None, description="Platform minus what the ledger explains")
    amount: str | None = None
    execution_status: str | None = Field(
        default=None, description="The flow's execution: SUCCEEDED, FAILED, TIMED_OUT, ABORTED or MISSING"
    )
    trades: int | None = None
    lots: str | None = None


class FindingList(Page[FindingRow]):
    run_id: int | None = Field(description="The run listed (the newest by default); null before the first run")
    run_at: WireTime | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="Findings of the run per kind")
