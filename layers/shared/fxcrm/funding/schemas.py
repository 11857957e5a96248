"""Wire models of the funding endpoints (field names and enums as in the seed).

Amounts are decimal strings ("100.00"); the domain parses them with the
currency's places and names the field of any bad value."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fxcrm.core.pages import Page
from fxcrm.core.text import FreeText
from fxcrm.core.types import Int, Strict
from fxcrm.core.uploads import PresignedUpload, UploadRequest

Method = Literal["bank_transfer", "international_wire_transfer", "cryptocurrency"]
MethodFilter = Literal["all", "bank_transfer", "international_wire_transfer", "cryptocurrency"]
OrderStatus = Literal["pending", "auditing", "approved", "disapproved"]
AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,8})?$"
AmountText = Field(pattern=AMOUNT, description="A decimal amount such as 100.00")
TIME_DESCRIPTION = "YYYY-MM-DD HH:MM:SS in the broker's time zone"
COUNTRY = r"^[A-Z]{2}$"
BANK_NO = r"^[A-Za-z0-9 -]{4,34}$"
SWIFT = r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$"


def text(max_length: int = 100, min_length: int = 1) -> Any:
    """The length of a FreeText field (which refuses control and bidi characters)."""
    return Field(min_length=min_length, max_length=max_length)


class BankTransferInfo(Strict):
    bank_country: str = Field(pattern=COUNTRY, description="ISO 3166 alpha-2 code")
    bank_name: FreeText = text()
    bank_no: str = Field(pattern=BANK_NO)
    branch_name: FreeText = text(min_length=0)
    bsc_code: str = Field(default="", max_length=20, pattern=r"^[A-Za-z0-9-]*$", description="Bank/branch sort code")


class CryptocurrencyInfo(Strict):
    network: Literal["TRC20", "ERC20", "BTC"]
    wallet_address: str = Field(min_length=26, max_length=90, pattern=r"^[A-Za-z0-9]+$")


class InternationalWireInfo(Strict):
    bank_country: str = Field(pattern=COUNTRY, description="ISO 3166 alpha-2 code")
    bank_name: FreeText = text()
    bank_no: str = Field(pattern=BANK_NO, description="Account number or IBAN")
    beneficiary_address: FreeText = text(200)
    swift_code: str = Field(pattern=SWIFT)


class WithdrawalBankInfo(BankTransferInfo):
    account_holder_name: FreeText = text()


class WithdrawalCryptoInfo(CryptocurrencyInfo):
    currency: str = Field(pattern=r"^[A-Z]{2,6}$")


class WithdrawalWireInfo(InternationalWireInfo):
    account_holder_name: FreeText = text()


# ---------------------------------------------------------------- reference data


class CurrencyName(BaseModel):
    en: str
    zh: str


class CurrencyItem(BaseModel):
    code: str
    name: CurrencyName


class CurrencyList(Page[CurrencyItem]): ...


class DepositChannel(BaseModel):
    account_info: str
    allowed_countries: list[str]
    allowed_currencies: list[str]
    fee: str
    icon_url: str
    id: int
    max_amount: str
    method: Method
    min_amount: str
    name: str


class DepositChannelList(Page[DepositChannel]): ...


class WithdrawalChannel(BaseModel):
    account_info: str
    allowed_currencies: list[str]
    fee: str
    icon_url: str
    id: int
    max_amount: str
    method: Method
    min_amount: str
    name: str


class WithdrawalChannelList(Page[WithdrawalChannel]): ...


# ---------------------------------------------------------------- payment accounts


class PaymentAccountRequest(Strict):
    bank_transfer_info: BankTransferInfo | None = None
    cryptocurrency_info: CryptocurrencyInfo | None = None
    international_wire_info: InternationalWireInfo | None = None
    payment_method: Method
    remark: FreeText = Field(default="", max_length=200)


class PaymentAccountUpdate(Strict):
    bank_transfer_info: BankTransferInfo | None = None
    cryptocurrency_info: CryptocurrencyInfo | None = None
    id: Int = Field(ge=1)
    international_wire_info: InternationalWireInfo | None = None
    is_default: bool | None = None
    remark: FreeText | None = Field(default=None, max_length=200)


class IdResponse(BaseModel):
    id: int


class PaymentAccountDetail(BaseModel):
    account_holder_name: str
    bank_transfer_info: BankTransferInfo | None
    created_at: str
    cryptocurrency_info: CryptocurrencyInfo | None
    id: int
    international_wire_info: InternationalWireInfo | None
    payment_method: Method
    remark: str
    updated_at: str


class SavedAccountFields(BaseModel):
    """What a listed payment account adds to its details."""

    created_at: str
    id: int
    is_default: bool
    remark: str


class BankTransferRow(BankTransferInfo, SavedAccountFields):
    pass


class CryptocurrencyRow(CryptocurrencyInfo, SavedAccountFields):
    pass


class InternationalWireRow(InternationalWireInfo, SavedAccountFields):
    pass


class PaymentAccountList(BaseModel):
    bank_transfer: list[BankTransferRow]
    cryptocurrency: list[CryptocurrencyRow]
    international_wire_transfer: list[InternationalWireRow]
    total: int


# ---------------------------------------------------------------- orders


class TradingAccountRef(BaseModel):
    account: str
    id: int
    server_name: str
    server_type: str


class DepositDraftRequest(Strict):
    deposit_amount: str = AmountText
    remark: FreeText = Field(default="", max_length=200)
    remittance_id: Int = Field(ge=1, description="The deposit channel's id")
    trading_account_id: Int = Field(ge=1)

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"deposit_amount": "100.00", "remark": "", "remittance_id": 1, "trading_account_id": 1234567890}
            ]
        }
    )


class DepositDraftResponse(BaseModel):
    order_number: str
    pay_data: str = Field(description="JSON: where to pay and the reference to quote")
    pay_type: Literal["offline", "online"] = Field(
        description="offline: pay to `account_info` and upload a receipt; online: send the client to `pay_url`"
    )
    pay_url: str = Field(description="online: the payment provider's page; offline: empty")
    status: OrderStatus


class CallbackAnswer(BaseModel):
    ok: bool
    result: str = Field(description="What the callback did: credited, recorded, unchanged, ...")


class PspIssue(BaseModel):
    id: int
    at: str = Field(description="When it arrived (YYYY-MM-DD HH:MM:SS, broker time)")
    reason: Literal[
        "bad_signature", "unknown_order", "amount_mismatch", "reversal_short", "refund_due", "credit_refused"
    ]
    payment_id: str = ""
    order_number: str = ""
    status: str = Field(default="", description="The provider's payment status")
    amount: str = ""
    currency: str = ""
    expected: str = Field(default="", description="amount_mismatch: the order's amount and currency")
    detail: str = ""
    body: str = Field(default="", description="bad_signature: the start of the body as received")


class PayoutRefresh(BaseModel):
    order_number: str
    status: OrderStatus
    psp_payout_id: str
    psp_payout_status: str = Field(description="The provider's word (WAITING, FINISHED, FAILED, ...)")
    result: str = Field(description="paid, refunded, waiting or unchanged")


class PspIssueList(BaseModel):
    list: list[PspIssue]
    total: int


class ReceiptUpload(PresignedUpload):
    key: str = Field(description="Send this as `receipt_url` when submitting")


class ReceiptUploadRequest(UploadRequest): ...


class DepositSubmitRequest(Strict):
    order_number: str = Field(pattern=r"^D[0-9]{1,16}$")
    receipt_url: str = Field(max_length=300, description="The `key` the upload step returned")


class OrderStatusResponse(BaseModel):
    order_number: str
    status: OrderStatus


class DepositRow(BaseModel):
    amount: str
    client_remark: str
    currency: str
    icon: str
    id: int
    order_number: str
    pay_url: str
    remark: str
    remittance_name: str
    server_name: str
    server_type: str
    status: OrderStatus
    submit_time: str
    target_trading_account: TradingAccountRef


class DepositList(Page[DepositRow]): ...


class WithdrawalRequest(Strict):
    bank_transfer_info: WithdrawalBankInfo | None = None
    cryptocurrency_info: WithdrawalCryptoInfo | None = None
    currency: str = Field(pattern=r"^[A-Z]{2,6}$", description="The currency paid out")
    email_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="The code sent for scene `withdrawal`; required unless staff made it optional",
    )
    exchange_rate: str = Field(pattern=AMOUNT, description="Units of `currency` per USD, as quoted")
    fee: str = Field(pattern=AMOUNT, description="In USD, as quoted")
    international_wire_info: WithdrawalWireInfo | None = None
    method: Method
    payment_account_id: Int | None = Field(
        default=None, ge=1, description="A saved payment account instead of the details"
    )
    remark: FreeText = Field(default="", max_length=200)
    remittance_amount: str = Field(pattern=AMOUNT, description="(withdrawal_amount - fee) x exchange_rate")
    remittance_id: Int = Field(ge=1, description="The withdrawal channel's id")
    trading_account_id: Int = Field(ge=1)
    withdrawal_amount: str = AmountText

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bank_transfer_info": {
                        "account_holder_name": "Ada Lovelace",
                        "bank_country": "GB",
                        "bank_name": "Example Bank",
                        "bank_no": "GB33BUKB20201555555555",
                        "branch_name": "London",
                    },
                    "currency": "USD",
                    "email_code": "123456",
                    "exchange_rate": "1",
                    "fee": "0.00",
                    "method": "bank_transfer",
                    "remittance_amount": "50.00",
                    "remittance_id": 2,
                    "trading_account_id": 1234567890,
                    "withdrawal_amount": "50.00",
                }
            ]
        }
    )


class WithdrawalQuote(BaseModel):
    currency: str
    exchange_rate: str
    fee: str
    remittance_amount: str
    withdrawal_amount: str


class OrderNumberResponse(BaseModel):
    order_number: str


class WithdrawalRow(BaseModel):
    amount: str
    client_remark: str
    currency: str
    icon: str
    id: int
    order_number: str
    remark: str
    remittance_name: str
    source_trading_account: TradingAccountRef
    status: OrderStatus
    submit_time: str


class WithdrawalList(Page[WithdrawalRow]): ...


class TransferRequest(Strict):
    amount: str = AmountText
    email_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="The code sent for scene `transfer`; required unless staff made it optional",
    )
    remark: FreeText = Field(max_length=200)
    source_trading_account_id: Int = Field(ge=1)
    target_trading_account_id: Int = Field(ge=1)

    # the example clients and Swagger UI show
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": "25.00",
                    "email_code": "123456",
                    "remark": "",
                    "source_trading_account_id": 1234567890,
                    "target_trading_account_id": 1234567891,
                }
            ]
        }
    )


class TransferResponse(BaseModel):
    audit_id: int
    audit_status: OrderStatus


class TransferRow(BaseModel):
    amount: str
    currency: str
    id: int
    order_number: str
    remark: str
    source_trading_account: TradingAccountRef
    status: OrderStatus
    submit_time: str
    target_trading_account: TradingAccountRef


class TransferList(Page[TransferRow]): ...


# ---------------------------------------------------------------- staff settings


class ChannelConfig(Strict):
    name: FreeText = text()
    method: Method
    min_amount: str = AmountText
    max_amount: str = AmountText
    fee_fixed: str = Field(default="0", pattern=AMOUNT)
    fee_percent: str = Field(default="0", pattern=r"^[0-9]{1,2}(\.[0-9]{1,4})?$")
    allowed_countries: list[str] = Field(default_factory=list, max_length=250)
    allowed_currencies: list[str] = Field(min_length=1, max_length=50)
    account_info: FreeText = Field(default="", max_length=2000)
    icon_url: str = Field(default="", max_length=300)
    enabled: bool = True
    # Deposit channels: offline (receipt, staff approve) or online (the PSP, credited on its callback),
    # and the staff rules that send an online deposit to the normal approval flow.
    kind: Literal["offline", "online"] = "offline"
    review_above: str = Field(default="", pattern=f"^$|{AMOUNT}", description="online: staff review above this")
    review_first_deposit: bool = Field(default=False, description="online: staff review a client's first deposit")
    review_without_kyc: bool = Field(default=False, description="online: staff review while KYC is not approved")


class ExchangeRates(Strict):
    rates: dict[str, str] = Field(description='Units of each currency per USD, e.g. {"EUR": "0.92"}')


class FundingSettings(Strict):
    transfer_approval_threshold: str = AmountText
    two_approvals_above: str = Field(
        default="5000.00", pattern=AMOUNT, description="Withdrawals above this need two different approvers"
    )
    withdrawal_email_code_required: bool = Field(default=True, description="A withdrawal must carry `email_code`")
    transfer_email_code_required: bool = Field(default=True, description="A transfer must carry `email_code`")
