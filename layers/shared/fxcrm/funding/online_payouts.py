"""Withdrawals paid through the payment provider (a withdrawal channel of kind online).

After approval the flow's PayOut step asks the provider for the payout, once:
the order is marked before the call, so a retry after an unclear answer never
sends a second one (it stops for staff instead), and the provider gets the
order number as its own idempotency key. The outcome arrives by callback
(`POST /funding/psp/payout-callback`) or by looking the payout up:

- sent (FINISHED): the reservation is settled and the order approved;
- failed or rejected: the hold on the trading server is given back and the
  reservation voided (the withdrawal's compensation steps, each once), and the
  order is disapproved."""

from typing import Any

from fxcrm import audit, ledger
from fxcrm.adapters.payments import (
    BadSignature,
    NotSent,
    PaymentRefused,
    PaymentsUnavailable,
    PayoutEvent,
    PayoutRequest,
)
from fxcrm.adapters.payments.providers import provider_for
from fxcrm.auth import permissions
from fxcrm.core import ids
from fxcrm.core.caller import Principal
from fxcrm.core.errors import NotAuthenticated, NotFound, ProviderUnavailable
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import funding as dal
from fxcrm.dal import payments as payments_dal
from fxcrm.funding import orders
from fxcrm.funding.orders import OrderChange, WithdrawalOrder

CALLBACK_PATH = "/funding/psp/payout-callback"


def is_online(order: WithdrawalOrder) -> bool:
    return order.payout_kind == "online"


def send(settings: Settings, order: WithdrawalOrder) -> str:
    """Ask the provider for the payout (once); its id."""
    number = order.order_number
    if order.psp_payout_id:
        return order.psp_payout_id
    if order.psp_payout_started:
        # An earlier attempt may have reached the provider: never send again blindly.
        raise orders.PlatformRefused(f"{number}: the payout may have been sent; check it with the provider")
    provider = provider_for(settings, order.api_base)
    request = PayoutRequest(
        order_number=number,
        amount=order.remittance_amount,
        currency=order.remittance_currency,
        network=order.details.get("network", ""),
        address=order.details.get("wallet_address", ""),
        callback_url=order.api_base.rstrip("/") + CALLBACK_PATH,
    )
    dal.update_order(number, {"psp_payout_started": True}, ("auditing",))
    try:
        payout = provider.create_payout(request)
    except NotSent as error:  # it never reached the provider: the flow may try again
        dal.update_order(number, {"psp_payout_started": False}, ("auditing",))
        raise ProviderUnavailable(str(error)) from error
    except PaymentRefused as error:  # refused for good: nothing was sent
        dal.update_order(number, {"psp_payout_started": False}, ("auditing",))
        raise orders.PlatformRefused(f"the payment provider refused the payout: {error.message}") from error
    except PaymentsUnavailable as error:  # unclear: it may exist; staff look
        raise orders.PlatformRefused(f"{number}: no clear answer from the payment provider") from error
    fields: OrderChange = {
        "psp_payout_id": payout.payout_id,
        "psp_payout_status": payout.status,
        "payout_reference": f"{provider.name}:{payout.payout_id}",
    }
    dal.update_order(number, fields, ("auditing",))
    return payout.payout_id


def finish(settings: Settings, order: WithdrawalOrder, event: PayoutEvent, now: int) -> str:
    """Act on a payout's final outcome (each step once); what was done."""
    number = order.order_number
    if order.status in ("approved", "disapproved"):
        return "unchanged"
    dal.update_order(number, {"psp_payout_status": event.status}, ("auditing",))
    if event.outcome == "paid":
        ledger.settle(orders.txn_id("withdrawal", number), now)
        try:
            dal.update_order(number, {"status": "approved", "decided_at": now}, ("auditing",))
        except dal.StatusChanged:
            return "unchanged"
        orders.notify_paid_out(settings, order)
        return "paid"
    if event.outcome == "failed":
        orders.undo_platform_op(settings, order.account_id, -order.amount, f"wd-{number}", done=True)
        ledger.release(orders.txn_id("withdrawal", number), now)
        if orders.disapprove(number, "the payment provider could not pay it out", now):
            orders.notify(
                settings, order, "withdrawal_payout_failed", {"number": number, "channel": order.channel_name}
            )
            return "refunded"
        return "unchanged"
    return "waiting"


def poll(settings: Settings, order: WithdrawalOrder, now: int) -> str:
    """Look the payout up (the flow's last step, and whenever staff ask)."""
    try:
        event = provider_for(settings, order.api_base).payout_status(str(order.psp_payout_id))
    except (PaymentsUnavailable, PaymentRefused) as error:
        logger.info("payout status not known yet", extra={"order_number": order.order_number, "error": str(error)})
        return "waiting"
    return finish(settings, order, event, now)


def refresh(settings: Settings, staff: Principal, number: str, source_ip: str, now: int) -> dict[str, Any]:
    """Staff ask the provider for a payout's outcome (a callback may have been lost)."""
    permissions.require(staff, "admin.approvals.decide")
    order = orders.as_kind(WithdrawalOrder, dal.get_order(number))
    if order is None or not order.psp_payout_id:
        raise NotFound("no payout through the payment provider", "order_number")
    result = poll(settings, order, now) if order.status == "auditing" else "unchanged"
    after = orders.reload(order)
    audit.record(staff, "funding.payout.refresh", f"order:{number}", source_ip, now, after={"result": result})
    return {
        "order_number": number,
        "status": after.status,
        "psp_payout_id": str(after.psp_payout_id),
        "psp_payout_status": after.psp_payout_status or "",
        "result": result,
    }


def handle_callback(settings: Settings, body: bytes, headers: dict[str, str], api_base: str, now: int) -> str:
    provider = provider_for(settings, api_base)
    try:
        event = provider.parse_payout_callback(body, headers)
    except BadSignature as error:
        payments_dal.put_issue(
            {"id": ids.new_id(), "at": now, "reason": "bad_signature", "body": body[:2000].decode("utf-8", "replace")}
        )
        raise NotAuthenticated(
            "the callback's signature does not verify", "x-nowpayments-sig", "bad_signature"
        ) from error
    payments_dal.record_event(
        provider.name, f"payout-{event.payout_id}", event.status, {"order_number": event.order_number, "at": now}
    )
    order = orders.as_kind(WithdrawalOrder, dal.get_order(event.order_number)) if event.order_number else None
    if order is None or str(order.psp_payout_id) != event.payout_id:
        payments_dal.put_issue(
            {
                "id": ids.new_id(),
                "at": now,
                "reason": "unknown_order",
                "payment_id": event.payout_id,
                "order_number": event.order_number,
                "status": event.status,
            }
        )
        return "recorded"
    return finish(settings, order, event, now)
