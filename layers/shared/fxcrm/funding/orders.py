"""What deposits, withdrawals and transfers share: order numbers, the
caller's own live accounts, the platform calls of a flow, history pages."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Literal

from fxcrm import ledger
from fxcrm.adapters.mail import send_email
from fxcrm.adapters.trading.port import PlatformError, PlatformInsufficientFunds, PlatformUnavailable
from fxcrm.adapters.trading.servers import platform_for, server_name
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import Kind, RequiredApprovals
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
from fxcrm.dal.table import plain
from fxcrm.funding import reference

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


def account_ref(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": str(account["login"]),
        "id": int(account["id"]),
        "server_name": server_name(account["server"]),
        "server_type": account["server"],
    }


def owned_order(principal: Principal, number: str, kind: str, field: str = "order_number") -> dict[str, Any]:
    order = dal.get_order(number)
    if order is None or order["kind"] != kind or int(order["user_id"]) != principal.user_id:
        raise NotFound(f"no such {kind}", field)
    return dict(plain(order))


def get_order(kind: str, order_id: int) -> dict[str, Any]:
    order = dal.get_order(order_number(kind, order_id))
    if order is None:
        raise NotFound(f"no such {kind}", "approval_id")
    return dict(plain(order))


def amount_of(order: dict[str, Any]) -> Decimal:
    return Decimal(str(order["amount"]))


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
    kind: str,
    action: str,
    row: Callable[[dict[str, Any], str], dict[str, Any]],
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
    listed = order_lists.UserList(principal.user_id, kind, frozenset(order_lists.STATUSES), first, last, now)
    return {"list": [row(plain(o), tz) for o in listed.page(page, size)], "total": listed.total()}


def notify(settings: Settings, order: dict[str, Any], subject: str, text: str) -> None:
    send_email(settings.ses_sender, order["email"], subject, text)


def notify_paid_out(settings: Settings, order: dict[str, Any]) -> None:
    """A withdrawal's money left: by staff's hand or by the payment provider, the same notice."""
    currency = order["remittance_currency"]
    notify(
        settings,
        order,
        "Your withdrawal is on its way",
        f"Withdrawal {order['order_number']}: {show(Decimal(str(order['remittance_amount'])), currency)} "
        f"{currency} was sent by {order['channel_name']}.",
    )


# Why an order ended without money moving, as the client reads it.
ENDINGS = {
    "expired": "it was not reviewed in time",
    "failed": "it could not be processed; nothing was taken from your account",
}


def auditor_name(approval: dict[str, Any] | None) -> str:
    """Who decided an order's approval item, by the staff user's stored name
    (its email only if the profile has no name): the reports' `auditor_name`."""
    if not approval or approval.get("decided_by") is None:
        return ""
    staff = users_dal.get_user(int(approval["decided_by"])) or {}
    return full_name(staff) or str(approval.get("decided_by_email") or staff.get("email", ""))


def disapproval_reason(outcome: str, approval: dict[str, Any] | None, detail: str = "") -> str:
    if outcome == "rejected" and approval is not None:
        return str(approval.get("reason") or "declined")
    return detail or ENDINGS.get(outcome, outcome)


def decline(number: str, outcome: str, approval: dict[str, Any] | None, now: int, detail: str = "") -> tuple[str, bool]:
    """Disapprove an order that ended with `outcome`, naming the staff user who
    rejected it: the reason the client reads, and False if an earlier attempt did."""
    reason = disapproval_reason(outcome, approval, detail)
    auditor = auditor_name(approval) if outcome == "rejected" else ""
    return reason, disapprove(number, reason, now, auditor)


def reserve_with_order(kind: str, order: dict[str, Any], legs: list[ledger.Leg], now: int, field: str) -> None:
    """Write the order with its pending ledger transaction, all or nothing; a
    guarded account without the money is a 422 on `field`."""
    number = order["order_number"]
    try:
        ledger.post(
            txn_id(kind, number),
            kind,
            number,
            order["currency"],
            legs,
            now,
            pending=True,
            with_items=dal.new_order_requests(order),
        )
    except ledger.InsufficientFunds as error:
        raise InvalidInput("is more than the available balance", field, "insufficient_funds") from error


def submit_or_release(
    settings: Settings,
    kind: Kind,
    order: dict[str, Any],
    principal: Principal,
    summary: dict[str, Any],
    now: int,
    required_approvals: RequiredApprovals = 1,
) -> None:
    """Start the approval flow; if it cannot start, free the reservation and say so."""
    try:
        workflow.submit(
            settings, kind, int(order["id"]), principal, summary, now, required_approvals=required_approvals
        )
    except ProviderUnavailable:
        ledger.release(txn_id(kind, order["order_number"]), now)
        dal.update_order(
            order["order_number"],
            {"status": "disapproved", "reason": "could not be submitted; try again"},
            ("pending",),
        )
        raise


TXN_PREFIX = {"deposit": "dep", "withdrawal": "wd", "transfer": "tr"}


def txn_id(kind: str, number: str) -> str:
    return f"{TXN_PREFIX[kind]}-{number}"


def history_row(order: dict[str, Any], timezone: str) -> dict[str, Any]:
    """The fields every kind's history row shares."""
    return {
        "id": int(order["id"]),
        "order_number": order["order_number"],
        "amount": show(amount_of(order), order["currency"]),
        "currency": order["currency"],
        "status": order["status"],
        "submit_time": times.show(int(order.get("submit_time") or order["created_at"]), timezone),
    }


def channel_row(order: dict[str, Any], timezone: str) -> dict[str, Any]:
    """The history row of an order through a channel (a deposit or a withdrawal):
    the client's remark, staff's reason, the channel's name and icon."""
    return history_row(order, timezone) | {
        "client_remark": order.get("client_remark", ""),
        "remark": order.get("reason", ""),
        "icon": order.get("icon", ""),
        "remittance_name": order["channel_name"],
    }


def new_order(
    kind: str, principal: Principal, amount: Decimal, account: dict[str, Any], now: int, **fields: Any
) -> dict[str, Any]:
    """A pending order of the caller's on one of their accounts, with what every kind records."""
    order_id = ids.new_id()
    return {
        "id": order_id,
        "order_number": order_number(kind, order_id),
        "kind": kind,
        "user_id": principal.user_id,
        "email": principal.email,
        "status": "pending",
        "amount": amount,
        "currency": account["currency"],
        "account_id": int(account["id"]),
        "account": account_ref(account),
        "created_at": now,
        **fields,
    }


def disapprove(number: str, reason: str, now: int, auditor: str = "") -> bool:
    """Mark a pending or audited order disapproved (by `auditor`, when staff
    rejected it); False if an earlier attempt did."""
    fields = {"status": "disapproved", "reason": reason, "decided_at": now} | (
        {"auditor_name": auditor} if auditor else {}
    )
    try:
        dal.update_order(number, fields, ("pending", "auditing"))
    except dal.StatusChanged:
        return False
    return True
