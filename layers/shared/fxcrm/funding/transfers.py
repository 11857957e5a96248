"""Transfers between two of the caller's own live accounts. The amount is
reserved in the ledger with the order (one transaction); at or under the
staff-set threshold it moves at once, above it the transfer flow holds it
on the source account, waits for staff, then credits the target."""

from typing import Any

from fxcrm import ledger
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import Kind
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput, ProviderUnavailable
from fxcrm.core.money import parse_amount, show
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import funding as dal
from fxcrm.dal import trading as trading_dal
from fxcrm.funding import orders, reference

KIND: Kind = "transfer"
CURRENCY = reference.ACCOUNT_CURRENCY


def create(
    settings: Settings,
    principal: Principal,
    amount_text: str,
    email_code: str | None,
    remark: str,
    source_id: int,
    target_id: int,
    now: int,
) -> dict[str, Any]:
    permissions.require(principal, "funding.transfer")
    if source_id == target_id:
        raise InvalidInput("must differ from the source account", "target_trading_account_id", "same_account")
    amount = parse_amount(amount_text, CURRENCY, "amount")
    source = orders.owned_live_account(principal, source_id, "source_trading_account_id", "out")
    target = orders.owned_live_account(principal, target_id, "target_trading_account_id", "in")
    if source["currency"] != target["currency"]:
        raise InvalidInput("is in another currency than the source", "target_trading_account_id", "currency_mismatch")
    orders.confirm_by_email(settings, principal, KIND, email_code, now)

    order = orders.new_order(
        KIND,
        principal,
        amount,
        source,
        now,
        target_account_id=target_id,
        target_account=orders.account_ref(target),
        client_remark=remark,
        submit_time=now,
    )
    order_id, number = order["id"], order["order_number"]
    legs = [
        ledger.Leg(ledger.trading_account(source_id), -amount),
        ledger.Leg(ledger.trading_account(target_id), amount),
    ]
    orders.reserve_with_order(KIND, order, legs, now, "amount")

    if amount <= reference.transfer_threshold():
        return _move_now(settings, order, now)
    summary = {
        "order_number": number,
        "amount": show(amount, CURRENCY),
        "from": order["account"],
        "to": order["target_account"],
    }
    orders.submit_or_release(settings, KIND, order, principal, summary, now)
    return {"audit_id": order_id, "audit_status": "pending"}


def _move_now(settings: Settings, order: dict[str, Any], now: int) -> dict[str, Any]:
    """Under the threshold: the same steps as the flow, run in the request."""
    try:
        hold(settings, order["id"], now)
    except orders.PlatformRefused as error:
        compensate(
            settings, order["id"], "failed", "the source account does not have enough free balance", now, close=False
        )
        raise InvalidInput(
            "is more than the source account's balance on the trading server", "amount", "insufficient_funds"
        ) from error
    except ProviderUnavailable:
        compensate(settings, order["id"], "failed", "", now, close=False)
        raise
    try:
        post(settings, order["id"], now, close=False)
    except (orders.PlatformRefused, ProviderUnavailable) as error:
        compensate(settings, order["id"], "failed", "", now, close=False)
        raise ProviderUnavailable("the trading server could not take the transfer; nothing moved") from error
    return {"audit_id": int(order["id"]), "audit_status": "approved"}


# ---------------------------------------------------------------- steps (the flow's tasks too)


def hold(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    order = orders.get_order(KIND, order_id)
    if not order.get("held"):
        account = trading_dal.get_trading_account(int(order["account_id"]))
        if account is None:
            raise orders.PlatformRefused("the source account no longer exists")
        dal.update_order(order["order_number"], {"hold_started": True}, ("pending", "auditing"))
        orders.move_on_platform(settings, dict(account), -orders.amount_of(order), f"tr-{order['order_number']}-out")
        dal.update_order(order["order_number"], {"held": True, "status": "auditing"}, ("pending", "auditing"))
    return {"held": True}


def post(settings: Settings, order_id: int, now: int, close: bool = True) -> dict[str, Any]:
    order = orders.get_order(KIND, order_id)
    number = order["order_number"]
    if order["status"] != "approved":
        target = trading_dal.get_trading_account(int(order["target_account_id"]))
        if target is None:
            raise orders.PlatformRefused("the target account no longer exists")
        dal.update_order(number, {"credit_started": True}, ("pending", "auditing"))  # before: see compensate
        orders.move_on_platform(settings, dict(target), orders.amount_of(order), f"tr-{number}-in")
        ledger.settle(f"tr-{number}", now)
        auditor = orders.auditor_name(approvals_dal.get_approval(order_id)) if close else ""
        dal.update_order(number, {"status": "approved", "decided_at": now, "auditor_name": auditor}, ("auditing",))
        if close:  # after staff approved it (one under the threshold is answered in the request)
            moved = {"number": number, "amount": show(orders.amount_of(order), CURRENCY), "currency": CURRENCY}
            accounts = {"source": order["account"]["account"], "target": order["target_account"]["account"]}
            orders.notify(settings, order, "transfer_completed", moved | accounts)
    if close:
        workflow.close(order_id, "completed", now)
    return {"status": "approved"}


def compensate(
    settings: Settings, order_id: int, outcome: str, detail: str, now: int, close: bool = True
) -> dict[str, Any]:
    order = orders.get_order(KIND, order_id)
    number = order["order_number"]
    if order["status"] == "approved":
        raise orders.PlatformRefused(f"{number} was completed; it cannot be reversed automatically")
    amount = orders.amount_of(order)
    if order.get("credit_started"):
        orders.undo_platform_op(settings, int(order["target_account_id"]), amount, f"tr-{number}-in", done=False)
    if order.get("hold_started"):
        orders.undo_platform_op(
            settings, int(order["account_id"]), -amount, f"tr-{number}-out", done=bool(order.get("held"))
        )
    ledger.release(f"tr-{number}", now)
    approval = approvals_dal.get_approval(order_id) if close else None
    reason, _ = orders.decline(number, outcome, approval, now, detail)
    if close:
        workflow.close(order_id, outcome, now)
        orders.notify(settings, order, "transfer_declined", {"number": number, "reason": reason}, outcome)
    return {"status": "disapproved"}


def _row(order: dict[str, Any], timezone: str) -> dict[str, Any]:
    return orders.history_row(order, timezone) | {
        "remark": order.get("client_remark", ""),
        "source_trading_account": order["account"],
        "target_trading_account": order["target_account"],
    }


def history(
    settings: Settings, principal: Principal, start: str | None, end: str | None, page: int, size: int
) -> dict[str, Any]:
    return orders.history(settings, principal, KIND, "funding.transfer", _row, start, end, page, size)
