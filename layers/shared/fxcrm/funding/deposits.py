"""Deposits: a draft order → the receipt uploaded straight to S3 → submitted
for staff approval → on approval the trading account is credited through
the platform and the ledger (each once, by the order number) → approved;
rejected, expired or failed → disapproved with the reason."""

import json
import uuid
from typing import Any, Literal

from fxcrm import ledger
from fxcrm.adapters import files
from fxcrm.approvals import workflow
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, InvalidInput, ProviderUnavailable
from fxcrm.core.money import parse_amount, show
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import funding as dal
from fxcrm.dal.funding import StatusChanged
from fxcrm.funding import crediting, online, orders, reference
from fxcrm.funding.orders import DepositOrder
from fxcrm.funding.schemas import DepositDraftRequest

KIND: Literal["deposit"] = "deposit"
CURRENCY = reference.ACCOUNT_CURRENCY
RECEIPT_TYPES = tuple(files.MAGIC)


def build_order(
    principal: Principal, body: DepositDraftRequest, account: dict[str, Any], channel: dict[str, Any], now: int
) -> DepositOrder:
    """The pending order of a checked draft: every request field lands on the
    model (DepositOrder.FROM_REQUEST says where)."""
    amount = parse_amount(body.deposit_amount, CURRENCY, "deposit_amount")
    return DepositOrder(
        **orders.common_fields(KIND, principal, amount, account, now),
        channel_id=body.remittance_id,
        channel_name=str(channel["name"]),
        method=channel["method"],
        icon=str(channel.get("icon_url", "")),
        client_remark=body.remark,
    )


def draft(
    settings: Settings, principal: Principal, body: DepositDraftRequest, now: int, api_base: str = ""
) -> dict[str, Any]:
    permissions.require(principal, "funding.deposit")
    channel = reference.channel(KIND, body.remittance_id)
    if CURRENCY not in channel.get("allowed_currencies", []):
        raise InvalidInput(f"does not take {CURRENCY}", "remittance_id", "currency_not_supported")
    amount = parse_amount(body.deposit_amount, CURRENCY, "deposit_amount")
    reference.check_limits(channel, amount, "deposit_amount")
    account = orders.owned_live_account(principal, body.trading_account_id, "trading_account_id", "in")
    order = build_order(principal, body, account, channel, now)
    dal.create_order(order)
    if channel.get("kind") == "online":  # paid through the PSP: see fxcrm.funding.online
        return online.start_payment(settings, order, api_base)
    number = order.order_number
    pay_data = {"account_info": channel.get("account_info", ""), "reference": number, "amount": show(amount, CURRENCY)}
    return {
        "order_number": number,
        "pay_type": "offline",
        "pay_url": "",
        "pay_data": json.dumps(pay_data),
        "status": "pending",
    }


def _receipt_prefix(principal: Principal, number: str) -> str:
    return f"receipts/{principal.user_id}/{number}/"


def receipt_upload(settings: Settings, principal: Principal, number: str, content_type: str) -> dict[str, Any]:
    """Where to POST the receipt: a key under the caller's own prefix, a short expiry."""
    order = orders.owned_order(principal, number, DepositOrder)
    if order.status != "pending":
        raise Conflict("this deposit was submitted already", "order_number", "already_submitted")
    key = _receipt_prefix(principal, number) + uuid.uuid4().hex
    post = files.presigned_post(
        settings.bucket_name, key, content_type, settings.receipt_max_bytes, settings.upload_expires_seconds
    )
    return post | {
        "key": key,
        "expires_in": settings.upload_expires_seconds,
        "max_bytes": settings.receipt_max_bytes,
        "content_types": list(RECEIPT_TYPES),
    }


def _check_receipt(settings: Settings, principal: Principal, number: str, key: str) -> files.StoredObject:
    if not key.startswith(_receipt_prefix(principal, number)) or ".." in key:
        raise InvalidInput("is not an upload of this deposit", "receipt_url", "foreign_receipt")
    return files.check_upload(settings.bucket_name, key, settings.receipt_max_bytes, "receipt_url", "receipt")


def submit(settings: Settings, principal: Principal, number: str, receipt_key: str, now: int) -> dict[str, Any]:
    permissions.require(principal, "funding.deposit")
    order = orders.owned_order(principal, number, DepositOrder)
    if order.status != "pending":
        raise Conflict("this deposit was submitted already", "order_number", "already_submitted")
    receipt = _check_receipt(settings, principal, number, receipt_key)
    # The version checked is the receipt: the upload form works until it expires, but what
    # the client uploads to the key after this is never shown to staff.
    try:
        dal.update_order(
            number,
            {
                "status": "auditing",
                "receipt_key": receipt_key,
                "receipt_version": receipt.version_id,
                "submit_time": now,
            },
            ("pending",),
        )
    except StatusChanged as error:
        raise Conflict("this deposit was submitted already", "order_number", "already_submitted") from error
    summary = {
        "order_number": number,
        "amount": show(order.amount, CURRENCY),
        "currency": CURRENCY,
        "account": order.account.model_dump(),
        "channel": order.channel_name,
        "method": order.method,
        "receipt_key": receipt_key,
        "receipt_version": receipt.version_id,
        "receipt_type": receipt.content_type,
    }
    try:
        workflow.submit(settings, KIND, order.id, principal, summary, now)
    except ProviderUnavailable:
        dal.update_order(
            number, {"status": "disapproved", "reason": "could not be submitted; try again"}, ("auditing",)
        )
        raise
    return {"order_number": number, "status": "auditing"}


# ---------------------------------------------------------------- flow tasks


def credit(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    """After approval: credit the platform and the ledger (each once), then close."""
    order = orders.get_order(DepositOrder, order_id)
    if order.status != "approved":
        crediting.apply_credit(settings, order, now, orders.auditor_name(approvals_dal.get_approval(order_id)))
    workflow.close(order_id, "completed", now)
    return {"status": "approved"}


def compensate(settings: Settings, order_id: int, outcome: str, now: int) -> dict[str, Any]:
    """Rejected, expired or failed: undo whatever part of the credit happened,
    mark the order disapproved with the reason, close the approval."""
    order = orders.get_order(DepositOrder, order_id)
    number = order.order_number
    if order.status == "disapproved":
        workflow.close(order_id, outcome, now)
        return {"status": "disapproved"}
    if order.status == "approved":  # credited in full before the failure: keep it
        workflow.close(order_id, "completed", now)
        return {"status": "approved"}
    amount = order.amount
    if order.credit_started:
        orders.undo_platform_op(
            settings, order.account_id, amount, f"dep-{number}", done=bool(order.credited_on_platform)
        )
    if ledger.is_posted(f"dep-{number}"):
        legs = [
            ledger.Leg(ledger.trading_account(order.account_id), -amount),
            ledger.Leg(ledger.external(KIND, order.method, CURRENCY), amount),
        ]
        ledger.post(f"dep-{number}-reversal", KIND, number, CURRENCY, legs, now)
    approval = approvals_dal.get_approval(order_id)
    reason, _ = orders.decline(number, outcome, approval, now)
    if order.psp_review:  # paid online, then refused by staff: the client's money is at the provider
        online.refund_due(order, reason, now)
    workflow.close(order_id, outcome, now)
    orders.notify(settings, order, "deposit_declined", {"number": number, "reason": reason}, outcome)
    return {"status": "disapproved"}


def _row(order: DepositOrder, timezone: str) -> dict[str, Any]:
    return orders.channel_row(order, timezone) | {
        "pay_url": (order.pay_url or "") if order.status == "pending" else "",
        "server_name": order.account.server_name,
        "server_type": order.account.server_type,
        "target_trading_account": order.account.model_dump(),
    }


def history(
    settings: Settings, principal: Principal, start: str | None, end: str | None, page: int, size: int
) -> dict[str, Any]:
    return orders.history(settings, principal, DepositOrder, "funding.deposit", _row, start, end, page, size)
