"""What deposits, withdrawals and transfers share: order numbers, the
caller's own live accounts, the platform calls of a flow, history pages."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Literal, TypedDict, TypeVar

from fxcrm import ledger
from fxcrm.adapters.trading.port import PlatformError, PlatformInsufficientFunds, PlatformUnavailable
from fxcrm.adapters.trading.servers import platform_for, server_name
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import ApprovalItem, Kind, RequiredApprovals
from fxcrm.auth import permissions
from fxcrm.auth.email_codes import Scene, check_code
from fxcrm.core import clock, ids, times
from fxcrm.core.caller import Principal, full_name
from fxcrm.core.errors import InvalidInput, NotFound, ProviderUnavailable
from fxcrm.core.money import show
from fxcrm.core.settings import Settings
from fxcrm.dal import funding as dal
from fxcrm.dal import order_lists
from fxcrm.dal import trading as trading_dal
from fxcrm.dal import users as users_dal
from fxcrm.dal.models.orders import (
    AccountRef,
    DepositOrder,
    Order,
    OrderBase,
    OrderChange,
    OrderKind,
    TransferOrder,
    WithdrawalOrder,
    order_from_item,
)
from fxcrm.dal.table import plain
from fxcrm.funding import reference
from fxcrm.mail import sender as mail

__all__ = ["AccountRef", "DepositOrder", "Order", "OrderBase", "OrderChange", "TransferOrder", "WithdrawalOrder"]

KindOrder = TypeVar("KindOrder", DepositOrder, WithdrawalOrder, TransferOrder)
KIND_OF: dict[type[OrderBase], OrderKind] = {
    DepositOrder: "deposit",
    WithdrawalOrder: "withdrawal",
    TransferOrder: "transfer",
}

PREFIX = {"deposit": "D", "withdrawal": "W", "transfer": "T"}


class PlatformRefused(Exception):
    """The trading server refused a balance operation for good (e.g. not enough
    money): the flow compensates instead of retrying."""


def confirm_by_email(settings: Settings, principal: Principal, kind: str, code: str | None, now: int) -> None:
    """The emailed code of scene `kind` confirms a withdrawal or transfer. Staff
    may make it optional per kind; a code that is sent is checked all the same."""
    if code is None:
        if reference.email_code_required(kind):
            raise InvalidInput(f"is required: ask for a code of scene {kind}", "email_code", "email_code_required")
        return
    check_code(settings, principal.email, Scene(kind), code, now)


def order_number(kind: str, order_id: int) -> str:
    return f"{PREFIX[kind]}{order_id}"


# The account type's record type rules which way money may move: a
# deposit-only account pays nothing out, a withdrawal-only one takes nothing in.
REFUSED_RECORD_TYPE = {"in": "withdrawal_only", "out": "deposit_only"}


def owned_live_account(
    principal: Principal, account_id: int, field: str, direction: Literal["in", "out"]
) -> dict[str, Any]:
    """One of the caller's live accounts that money may move `direction` (into or out of)."""
    account = trading_dal.get_trading_account(account_id)
    if account is None or int(account["user_id"]) != principal.user_id:
        raise NotFound("no such trading account", field)
    if account["is_demo"]:
        raise InvalidInput("demo accounts hold demo funds only", field, "demo_account")
    record_type = account.get("record_type", "normal")
    if record_type == REFUSED_RECORD_TYPE[direction]:
        moving = "into" if direction == "in" else "out of"
        raise InvalidInput(f"is a {record_type} account: no money moves {moving} it", field, "record_type_refused")
    return dict(plain(account))


def account_ref(account: dict[str, Any]) -> AccountRef:
    return AccountRef(
        account=str(account["login"]),
        id=int(account["id"]),
        server_name=server_name(account["server"]),
        server_type=account["server"],
    )


def as_kind(model: type[KindOrder], order: Order | None) -> KindOrder | None:
    """The order if it is of the model's kind."""
    return order if isinstance(order, model) else None


def owned_order(principal: Principal, number: str, model: type[KindOrder], field: str = "order_number") -> KindOrder:
    order = as_kind(model, dal.get_order(number))
    if order is None or order.user_id != principal.user_id:
        raise NotFound(f"no such {KIND_OF[model]}", field)
    return order


def get_order(model: type[KindOrder], order_id: int) -> KindOrder:
    kind = KIND_OF[model]
    order = as_kind(model, dal.get_order(order_number(kind, order_id)))
    if order is None:
        raise NotFound(f"no such {kind}", "approval_id")
    return order


def reload(order: KindOrder) -> KindOrder:
    """The order as it is stored now."""
    return get_order(type(order), order.id)


@contextmanager
def platform_step() -> Iterator[None]:
    """Inside a flow's task: a passing outage is retried by the state machine
    (ProviderUnavailable); a refusal is final (PlatformRefused)."""
    try:
        yield
    except PlatformUnavailable as error:
        raise ProviderUnavailable(str(error)) from error
    except (PlatformInsufficientFunds, PlatformError) as error:
        raise PlatformRefused(str(error)) from error


def move_on_platform(settings: Settings, account: dict[str, Any], amount: Decimal, operation_id: str) -> None:
    """One balance operation on the account's trading server, once per operation id."""
    with platform_step():
        platform_for(settings, account["server"]).balance(int(account["login"]), amount, operation_id)


def undo_platform_op(settings: Settings, account_id: int, amount: Decimal, operation_id: str, done: bool) -> None:
    """Reverse a balance operation that may or may not have happened (its step
    died between the call and the record): repeat it first, which is a no-op if
    it did happen, then reverse it, so the account ends as it started."""
    account = trading_dal.get_trading_account(account_id)
    if account is None:
        return
    if not done:
        try:
            move_on_platform(settings, dict(account), amount, operation_id)
        except PlatformRefused:
            return  # refused now, so it was never applied (a repeat of an applied one is a no-op)
    move_on_platform(settings, dict(account), -amount, f"{operation_id}-reversal")


def history(
    settings: Settings,
    principal: Principal,
    model: type[KindOrder],
    action: str,
    row: Callable[[KindOrder, str], dict[str, Any]],
    start: str | None,
    end: str | None,
    page: int,
    size: int,
) -> dict[str, Any]:
    """The caller's orders of a kind (with `action`'s permission), each as `row`
    makes it in the broker's time zone."""
    permissions.require(principal, action)
    tz, now = settings.broker_timezone, clock.now()
    first, last = times.bounded(*times.window(start, end, tz), now, tz, start_given=bool(start))
    statuses = frozenset(order_lists.STATUSES)
    listed = order_lists.UserList(principal.user_id, KIND_OF[model], statuses, first, last, now)
    shown = [row(model.model_validate(order_from_item(o)), tz) for o in listed.page(page, size)]
    return {"list": shown, "total": listed.total()}


def notify(
    settings: Settings, order: OrderBase, message: str, values: dict[str, Any], outcome: str | None = None
) -> None:
    """Mail the order's owner `message` (fxcrm.mail), in their language; with
    `outcome`, `values["reason"]` reads as that outcome's reason."""
    mail.send(settings, order.email, message, values, user_id=order.user_id, outcome=outcome)


def notify_paid_out(settings: Settings, order: WithdrawalOrder) -> None:
    """A withdrawal's money left: by staff's hand or by the payment provider, the same notice."""
    currency = order.remittance_currency
    amount = show(order.remittance_amount, currency)
    sent = {"number": order.order_number, "amount": amount, "currency": currency}
    notify(settings, order, "withdrawal_sent", sent | {"channel": order.channel_name})


# Why an order ended without money moving, as the client reads it.
ENDINGS = {
    "expired": "it was not reviewed in time",
    "failed": "it could not be processed; nothing was taken from your account",
}


def auditor_name(approval: ApprovalItem | None) -> str:
    """Who decided an order's approval item, by the staff user's stored name
    (its email only if the profile has no name): the reports' `auditor_name`."""
    if approval is None or approval.decided_by is None:
        return ""
    staff = users_dal.get_user(approval.decided_by) or {}
    return full_name(staff) or str(approval.decided_by_email or staff.get("email", ""))


def disapproval_reason(outcome: str, approval: ApprovalItem | None, detail: str = "") -> str:
    if outcome == "rejected" and approval is not None:
        return approval.reason or "declined"
    return detail or ENDINGS.get(outcome, outcome)


def decline(number: str, outcome: str, approval: ApprovalItem | None, now: int, detail: str = "") -> tuple[str, bool]:
    """Disapprove an order that ended with `outcome`, naming the staff user who
    rejected it: the reason the client reads, and False if an earlier attempt did."""
    reason = disapproval_reason(outcome, approval, detail)
    auditor = auditor_name(approval) if outcome == "rejected" else ""
    return reason, disapprove(number, reason, now, auditor)


def reserve_with_order(order: WithdrawalOrder | TransferOrder, legs: list[ledger.Leg], now: int, field: str) -> None:
    """Write the order with its pending ledger transaction, all or nothing; a
    guarded account without the money is a 422 on `field`."""
    number = order.order_number
    try:
        ledger.post(
            txn_id(order.kind, number),
            order.kind,
            number,
            order.currency,
            legs,
            now,
            pending=True,
            with_items=dal.new_order_requests(order),
        )
    except ledger.InsufficientFunds as error:
        raise InvalidInput("is more than the available balance", field, "insufficient_funds") from error


def submit_or_release(
    settings: Settings,
    order: WithdrawalOrder | TransferOrder,
    principal: Principal,
    summary: dict[str, Any],
    now: int,
    required_approvals: RequiredApprovals = 1,
) -> None:
    """Start the approval flow; if it cannot start, free the reservation and say so."""
    kind: Kind = order.kind
    try:
        workflow.submit(settings, kind, order.id, principal, summary, now, required_approvals=required_approvals)
    except ProviderUnavailable:
        ledger.release(txn_id(kind, order.order_number), now)
        dal.update_order(
            order.order_number,
            {"status": "disapproved", "reason": "could not be submitted; try again"},
            ("pending",),
        )
        raise


TXN_PREFIX = {"deposit": "dep", "withdrawal": "wd", "transfer": "tr"}


def txn_id(kind: str, number: str) -> str:
    return f"{TXN_PREFIX[kind]}-{number}"


def history_row(order: OrderBase, timezone: str) -> dict[str, Any]:
    """The fields every kind's history row shares."""
    return {
        "id": order.id,
        "order_number": order.order_number,
        "amount": show(order.amount, order.currency),
        "currency": order.currency,
        "status": order.status,
        "submit_time": times.show(order.submit_time or order.created_at, timezone),
    }


def channel_row(order: DepositOrder | WithdrawalOrder, timezone: str) -> dict[str, Any]:
    """The history row of an order through a channel (a deposit or a withdrawal):
    the client's remark, staff's reason, the channel's name and icon."""
    return history_row(order, timezone) | {
        "client_remark": order.client_remark,
        "remark": order.reason or "",
        "icon": order.icon,
        "remittance_name": order.channel_name,
    }


class Common(TypedDict):
    """What every kind records when it is created (the models' shared fields)."""

    id: int
    order_number: str
    user_id: int
    email: str
    status: Literal["pending"]
    amount: Decimal
    currency: str
    account_id: int
    account: AccountRef
    created_at: int


def common_fields(kind: OrderKind, principal: Principal, amount: Decimal, account: dict[str, Any], now: int) -> Common:
    """A new pending order of the caller's on one of their accounts: a fresh id and number."""
    order_id = ids.new_id()
    return Common(
        id=order_id,
        order_number=order_number(kind, order_id),
        user_id=principal.user_id,
        email=principal.email,
        status="pending",
        amount=amount,
        currency=str(account["currency"]),
        account_id=int(account["id"]),
        account=account_ref(account),
        created_at=now,
    )


def disapprove(number: str, reason: str, now: int, auditor: str = "") -> bool:
    """Mark a pending or audited order disapproved (by `auditor`, when staff
    rejected it); False if an earlier attempt did."""
    fields: OrderChange = {"status": "disapproved", "reason": reason, "decided_at": now}
    if auditor:
        fields["auditor_name"] = auditor
    try:
        dal.update_order(number, fields, ("pending", "auditing"))
    except dal.StatusChanged:
        return False
    return True
