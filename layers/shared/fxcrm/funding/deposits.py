"""Deposits: a draft order → the receipt uploaded straight to S3 → submitted
for staff approval → on approval the trading account is credited through
the platform and the ledger (each once, by the order number) → approved;
rejected, expired or failed → disapproved with the reason."""

import json
import uuid
from typing import Any

from fxcrm import ledger
from fxcrm.adapters import files
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import Kind
from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, InvalidInput, ProviderUnavailable
from fxcrm.core.money import parse_amount, show
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import funding as dal
from fxcrm.dal.funding import StatusChanged
from fxcrm.funding import crediting, online, orders, reference

KIND: Kind = "deposit"
CURRENCY = reference.ACCOUNT_CURRENCY
RECEIPT_TYPES = tuple(files.MAGIC)


def draft(
    settings: Settings,
    principal: Principal,
    amount_text: str,
    remark: str,
    channel_id: int,
    account_id: int,
    now: int,
    api_base: str = "",
) -> dict[str, Any]:
    permissions.require(principal, "funding.deposit")
    channel = reference.channel(KIND, channel_id)
    if CURRENCY not in channel.get("allowed_currencies", []):
        raise InvalidInput(f"does not take {CURRENCY}", "remittance_id", "currency_not_supported")
    amount = parse_amount(amount_text, CURRENCY, "deposit_amount")
    reference.check_limits(channel, amount, "deposit_amount")
    account = orders.owned_live_account(principal, account_id, "trading_account_id", "in")
    order = orders.new_order(
        KIND,
        principal,
        amount,
        account,
        now,
        channel_id=channel_id,
        channel_name=channel["name"],
        method=channel["method"],
        icon=channel.get("icon_url", ""),
        client_remark=remark,
    )
    dal.create_order(order)
    if channel.get("kind") == "online":  # paid through the PSP: see fxcrm.funding.online
        return online.start_payment(settings, order, api_base)
    number = order["order_number"]
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
    order = orders.owned_order(principal, number, KIND)
    if order["status"] != "pending":
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
    order = orders.owned_order(principal, number, KIND)
    if order["status"] != "pending":
        raise Conflict("this deposit was submitted already", "order_number", "already_submitted")
    receipt = _check_receipt(settings, principal, number, receipt_key)
    # The version checked is the receipt: the upload form works until it expires, but what
    # the client uploads to the key after this is never shown to staff.
    pinned = {"receipt_key": receipt_key, "receipt_version": receipt.version_id}
    try:
        dal.update_order(number, {"status": "auditing", **pinned, "submit_time": now}, ("pending",))
    except StatusChanged as error:
        raise Conflict("this deposit was submitted already", "order_number", "already_submitted") from error
    summary = {
        "order_number": number,
        "amount": show(orders.amount_of(order), CURRENCY),
        "currency": CURRENCY,
        "account": order["account"],
        "channel": order["channel_name"],
        "method": order["method"],
        **pinned,
        "receipt_type": receipt.content_type,
    }
    try:
        workflow.submit(settings, KIND, int(order["id"]), principal, summary, now)
    except ProviderUnavailable:
        dal.update_order(
            number, {"status": "disapproved", "reason": "could not be submitted; try again"}, ("auditing",)
        )
        raise
    return {"order_number": number, "status": "auditing"}


# ---------------------------------------------------------------- flow tasks


def credit(settings: Settings, order_id: int, now: int) -> dict[str, Any]:
    """After approval: credit the platform and the ledger (each once), then close."""
    order = orders.get_order(KIND, order_id)
    if order["status"] != "approved":
        crediting.apply_credit(settings, order, now, orders.auditor_name(approvals_dal.get_approval(order_id) or {}))
    workflow.close(order_id, "completed", now)
    return {"status": "approved"}


def compensate(settings: Settings, order_id: int, outcome: str, now: int) -> dict[str, Any]:
    """Rejected, expired or failed: undo whatever part of the credit happened,
    mark the order disapproved with the reason, close the approval."""
    order = orders.get_order(KIND, order_id)
    number = order["order_number"]
    if order["status"] == "disapproved":
        workflow.close(order_id, outcome, now)
        return {"status": "disapproved"}
    if order["status"] == "approved":  # credited in full before the failure: keep it
        workflow.close(order_id, "completed", now)
        return {"status": "approved"}
    amount = orders.amount_of(order)
    if order.get("credit_started"):
        orders.undo_platform_op(
            settings, int(order["account_id"]), amount, f"dep-{number}", done=bool(order.get("credited_on_platform"))
        )
    if ledger.is_posted(f"dep-{number}"):
        legs = [
            ledger.Leg(ledger.trading_account(int(order["account_id"])), -amount),
            ledger.Leg(ledger.external(KIND, order["method"], CURRENCY), amount),
        ]
        ledger.post(f"dep-{number}-reversal", KIND, number, CURRENCY, legs, now)
    approval = approvals_dal.get_approval(order_id)
    reason, _ = orders.decline(number, outcome, approval, now)
    if order.get("psp_review"):  # paid online, then refused by staff: the client's money is at the provider
        online.refund_due(order, reason, now)
    workflow.close(order_id, outcome, now)
    orders.notify(settings, order, "deposit_declined", {"number": number, "reason": reason}, outcome)
    return {"status": "disapproved"}


def _row(order: dict[str, Any], timezone: str) -> dict[str, Any]:
    return orders.channel_row(order, timezone) | {
        "pay_url": order.get("pay_url", "") if order["status"] == "pending" else "",
        "server_name": order["account"]["server_name"],
        "server_type": order["account"]["server_type"],
        "target_trading_account": order["account"],
    }


def history(
    settings: Settings, principal: Principal, start: str | None, end: str | None, page: int, size: int
) -> dict[str, Any]:
    return orders.history(settings, principal, KIND, "funding.deposit", _row, start, end, page, size)
