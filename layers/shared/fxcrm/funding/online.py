"""Online deposits through the payment service provider (PSP).

A draft on an online channel creates the provider's payment and answers its
page (`pay_type: online`, `pay_url`). The provider's callback
(`POST /funding/psp/callback`, public, signature verified) moves the order:

- paid: credited through the approved-deposit path (platform balance operation
  and ledger posting, each once by the order number), with no staff step unless
  one of the channel's staff rules holds (amount above `review_above`, the
  client's first deposit, KYC not approved): then the normal approval flow;
- failed or expired: disapproved, nothing moved;
- refunded after the credit: a reversal (platform and ledger, once each).

Every (payment, status) is kept once, so a replay is seen as one. A callback
with a bad signature, for an unknown order, or for another amount or currency
changes nothing and is kept as an issue staff can list."""

import json
from decimal import Decimal
from typing import Any

from fxcrm import ledger
from fxcrm.adapters.payments import BadSignature, PaymentEvent, PaymentRefused, PaymentRequest, PaymentsUnavailable
from fxcrm.adapters.payments.providers import provider_for
from fxcrm.approvals import workflow
from fxcrm.core import ids, times
from fxcrm.core.caller import Principal
from fxcrm.core.errors import NotAuthenticated, ProviderUnavailable
from fxcrm.core.money import show
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import funding as dal
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import payments as payments_dal
from fxcrm.dal.table import plain
from fxcrm.funding import crediting, orders
from fxcrm.funding.orders import DepositOrder

CALLBACK_PATH = "/funding/psp/callback"
ANY_STATUS = ("pending", "auditing", "approved", "disapproved")


def is_online(channel: dict[str, Any]) -> bool:
    return bool(channel.get("kind", "offline") == "online")


def start_payment(settings: Settings, order: DepositOrder, api_base: str) -> dict[str, Any]:
    """Create the provider's payment for a new online draft; the draft's answer."""
    number = order.order_number
    provider = provider_for(settings, api_base)
    back = f"{settings.portal_url.rstrip('/')}/deposits?order_number={number}"
    request = PaymentRequest(
        order_number=number,
        amount=order.amount,
        currency=order.currency,
        description=f"Deposit {number}",
        callback_url=api_base.rstrip("/") + CALLBACK_PATH,
        success_url=back,
        cancel_url=back,
    )
    try:
        checkout = provider.create_payment(request)
    except (PaymentsUnavailable, PaymentRefused) as error:
        logger.warning("the payment could not be created", extra={"order_number": number, "error": str(error)})
        dal.update_order(number, {"status": "disapproved", "reason": "the payment could not be started"}, ("pending",))
        raise ProviderUnavailable("the payment provider is not available; try again shortly") from error
    dal.update_order(
        number,
        {
            "psp_provider": provider.name,
            "psp_invoice_id": checkout.invoice_id,
            "psp_status": "waiting",
            "pay_url": checkout.pay_url,
        },
        ("pending",),
    )
    pay_data = {
        "provider": provider.name,
        "invoice_id": checkout.invoice_id,
        "reference": number,
        "amount": show(request.amount, request.currency),
        "currency": request.currency,
    }
    return {
        "order_number": number,
        "pay_type": "online",
        "pay_url": checkout.pay_url,
        "pay_data": json.dumps(pay_data),
        "status": "pending",
    }


# ---------------------------------------------------------------- callbacks


def _issue(reason: str, now: int, event: PaymentEvent | None = None, **detail: Any) -> None:
    """Kept for staff: a callback that changed nothing."""
    issue: dict[str, Any] = {"id": ids.new_id(), "at": now, "reason": reason, **detail}
    if event is not None:
        issue |= {
            "payment_id": event.payment_id,
            "order_number": event.order_number,
            "status": event.status,
            "amount": str(event.amount),
            "currency": event.currency,
        }
    payments_dal.put_issue(issue)
    logger.warning("psp callback recorded for staff", extra={"reason": reason})


def handle_callback(settings: Settings, body: bytes, headers: dict[str, str], api_base: str, now: int) -> str:
    """Verify and act on one callback; answers what was done (for the provider's log)."""
    provider = provider_for(settings, api_base)
    try:
        event = provider.parse_callback(body, headers)
    except BadSignature as error:
        _issue("bad_signature", now, detail=str(error), body=body[:2000].decode("utf-8", "replace"))
        raise NotAuthenticated(
            "the callback's signature does not verify", "x-nowpayments-sig", "bad_signature"
        ) from error
    first = payments_dal.record_event(
        provider.name,
        event.payment_id,
        event.status,
        {"order_number": event.order_number, "amount": str(event.amount), "currency": event.currency, "at": now},
    )
    order = orders.as_kind(DepositOrder, dal.get_order(event.order_number)) if event.order_number else None
    if order is None or order.psp_provider != provider.name:
        _issue("unknown_order", now, event)
        return "recorded"
    if event.amount != order.amount or event.currency != order.currency:
        _issue("amount_mismatch", now, event, expected=f"{show(order.amount, order.currency)} {order.currency}")
        return "recorded"
    number = order.order_number
    if first:
        updated = dal.update_order(number, {"psp_payment_id": event.payment_id, "psp_status": event.status}, ANY_STATUS)
        order = DepositOrder.model_validate(updated)
    if event.outcome == "paid":
        return _paid(settings, order, now)
    if event.outcome == "failed":
        if orders.disapprove(number, "the payment was not completed", now):
            return "disapproved"
        return "unchanged"
    if event.outcome == "reversed":
        return _reversed(settings, order, event, now)
    return "waiting"


def _review_reason(order: DepositOrder, channel: dict[str, Any] | None) -> str:
    """The channel's staff rule that holds for this deposit, or ''."""
    if channel is None:
        return ""
    above = str(channel.get("review_above") or "")
    if above and order.amount > Decimal(above):
        return f"amount above {above}"
    if channel.get("review_without_kyc") and kyc_dal.get_kyc_status(order.user_id) != "approved":
        return "KYC not approved"
    if channel.get("review_first_deposit"):
        earlier = dal.orders_in_status(order.user_id, "deposit", "approved", order.created_at, 2)
        if not any(o["order_number"] != order.order_number for o in earlier):
            return "first deposit"
    return ""


def _paid(settings: Settings, order: DepositOrder, now: int) -> str:
    number = order.order_number
    if order.status in ("approved", "disapproved") or order.psp_review:
        return "unchanged"  # credited, ended, or waiting for staff already
    channel = dal.get_channel("deposit", order.channel_id)
    reason = _review_reason(order, dict(channel) if channel else None)
    if order.status == "pending":
        try:
            updated = dal.update_order(
                number, {"status": "auditing", "submit_time": now, "psp_review": bool(reason)}, ("pending",)
            )
            order = DepositOrder.model_validate(updated)
        except dal.StatusChanged:
            order = orders.reload(order)  # a concurrent callback moved it
            if order.status != "auditing" or order.psp_review:
                return "unchanged"
    if order.psp_review:
        owner = Principal(user_id=order.user_id, user_type="client", role="client", email=order.email)
        summary = {
            "order_number": number,
            "amount": show(order.amount, order.currency),
            "currency": order.currency,
            "account": order.account.model_dump(),
            "channel": order.channel_name,
            "method": order.method,
            "psp_provider": order.psp_provider or "",
            "psp_payment_id": order.psp_payment_id or "",
            "psp_status": order.psp_status or "",
            "review_reason": reason,
        }
        workflow.submit(settings, "deposit", order.id, owner, summary, now)
        return "submitted for review"
    try:
        return "credited" if crediting.apply_credit(settings, order, now, auditor="") else "unchanged"
    except orders.PlatformRefused as error:  # e.g. the account is gone: paid, not credited; staff settle it
        _issue("credit_refused", now, order_number=number, detail=str(error), amount=str(order.amount))
        return "recorded"


def _reversed(settings: Settings, order: DepositOrder, event: PaymentEvent, now: int) -> str:
    """A refund or chargeback of a credited deposit: take it back, once."""
    number = order.order_number
    if order.status != "approved":
        return "unchanged"  # never credited: nothing to take back
    amount = order.amount
    txn = f"dep-{number}-refund"
    if ledger.is_posted(txn):
        return "unchanged"
    account = {"server": order.account.server_type, "login": order.account.account}
    try:
        orders.move_on_platform(settings, account, -amount, txn)
    except orders.PlatformRefused:
        # The money has been traded away: staff settle it with the client (reconciliation).
        _issue("reversal_short", now, event, detail="the trading account does not hold the amount")
        return "recorded"
    legs = [
        ledger.Leg(ledger.trading_account(order.account_id), -amount),
        ledger.Leg(ledger.external("deposit", order.method, order.currency), amount),
    ]
    ledger.post(txn, "deposit", number, order.currency, legs, now, fact=True)
    dal.update_order(number, {"reversed": True, "reversed_at": now}, ("approved",))
    return "reversed"


def refund_due(order: DepositOrder, reason: str, now: int) -> None:
    """A paid online deposit that staff refused: finance refunds it through the provider."""
    _issue(
        "refund_due",
        now,
        payment_id=order.psp_payment_id or "",
        order_number=order.order_number,
        status=order.psp_status or "",
        amount=str(order.amount),
        currency=order.currency,
        detail=f"not credited ({reason}); refund the payment through the provider",
    )


def issues(month: str) -> dict[str, Any]:
    rows = [
        times.wire_row(plain({k: v for k, v in item.items() if k not in ("pk", "sk")}))
        for item in payments_dal.list_issues(month)
    ]
    return {"list": rows, "total": len(rows)}
