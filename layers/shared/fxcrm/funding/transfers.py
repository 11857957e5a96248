"""Transfers between two of the caller's own live accounts. The amount is
reserved in the ledger with the order (one transaction); at or under the
staff-set threshold it moves at once, above it the transfer flow holds it
on the source account, waits for staff, then credits the target."""

from typing import Any, Literal

from fxcrm import ledger
from fxcrm.approvals import workflow
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput, ProviderUnavailable
from fxcrm.core.money import parse_amount, show
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import funding as dal
from fxcrm.dal import trading as trading_dal
from fxcrm.funding import orders, reference
from fxcrm.funding.orders import TransferOrder
from fxcrm.funding.schemas import TransferRequest

KIND: Literal["transfer"] = "transfer"
CURRENCY = reference.ACCOUNT_CURRENCY


def build_order(
    principal: Principal, body: TransferRequest, source: dict[str, Any], target: dict[str, Any], now: int
) -> TransferOrder:
    """The pending order of a checked request: every request field lands on
    the model (TransferOrder.FROM_REQUEST says where)."""
    amount = parse_amount(body.amount, CURRENCY, "amount")
    return TransferOrder(
        **orders.common_fields(KIND, principal, amount, source, now),
        target_account_id=body.target_trading_account_id,
        target_account=orders.account_ref(target),
        client_remark=body.remark,
        submit_time=now,
    )


def create(settings: Settings, principal: Principal, body: TransferRequest, now: int) -> dict[str, Any]:
    permissions.require(principal, "funding.transfer")
    source_id, target_id = body.source_trading_account_id, body.target_trading_account_id
    if source_id == target_id:
        raise InvalidInput("must differ from the source account", "target_trading_account_id", "same_account")
    amount = parse_amount(body.amount, CURRENCY, "amount")
    source = orders.owned_live_account(principal, source_id, "source_trading_account_id", "out")
    target = orders.owned_live_account(principal, target_id, "target_trading_account_id", "in")
    if source["currency"] != target["currency"]:
        raise InvalidInput("is in another currency than the source", "target_trading_account_id", "currency_mismatch")
    orders.confirm_by_email(settings, principal, KIND, body.email_code, now)

    order = build_order(principal, body, source, target, now)
    legs = [
        ledger.Leg(ledger.trading_account(source_id), -amount),
        ledger.Leg(ledger.trading_account(target_id), amount),
    ]
    orders.reserve_with_order(order, legs, now, "amount")

    if amount <= reference.transfer_threshold():
        return _move_now(settings, order, now)
    summary = {
        "order_number": order.order_number,
        "amount": show(amount, CURRENCY),
        "from": order.account.model_dump(),
        "to": order.target_account.model_dump(),
    }
    orders.submit_or_release(settings, order, principal, summary, now)
    return {"audit_id": order.id, "audit_status": "pending"}


def _move_now(settings: Settings, order: TransferOrder, now: int) -> dict[str, Any]:
    """Under the threshold: the same steps as the flow, run in the request."""
    try:
        hold(settings, order.id, now)
    except orders.PlatformRefused as error:
        compensate(
            settings, order.id, "failed", "the source account does not have enough free balance", now, close=False
        )
        raise InvalidInput(
            "is more than the source account's balance on the trading server", "amount", "insufficient_funds"
        ) from error
    except ProviderUnavailable:
        compensate(settings, order.id, "failed", "", now, close=False)
        raise
    try:
        post(settings, order.id, now, close=False)
    except (orders.PlatformRefused, ProviderUnavailable) as error:
        compensate(settings, order.id, "failed", "", now, close=False)
        raise ProviderUnavailable("the trading server could not take the transfer; nothing moved") from error
    return {"audit_id": order.id, "audit_status": "approved"}


# ---------------------------------------------------------------- steps (the flow's tasks too)


def hold(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    order = orders.get_order(TransferOrder, order_id)
    if not order.held:
        account = trading_dal.get_trading_account(order.account_id)
        if account is None:
            raise orders.PlatformRefused("the source account no longer exists")
        dal.update_order(order.order_number, {"hold_started": True}, ("pending", "auditing"))
        orders.move_on_platform(settings, dict(account), -order.amount, f"tr-{order.order_number}-out")
        dal.update_order(order.order_number, {"held": True, "status": "auditing"}, ("pending", "auditing"))
    return {"held": True}


def post(settings: Settings, order_id: int, now: int, close: bool = True) -> dict[str, Any]:
    order = orders.get_order(TransferOrder, order_id)
    number = order.order_number
    if order.status != "approved":
        target = trading_dal.get_trading_account(order.target_account_id)
        if target is None:
            raise orders.PlatformRefused("the target account no longer exists")
        dal.update_order(number, {"credit_started": True}, ("pending", "auditing"))  # before: see compensate
        orders.move_on_platform(settings, dict(target), order.amount, f"tr-{number}-in")
        ledger.settle(f"tr-{number}", now)
        auditor = orders.auditor_name(approvals_dal.get_approval(order_id)) if close else ""
        dal.update_order(number, {"status": "approved", "decided_at": now, "auditor_name": auditor}, ("auditing",))
        if close:  # after staff approved it (one under the threshold is answered in the request)
            moved = {"number": number, "amount": show(order.amount, CURRENCY), "currency": CURRENCY}
            accounts = {"source": order.account.account, "target": order.target_account.account}
            orders.notify(settings, order, "transfer_completed", moved | accounts)
    if close:
        workflow.close(order_id, "completed", now)
    return {"status": "approved"}


def compensate(
    settings: Settings, order_id: int, outcome: str, detail: str, now: int, close: bool = True
) -> dict[str, Any]:
    order = orders.get_order(TransferOrder, order_id)
    number = order.order_number
    if order.status == "approved":
        raise orders.PlatformRefused(f"{number} was completed; it cannot be reversed automatically")
    amount = order.amount
    if order.credit_started:
        orders.undo_platform_op(settings, order.target_account_id, amount, f"tr-{number}-in", done=False)
    if order.hold_started:
        orders.undo_platform_op(settings, order.account_id, -amount, f"tr-{number}-out", done=bool(order.held))
    ledger.release(f"tr-{number}", now)
    approval = approvals_dal.get_approval(order_id) if close else None
    reason, _ = orders.decline(number, outcome, approval, now, detail)
    if close:
        workflow.close(order_id, outcome, now)
        orders.notify(settings, order, "transfer_declined", {"number": number, "reason": reason}, outcome)
    return {"status": "disapproved"}


def _row(order: TransferOrder, timezone: str) -> dict[str, Any]:
    return orders.history_row(order, timezone) | {
        "remark": order.client_remark,
        "source_trading_account": order.account.model_dump(),
        "target_trading_account": order.target_account.model_dump(),
    }


def history(
    settings: Settings, principal: Principal, start: str | None, end: str | None, page: int, size: int
) -> dict[str, Any]:
    return orders.history(settings, principal, TransferOrder, "funding.transfer", _row, start, end, page, size)
