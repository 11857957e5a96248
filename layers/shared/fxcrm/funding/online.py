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

CALLBACK_PATH = "/funding/psp/callback"
ANY_STATUS = ("pending", "auditing", "approved", "disapproved")


def is_online(channel: dict[str, Any]) -> bool:
    return bool(channel.get("kind", "offline") == "online")


def start_payment(settings: Settings, order: dict[str, Any], api_base: str) -> dict[str, Any]:
    """Create the provider's payment for a new online draft; the draft's answer."""
    number = str(order["order_number"])
    provider = provider_for(settings, api_base)
    back = f"{settings.portal_url.rstrip('/')}/deposits?order_number={number}"
    request = PaymentRequest(
        order_number=number,
        amount=orders.amount_of(order),
        currency=str(order["currency"]),
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
    fields = {
        "psp_provider": provider.name,
        "psp_invoice_id": checkout.invoice_id,
        "psp_status": "waiting",
        "pay_url": checkout.pay_url,
    }
    dal.update_order(number, fields, ("pending",))
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
    order = dal.get_order(event.order_number) if event.order_number else None
    if order is None or order["kind"] != "deposit" or order.get("psp_provider") != provider.name:
        _issue("unknown_order", now, event)
        return "recorded"
    order = dict(order)
    if event.amount != orders.amount_of(order) or event.currency != order["currency"]:
        _issue(
            "amount_mismatch",
            now,
            event,
            expected=f"{show(orders.amount_of(order), order['currency'])} {order['currency']}",
        )
        return "recorded"
    number = str(order["order_number"])
    if first:
        order = dict(
            dal.update_order(number, {"psp_payment_id": event.payment_id, "psp_status": event.status}, ANY_STATUS)
        )
    if event.outcome == "paid":
        return _paid(settings, order, now)
    if event.outcome == "failed":
        if orders.disapprove(number, "the payment was not completed", now):
            return "disapproved"
        return "unchanged"
    if event.outcome == "reversed":
        return _reversed(settings, order, event, now)
    return "waiting"


def _review_reason(order: dict[str, Any], channel: dict[str, Any] | None) -> str:
    """The channel's staff rule that holds for this deposit, or ''."""
    if channel is None:
        return ""
    above = str(channel.get("review_above") or "")
    if above and orders.amount_of(order) > Decimal(above):
        return f"amount above {above}"
    if channel.get("review_without_kyc") and kyc_dal.get_kyc_status(int(order["user_id"])) != "approved":
        return "KYC not approved"
    if channel.get("review_first_deposit"):
        earlier = dal.orders_in_status(int(order["user_id"]), "deposit", "approved", int(order["created_at"]), 2)
        if not any(o["order_number"] != order["order_number"] for o in earlier):
            return "first deposit"
    return ""


def _paid(settings: Settings, order: dict[str, Any], now: int) -> str:
    number = str(order["order_number"])
    if order["status"] in ("approved", "disapproved") or order.get("psp_review"):
        return "unchanged"  # credited, ended, or waiting for staff already
    channel = dal.get_channel("deposit", int(order["channel_id"]))
    reason = _review_reason(order, dict(channel) if channel else None)
    if order["status"] == "pending":
        try:
            order = dict(
                dal.update_order(
                    number, {"status": "auditing", "submit_time": now, "psp_review": bool(reason)}, ("pending",)
                )
            )
        except dal.StatusChanged:
            order = dict(dal.get_order(number) or order)  # a concurrent callback moved it
            if order["status"] != "auditing" or order.get("psp_review"):
                return "unchanged"
    if order.get("psp_review"):
        owner = Principal(user_id=int(order["user_id"]), user_type="client", role="client", email=str(order["email"]))
        summary = {
            "order_number": number,
            "amount": show(orders.amount_of(order), order["currency"]),
            "currency": order["currency"],
            "account": order["account"],
            "channel": order["channel_name"],
            "method": order["method"],
            "psp_provider": order.get("psp_provider", ""),
            "psp_payment_id": order.get("psp_payment_id", ""),
            "psp_status": order.get("psp_status", ""),
            "review_reason": reason,
        }
        workflow.submit(settings, "deposit", int(order["id"]), owner, summary, now)
        return "submitted for review"
    try:
        return "credited" if crediting.apply_credit(settings, order, now, auditor="") else "unchanged"
    except orders.PlatformRefused as error:  # e.g. the account is gone: paid, not credited; staff settle it
        _issue("credit_refused", now, order_number=number, detail=str(error), amount=str(orders.amount_of(order)))
        return "recorded"


def _reversed(settings: Settings, order: dict[str, Any], event: PaymentEvent, now: int) -> str:
    """A refund or chargeback of a credited deposit: take it back, once."""
    number = str(order["order_number"])
    if order["status"] != "approved":
        return "unchanged"  # never credited: nothing to take back
    amount = orders.amount_of(order)
    txn = f"dep-{number}-refund"
    if ledger.is_posted(txn):
        return "unchanged"
    account = {"server": order["account"]["server_type"], "login": order["account"]["account"]}
    try:
        orders.move_on_platform(settings, account, -amount, txn)
    except orders.PlatformRefused:
        # The money has been traded away: staff settle it with the client (reconciliation).
        _issue("reversal_short", now, event, detail="the trading account does not hold the amount")
        return "recorded"
    legs = [
        ledger.Leg(ledger.trading_account(int(order["account_id"])), -amount),
        ledger.Leg(ledger.external("deposit", order["method"], order["currency"]), amount),
    ]
    ledger.post(txn, "deposit", number, order["currency"], legs, now, fact=True)
    dal.update_order(number, {"reversed": True, "reversed_at": now}, ("approved",))
    return "reversed"


def refund_due(order: dict[str, Any], reason: str, now: int) -> None:
    """A paid online deposit that staff refused: finance refunds it through the provider."""
    _issue(
        "refund_due",
        now,
        payment_id=str(order.get("psp_payment_id", "")),
        order_number=str(order["order_number"]),
        status=str(order.get("psp_status", "")),
        amount=str(orders.amount_of(order)),
        currency=str(order["currency"]),
        detail=f"not credited ({reason}); refund the payment through the provider",
    )


def issues(month: str) -> dict[str, Any]:
    rows = [
        times.wire_row(plain({k: v for k, v in item.items() if k not in ("pk", "sk")}))
        for item in payments_dal.list_issues(month)
    ]
    return {"list": rows, "total": len(rows)}
