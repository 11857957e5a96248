"""The typed order: a deposit, a withdrawal or a transfer, as the funding
domain builds it and the table stores it. `to_item` and `order_from_item` are
the one place an order becomes an item and back, so mypy strict sees every
field the domain reads or writes, and a field the model does not name cannot
reach the table (extra fields are refused).

Each kind says where every field of its request schema lands
(`FROM_REQUEST`): tests/unit/test_typed_domain.py holds those maps equal to the
schemas, so a request field added and not stored fails a test."""

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypedDict

from pydantic import Field, TypeAdapter

from fxcrm.dal.models.base import Record, without_keys

OrderKind = Literal["deposit", "withdrawal", "transfer"]
OrderStatus = Literal["pending", "auditing", "approved", "disapproved"]
Method = Literal["bank_transfer", "international_wire_transfer", "cryptocurrency"]
# What a request field that is not stored was for (a key, a check, a secret).
NOT_STORED = "checked, not stored"


class AccountRef(Record):
    """A trading account as an order names it (and its history row shows it)."""

    account: str
    id: int
    server_name: str
    server_type: str


class OrderBase(Record):
    """What every kind records."""

    # request field -> the model field that keeps it (or NOT_STORED: why not)
    FROM_REQUEST: ClassVar[dict[str, str]] = {}

    id: int
    order_number: str
    kind: OrderKind
    user_id: int
    email: str
    status: OrderStatus
    amount: Decimal
    currency: str
    account_id: int
    account: AccountRef
    created_at: int
    client_remark: str = ""
    submit_time: int | None = None
    # the outcome
    reason: str | None = None
    decided_at: int | None = None
    auditor_name: str | None = None
    # the flow's steps on the trading server, marked before and after each call
    hold_started: bool | None = None
    held: bool | None = None
    credit_started: bool | None = None


class DepositOrder(OrderBase):
    FROM_REQUEST: ClassVar[dict[str, str]] = {
        # DepositDraftRequest
        "deposit_amount": "amount",
        "remark": "client_remark",
        "remittance_id": "channel_id",
        "trading_account_id": "account_id",
        # DepositSubmitRequest
        "order_number": "order_number",
        "receipt_url": "receipt_key",
    }

    kind: Literal["deposit"] = "deposit"
    channel_id: int
    channel_name: str
    method: Method
    icon: str = ""
    fee: Decimal | None = None  # the deposit report's column: no deposit channel charges one yet
    # offline: the receipt checked at submit (that version only is shown to staff)
    receipt_key: str | None = None
    receipt_version: str | None = None
    credited_on_platform: bool | None = None
    # online: the payment provider's payment
    pay_url: str | None = None
    psp_provider: str | None = None
    psp_invoice_id: str | None = None
    psp_payment_id: str | None = None
    psp_status: str | None = None
    psp_review: bool | None = None
    reversed: bool | None = None
    reversed_at: int | None = None


class WithdrawalOrder(OrderBase):
    FROM_REQUEST: ClassVar[dict[str, str]] = {
        "bank_transfer_info": "details",
        "cryptocurrency_info": "details",
        "international_wire_info": "details",
        "payment_account_id": "payment_account_id",
        "currency": "remittance_currency",
        "email_code": NOT_STORED,  # a one-time secret, checked and consumed
        "exchange_rate": "exchange_rate",
        "fee": "fee",
        "method": "method",
        "remark": "client_remark",
        "remittance_amount": "remittance_amount",
        "remittance_id": "channel_id",
        "trading_account_id": "account_id",
        "withdrawal_amount": "amount",
    }

    kind: Literal["withdrawal"] = "withdrawal"
    fee: Decimal
    exchange_rate: Decimal
    remittance_amount: Decimal
    remittance_currency: str
    method: Method
    channel_id: int
    channel_name: str
    icon: str = ""
    details: dict[str, str]
    payment_account_id: int | None = None  # the saved account the details came from
    # online: paid through the payment provider, whose callbacks come back to `api_base`
    payout_kind: Literal["offline", "online"] = "offline"
    api_base: str = ""
    payout_reference: str | None = None
    psp_payout_started: bool | None = None
    psp_payout_id: str | None = None
    psp_payout_status: str | None = None


class TransferOrder(OrderBase):
    FROM_REQUEST: ClassVar[dict[str, str]] = {
        "amount": "amount",
        "email_code": NOT_STORED,  # a one-time secret, checked and consumed
        "remark": "client_remark",
        "source_trading_account_id": "account_id",
        "target_trading_account_id": "target_account_id",
    }

    kind: Literal["transfer"] = "transfer"
    target_account_id: int
    target_account: AccountRef


Order = Annotated[DepositOrder | WithdrawalOrder | TransferOrder, Field(discriminator="kind")]
_ORDER: TypeAdapter[DepositOrder | WithdrawalOrder | TransferOrder] = TypeAdapter(Order)


class OrderChange(TypedDict, total=False):
    """The fields a conditional update of an order may set: mypy checks each
    key and its type where an update is written."""

    status: OrderStatus
    reason: str
    decided_at: int
    auditor_name: str
    submit_time: int
    hold_started: bool
    held: bool
    credit_started: bool
    credited_on_platform: bool
    receipt_key: str
    receipt_version: str
    pay_url: str
    psp_provider: str
    psp_invoice_id: str
    psp_payment_id: str
    psp_status: str
    psp_review: bool
    reversed: bool
    reversed_at: int
    payout_reference: str
    psp_payout_started: bool
    psp_payout_id: str
    psp_payout_status: str


def order_from_item(item: dict[str, Any]) -> DepositOrder | WithdrawalOrder | TransferOrder:
    return _ORDER.validate_python(without_keys(item))
