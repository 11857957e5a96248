"""Withdrawals: the amount is reserved in the ledger at request time (with the
order, in one transaction, so 200 concurrent requests can never take more
than the balance), then the flow holds it on the trading server, waits for
staff, pays out and posts. Rejected, expired or failed: the hold is refunded
and the reservation voided (each step once, so compensation is idempotent)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from fxcrm import ledger
from fxcrm.adapters.payouts import payouts_for
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import RequiredApprovals
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Forbidden, InvalidInput
from fxcrm.core.money import parse_amount, parse_decimal, quantise, show
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import funding as dal
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.funding import online_payouts, orders, payment_accounts, reference
from fxcrm.funding.orders import WithdrawalOrder
from fxcrm.funding.schemas import WithdrawalRequest

KIND: Literal["withdrawal"] = "withdrawal"
CURRENCY = reference.ACCOUNT_CURRENCY


@dataclass(frozen=True)
class Quote:
    """What a withdrawal costs and pays: the fee (USD), the rate and the amount paid out."""

    fee: Decimal
    exchange_rate: Decimal
    remittance_amount: Decimal


def _quote(channel: dict[str, Any], amount: Decimal, currency: str) -> Quote:
    if currency not in channel.get("allowed_currencies", []):
        raise InvalidInput(f"{channel['name']} does not pay out {currency}", "currency", "currency_not_supported")
    fee = reference.fee_for(channel, amount)
    if fee >= amount:
        raise InvalidInput(f"must be more than the fee of {fee} {CURRENCY}", "withdrawal_amount", "amount_below_fee")
    rate = reference.exchange_rate(currency)
    return Quote(fee, rate, quantise((amount - fee) * rate, currency))


def quote(principal: Principal, channel_id: int, amount_text: str, currency: str) -> dict[str, Any]:
    """What the server will charge and pay for a withdrawal: the client echoes these."""
    permissions.require(principal, "funding.withdraw")
    channel = reference.channel(KIND, channel_id)
    amount = parse_amount(amount_text, CURRENCY, "withdrawal_amount")
    reference.check_limits(channel, amount, "withdrawal_amount")
    quoted = _quote(channel, amount, currency)
    return {
        "withdrawal_amount": show(amount, CURRENCY),
        "fee": show(quoted.fee, CURRENCY),
        "exchange_rate": f"{quoted.exchange_rate}",
        "remittance_amount": show(quoted.remittance_amount, currency),
        "currency": currency,
    }


def _same(text: str, value: Decimal, field: str, shown: str) -> None:
    if parse_decimal(text, field) != value:
        raise InvalidInput(f"differs from the server's {shown}; quote again", field, "quote_mismatch")


def _plain(info: BaseModel | None) -> dict[str, Any] | None:
    return info.model_dump() if info is not None else None


def _details(principal: Principal, body: WithdrawalRequest) -> dict[str, str]:
    method = body.method
    infos = {
        "bank_transfer_info": _plain(body.bank_transfer_info),
        "international_wire_info": _plain(body.international_wire_info),
        "cryptocurrency_info": _plain(body.cryptocurrency_info),
    }
    if body.payment_account_id:
        if any(infos.values()):
            raise InvalidInput("send either a saved payment account or the details, not both", "payment_account_id")
        details = payment_accounts.details_for_withdrawal(principal, body.payment_account_id, method)
        return _strings(details | ({"currency": body.currency} if method == "cryptocurrency" else {}))
    return _strings(payment_accounts.check_details(method, infos))


def _strings(details: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in details.items()}


def build_order(
    principal: Principal,
    body: WithdrawalRequest,
    account: dict[str, Any],
    channel: dict[str, Any],
    quoted: Quote,
    details: dict[str, str],
    now: int,
    api_base: str = "",
) -> WithdrawalOrder:
    """The pending order of a checked request: every request field lands on
    the model (WithdrawalOrder.FROM_REQUEST says where)."""
    amount = parse_amount(body.withdrawal_amount, CURRENCY, "withdrawal_amount")
    return WithdrawalOrder(
        **orders.common_fields(KIND, principal, amount, account, now),
        fee=quoted.fee,
        exchange_rate=quoted.exchange_rate,
        remittance_amount=quoted.remittance_amount,
        remittance_currency=body.currency,
        method=body.method,
        channel_id=body.remittance_id,
        channel_name=str(channel["name"]),
        icon=str(channel.get("icon_url", "")),
        details=details,
        payment_account_id=body.payment_account_id,
        client_remark=body.remark,
        submit_time=now,
        # online: paid through the payment provider, whose callbacks come back to this API
        payout_kind=channel.get("kind", "offline"),
        api_base=api_base,
    )


def request(settings: Settings, principal: Principal, body: WithdrawalRequest, now: int, api_base: str = "") -> str:
    """Validate, check the email code, reserve the amount with the order; start the flow."""
    permissions.require(principal, "funding.withdraw")
    channel = reference.channel(KIND, body.remittance_id)
    if body.method != channel["method"]:
        raise InvalidInput(f"{channel['name']} pays by {channel['method']}", "method", "wrong_method")
    amount = parse_amount(body.withdrawal_amount, CURRENCY, "withdrawal_amount")
    reference.check_limits(channel, amount, "withdrawal_amount")
    quoted = _quote(channel, amount, body.currency)
    _same(body.fee, quoted.fee, "fee", f"fee ({show(quoted.fee, CURRENCY)})")
    _same(body.exchange_rate, quoted.exchange_rate, "exchange_rate", f"rate ({quoted.exchange_rate})")
    _same(
        body.remittance_amount,
        quoted.remittance_amount,
        "remittance_amount",
        f"amount ({quoted.remittance_amount})",
    )
    details = _details(principal, body)
    if kyc_dal.get_kyc_status(principal.user_id) != "approved":
        raise Forbidden("complete identity verification (KYC) before withdrawing", code="kyc_not_approved")
    account = orders.owned_live_account(principal, body.trading_account_id, "trading_account_id", "out")
    orders.confirm_by_email(settings, principal, KIND, body.email_code, now)

    order = build_order(principal, body, account, channel, quoted, details, now, api_base)
    number = order.order_number
    legs = [
        ledger.Leg(ledger.trading_account(int(account["id"])), -amount),
        ledger.Leg(ledger.external("payout", channel["method"], CURRENCY), amount - quoted.fee),
        ledger.Leg(ledger.fees(CURRENCY), quoted.fee),
    ]
    orders.reserve_with_order(order, legs, now, "withdrawal_amount")
    summary = {
        "order_number": number,
        "amount": show(amount, CURRENCY),
        "fee": show(quoted.fee, CURRENCY),
        "remittance": f"{show(quoted.remittance_amount, body.currency)} {body.currency}",
        "method": channel["method"],
        "account": order.account.model_dump(),
        "details": details,
    }
    # Maker-checker is decided now, from the threshold in force at submission.
    approvers: RequiredApprovals = 2 if amount > reference.two_approvals_above() else 1
    orders.submit_or_release(settings, order, principal, summary, now, required_approvals=approvers)
    return number


# ---------------------------------------------------------------- flow tasks


def hold(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    """Take the amount off the trading account, so it cannot be traded away while staff decide."""
    order = orders.get_order(WithdrawalOrder, order_id)
    if not order.held:
        account = trading_dal.get_trading_account(order.account_id)
        if account is None:
            raise orders.PlatformRefused("the trading account no longer exists")
        # Marked before the call: if this step dies mid-way, compensation knows the
        # hold may have happened.
        dal.update_order(order.order_number, {"hold_started": True}, ("pending", "auditing"))
        orders.move_on_platform(settings, dict(account), -order.amount, f"wd-{order.order_number}")
        dal.update_order(order.order_number, {"held": True, "status": "auditing"}, ("pending", "auditing"))
    return {"held": True}


def pay_out(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    order = orders.get_order(WithdrawalOrder, order_id)
    if online_payouts.is_online(order):
        return {"payout_reference": online_payouts.send(settings, order)}
    reference_id = payouts_for(settings.payout_provider).pay(
        order.order_number, order.method, dict(order.details), order.remittance_amount, order.remittance_currency
    )
    dal.update_order(order.order_number, {"payout_reference": reference_id}, ("auditing",))
    return {"payout_reference": reference_id}


def post(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    order = orders.get_order(WithdrawalOrder, order_id)
    number = order.order_number
    if online_payouts.is_online(order):  # the provider's outcome settles it (callback or this look-up)
        result = online_payouts.poll(settings, order, now) if order.status == "auditing" else "unchanged"
        workflow.close(order_id, "completed", now)
        return {"status": "paying" if result == "waiting" else orders.reload(order).status}
    ledger.settle(f"wd-{number}", now)
    if order.status != "approved":
        approval = approvals_dal.get_approval(order_id)
        auditor = orders.auditor_name(approval)
        dal.update_order(number, {"status": "approved", "decided_at": now, "auditor_name": auditor}, ("auditing",))
        orders.notify_paid_out(settings, order)
    workflow.close(order_id, "completed", now)
    return {"status": "approved"}


def compensate(settings: Settings, order_id: int, outcome: str, detail: str, now: int) -> dict[str, Any]:
    """Refund the hold, void the reservation, disapprove the order: each once."""
    order = orders.get_order(WithdrawalOrder, order_id)
    number = order.order_number
    if order.payout_reference or order.psp_payout_started:
        raise orders.PlatformRefused(f"{number} was paid out already; it cannot be reversed automatically")
    if order.hold_started:
        orders.undo_platform_op(settings, order.account_id, -order.amount, f"wd-{number}", done=bool(order.held))
    ledger.release(f"wd-{number}", now)
    approval = approvals_dal.get_approval(order_id)
    reason, declined = orders.decline(number, outcome, approval, now, detail)
    if declined:  # not again if an earlier attempt got here
        orders.notify(settings, order, "withdrawal_declined", {"number": number, "reason": reason}, outcome)
    workflow.close(order_id, outcome, now)
    return {"status": "disapproved"}


def _row(order: WithdrawalOrder, timezone: str) -> dict[str, Any]:
    return orders.channel_row(order, timezone) | {"source_trading_account": order.account.model_dump()}


def history(
    settings: Settings, principal: Principal, start: str | None, end: str | None, page: int, size: int
) -> dict[str, Any]:
    return orders.history(settings, principal, WithdrawalOrder, "funding.withdraw", _row, start, end, page, size)
