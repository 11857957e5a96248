"""Funding function: /funding/* (currencies, channels, payment accounts,
deposits with receipts, withdrawals, transfers and their histories)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fxcrm.api import standin
from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.idempotency import IdempotencyKey, run_once
from fxcrm.api.security import CurrentPrincipal
from fxcrm.auth.schemas import EmptyResponse
from fxcrm.core import clock
from fxcrm.core.settings import get_settings
from fxcrm.funding import (
    deposits,
    local_psp,
    online,
    online_payouts,
    payment_accounts,
    reference,
    transfers,
    withdrawals,
)
from fxcrm.funding.schemas import (
    AMOUNT,
    TIME_DESCRIPTION,
    CallbackAnswer,
    CurrencyList,
    DepositChannelList,
    DepositDraftRequest,
    DepositDraftResponse,
    DepositList,
    DepositSubmitRequest,
    IdResponse,
    Method,
    MethodFilter,
    OrderNumberResponse,
    OrderStatusResponse,
    PaymentAccountDetail,
    PaymentAccountList,
    PaymentAccountRequest,
    PaymentAccountUpdate,
    ReceiptUpload,
    ReceiptUploadRequest,
    TransferList,
    TransferRequest,
    TransferResponse,
    WithdrawalChannelList,
    WithdrawalList,
    WithdrawalQuote,
    WithdrawalRequest,
)

router = APIRouter(prefix="/funding", tags=["funding"])

Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1")]
Size = Annotated[int, Query(ge=1, le=100, description="Rows per page, at most 100")]
Time = Annotated[str | None, Query(max_length=19, description=TIME_DESCRIPTION)]
MONEY = error_responses(401, 403, 404, 409, 503)


# ---------------------------------------------------------------- reference data


@router.get("/currencies", response_model=CurrencyList, responses=error_responses(401))
def currencies(principal: CurrentPrincipal, method: MethodFilter = "all") -> Any:
    """Currencies available for a funding method (`all` for every one)."""
    return reference.currencies(method)


@router.get("/deposit-channels", response_model=DepositChannelList, responses=error_responses(401))
def deposit_channels(principal: CurrentPrincipal, page: Page = 1, size: Size = 20) -> Any:
    """Ways to deposit, with their limits, fee and where to pay."""
    return reference.channels("deposit", page, size)


@router.get("/withdrawal-channels", response_model=WithdrawalChannelList, responses=error_responses(401))
def withdrawal_channels(principal: CurrentPrincipal, page: Page = 1, size: Size = 20) -> Any:
    """Ways to withdraw, with their limits and fee."""
    return reference.channels("withdrawal", page, size)


# ---------------------------------------------------------------- payment accounts


@router.post("/payment-accounts", response_model=IdResponse, status_code=201, responses=error_responses(401, 403))
def create_payment_account(body: PaymentAccountRequest, principal: CurrentPrincipal) -> Any:
    """Save a receiving account (bank, wire or crypto) for withdrawals."""
    infos = body.model_dump(include={"bank_transfer_info", "cryptocurrency_info", "international_wire_info"})
    return {"id": payment_accounts.create(principal, body.payment_method, infos, body.remark, clock.now())}


@router.get("/payment-accounts", response_model=PaymentAccountList, responses=error_responses(401, 403))
def list_payment_accounts(
    principal: CurrentPrincipal, payment_method: Method | None = None, start_time: Time = None, end_time: Time = None
) -> Any:
    """The caller's receiving accounts grouped by method, newest first."""
    return payment_accounts.list_grouped(get_settings(), principal, payment_method, start_time, end_time)


@router.put("/payment-accounts", response_model=EmptyResponse, responses=error_responses(401, 403, 404))
def update_payment_account(body: PaymentAccountUpdate, principal: CurrentPrincipal) -> Any:
    """Change details or remark, or make it (or stop it being) the method's default."""
    infos = body.model_dump(include={"bank_transfer_info", "cryptocurrency_info", "international_wire_info"})
    payment_accounts.update(principal, body.id, infos, body.is_default, body.remark, clock.now())
    return {}


@router.get("/payment-accounts/{account_id}", response_model=PaymentAccountDetail, responses=error_responses(401, 404))
def payment_account(principal: CurrentPrincipal, account_id: Annotated[int, Path(ge=1, le=2**53)]) -> Any:
    """One of the caller's receiving accounts; another user's id is 404."""
    return payment_accounts.detail(get_settings(), principal, account_id)


# ---------------------------------------------------------------- deposits


@router.post("/deposits", response_model=DepositDraftResponse, status_code=201, responses=MONEY)
def create_deposit(
    body: DepositDraftRequest, principal: CurrentPrincipal, key: IdempotencyKey, request: Request
) -> Any:
    """Start a deposit: an order with where to pay. Offline channels: upload the
    receipt, then submit. Online channels: send the client to `pay_url`."""
    return run_once(
        principal,
        key,
        "deposit-draft",
        body.model_dump(),
        lambda: deposits.draft(get_settings(), principal, body, clock.now(), str(request.base_url)),
    )


@router.post(
    "/deposits/{order_number}/receipt-upload", response_model=ReceiptUpload, responses=error_responses(401, 404, 409)
)
def receipt_upload(
    body: ReceiptUploadRequest,
    principal: CurrentPrincipal,
    order_number: Annotated[str, Path(pattern=r"^D[0-9]{1,16}$")],
) -> Any:
    """A presigned POST for the receipt (JPEG, PNG or PDF, size-capped, short-lived)."""
    return deposits.receipt_upload(get_settings(), principal, order_number, body.content_type)


@router.post("/deposits/submit", response_model=OrderStatusResponse, responses=MONEY)
def submit_deposit(body: DepositSubmitRequest, principal: CurrentPrincipal, key: IdempotencyKey) -> Any:
    """Submit the deposit with its uploaded receipt for staff approval."""
    return run_once(
        principal,
        key,
        "deposit-submit",
        body.model_dump(),
        lambda: deposits.submit(get_settings(), principal, body.order_number, body.receipt_url, clock.now()),
    )


@router.get("/deposits", response_model=DepositList, responses=error_responses(401, 403))
def deposit_history(
    principal: CurrentPrincipal, start_time: Time = None, end_time: Time = None, page: Page = 1, size: Size = 20
) -> Any:
    """The caller's deposits, newest first."""
    return deposits.history(get_settings(), principal, start_time, end_time, page, size)


# ---------------------------------------------------------------- the payment provider


@router.post("/psp/callback", response_model=CallbackAnswer, responses=error_responses(401, 503))
async def psp_callback(request: Request) -> Any:
    """The payment provider's callback (NOWPayments IPN, signed in `x-nowpayments-sig`).
    Public: the signature is the authentication; a replay changes nothing."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    result = online.handle_callback(get_settings(), body, headers, str(request.base_url), clock.now())
    return {"ok": True, "result": result}


@router.post("/psp/payout-callback", response_model=CallbackAnswer, responses=error_responses(401, 503))
async def psp_payout_callback(request: Request) -> Any:
    """The payment provider's payout callback (NOWPayments payout IPN, signed in `x-nowpayments-sig`)."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    result = online_payouts.handle_callback(get_settings(), body, headers, str(request.base_url), clock.now())
    return {"ok": True, "result": result}


_InvoiceId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get(
    "/psp/local/{invoice_id}",
    responses=standin.page_responses("The stand-in's page: pay, fail and cancel buttons that POST"),
)
def local_payment_page(invoice_id: _InvoiceId, request: Request) -> HTMLResponse:
    """The local stand-in for the provider's payment page. A GET changes nothing."""
    shown = local_psp.page(get_settings(), invoice_id, str(request.base_url))
    return standin.page(
        "payment",
        [
            "This stand-in replaces the payment provider on a development stack.",
            f"{shown['what']} {shown['order']}: {shown['amount']} {shown['currency']}",
        ],
        invoice_id,
        shown["token"],
        {"pay": "Pay", "fail": "Fail", "cancel": "Cancel"},
    )


@router.post(
    "/psp/local/{invoice_id}",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Back to the portal"}, **error_responses(403, 404, 503)},
)
async def local_payment(invoice_id: _InvoiceId, request: Request) -> RedirectResponse:
    """The stand-in page's form (`outcome` pay|fail|cancel and its `token`, form-encoded):
    pay and fail send the provider's signed callback; then back to the portal."""
    outcome, token = await standin.choice(request, ("pay", "fail", "cancel"), "must be pay, fail or cancel")
    target = local_psp.choose(get_settings(), invoice_id, outcome, token, str(request.base_url))
    return RedirectResponse(target, status_code=303)


# ---------------------------------------------------------------- withdrawals


@router.get("/withdrawals/quote", response_model=WithdrawalQuote, responses=error_responses(401, 403))
def withdrawal_quote(
    principal: CurrentPrincipal,
    remittance_id: Annotated[int, Query(ge=1, le=2**53)],
    withdrawal_amount: Annotated[str, Query(pattern=AMOUNT)],
    currency: Annotated[str, Query(pattern=r"^[A-Z]{2,6}$")],
) -> Any:
    """The fee, rate and amount paid out that a withdrawal request must carry."""
    return withdrawals.quote(principal, remittance_id, withdrawal_amount, currency)


@router.post("/withdrawals", response_model=OrderNumberResponse, status_code=201, responses=MONEY)
def create_withdrawal(
    body: WithdrawalRequest, principal: CurrentPrincipal, key: IdempotencyKey, request: Request
) -> Any:
    """Request a withdrawal: the amount is reserved at once, then staff approve it."""
    payload = body.model_dump()
    return run_once(
        principal,
        key,
        "withdrawal",
        payload,
        lambda: {
            "order_number": withdrawals.request(get_settings(), principal, body, clock.now(), str(request.base_url))
        },
    )


@router.get("/withdrawals", response_model=WithdrawalList, responses=error_responses(401, 403))
def withdrawal_history(
    principal: CurrentPrincipal, start_time: Time = None, end_time: Time = None, page: Page = 1, size: Size = 20
) -> Any:
    """The caller's withdrawals, newest first."""
    return withdrawals.history(get_settings(), principal, start_time, end_time, page, size)


# ---------------------------------------------------------------- transfers


@router.post("/transfers", response_model=TransferResponse, status_code=201, responses=MONEY)
def create_transfer(body: TransferRequest, principal: CurrentPrincipal, key: IdempotencyKey) -> Any:
    """Move money between two of the caller's live accounts (large amounts wait for staff)."""
    return run_once(
        principal,
        key,
        "transfer",
        body.model_dump(),
        lambda: transfers.create(get_settings(), principal, body, clock.now()),
    )


@router.get("/transfers", response_model=TransferList, responses=error_responses(401, 403))
def transfer_history(
    principal: CurrentPrincipal, start_time: Time = None, end_time: Time = None, page: Page = 1, size: Size = 20
) -> Any:
    """The caller's transfers, newest first."""
    return transfers.history(get_settings(), principal, start_time, end_time, page, size)


app = create_app("fxcrm funding", [router], "Deposits, withdrawals, transfers and payment accounts")
handler = lambda_handler(app, "funding")
