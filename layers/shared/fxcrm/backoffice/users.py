"""Clients, IBs and staff as the back office sees and changes them. Every
change is audited with the value before and after."""

from datetime import UTC, datetime
from typing import Any

from fxcrm import audit
from fxcrm.auth import permissions
from fxcrm.auth.accounts import new_user, normalise_email
from fxcrm.core import ids, passwords, times
from fxcrm.core.caller import STAFF, STAFF_ROLES, Principal, full_name
from fxcrm.core.errors import Conflict, InvalidInput, NotFound
from fxcrm.dal import audit as audit_dal
from fxcrm.dal import funding as funding_dal
from fxcrm.dal import ib_index
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal import users as dal
from fxcrm.dal.table import plain

PROFILE_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "user_type",
    "role",
    "status",
    "ib_id",
    "referral_code",
    "created_at",
)


def _row(user: dict[str, Any]) -> dict[str, Any]:
    row = {k: plain(user.get(k)) for k in PROFILE_FIELDS}
    row["full_name"] = full_name(user)
    row["totp_enrolled"] = bool(user.get("totp_secret")) if user.get("user_type") == STAFF else None
    return row


def search(staff: Principal, email: str | None, user_type: str, page: int, size: int) -> dict[str, Any]:
    """By exact email, or the newest users of a type."""
    permissions.require(staff, "admin.users.view")
    if email:
        user_id = dal.find_user_id_by_email(normalise_email(email))
        user = dal.get_user(user_id) if user_id is not None else None
        rows = [_row(user)] if user else []
        return {"list": rows, "total": len(rows)}
    users = dal.users_page(user_type, page, size)
    return {"list": [_row(u) for u in users], "total": dal.count_users(user_type)}


def _user(user_id: int) -> dict[str, Any]:
    user = dal.get_user(user_id)
    if user is None:
        raise NotFound("no such user", "user_id")
    return user


def detail(staff: Principal, user_id: int) -> dict[str, Any]:
    """Everything a reviewer looks at: profile, KYC, accounts, orders, audit trail, IB history."""
    permissions.require(staff, "admin.users.view")
    user = _user(user_id)
    entries = trading_dal.list_user_account_ids(user_id)
    accounts = trading_dal.get_trading_accounts([int(e["account_id"]) for e in entries])
    orders: list[dict[str, Any]] = []
    for kind in ("deposit", "withdrawal", "transfer"):
        orders.extend(funding_dal.latest_user_orders(user_id, kind, 20))
    return {
        "user": _row(user),
        "kyc_status": kyc_dal.get_kyc_status(user_id),
        "accounts": [
            times.wire_row(
                {
                    k: plain(a.get(k))
                    for k in ("id", "login", "server", "is_demo", "type_name", "leverage", "currency", "created_at")
                }
            )
            for a in sorted(accounts, key=lambda a: -int(a["id"]))
        ],
        "orders": [
            times.wire_row(
                {
                    k: plain(o.get(k))
                    for k in ("order_number", "kind", "status", "amount", "currency", "created_at", "reason")
                }
                # an online deposit: the payment provider's id and status of the payment
                | {
                    k: plain(o[k])
                    for k in ("psp_provider", "psp_payment_id", "psp_status", "psp_payout_id", "psp_payout_status")
                    if k in o
                }
            )
            for o in sorted(orders, key=lambda o: -int(o["created_at"]))
        ],
        "audit": [_entry(e) for e in audit_dal.trail(f"user:{user_id}")],
        "ib_history": [
            times.wire_row(plain({k: v for k, v in h.items() if k not in ("pk", "sk")}))
            for h in dal.ib_history(user_id)
        ],
    }


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    return times.wire_row({k: plain(v) for k, v in entry.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")})


def set_status(staff: Principal, user_id: int, status: str, reason: str, source_ip: str, now: int) -> dict[str, Any]:
    permissions.require(staff, "admin.users.manage")
    user = _user(user_id)
    if user_id == staff.user_id:
        raise InvalidInput("you cannot change your own status", "user_id", "own_account")
    updated = dal.set_status(user_id, status)
    audit.record(
        staff,
        "user.status",
        f"user:{user_id}",
        source_ip,
        now,
        before={"status": user.get("status")},
        after={"status": status, "reason": reason},
    )
    return _row(updated)


def _ancestors(ib_id: int) -> list[int]:
    chain, seen = [], set()
    current: int | None = ib_id
    while current is not None and current not in seen:
        seen.add(current)
        chain.append(current)
        parent = dal.get_user(current) or {}
        current = int(parent["ib_id"]) if parent.get("ib_id") is not None else None
    return chain


def move_to_ib(
    staff: Principal,
    user_id: int,
    ib_id: int | None,
    reason: str,
    source_ip: str,
    now: int,
    effective_at: int | None = None,
) -> dict[str, Any]:
    """Attach a client to an IB, or move a sub-IB under another IB (or detach:
    None), from `effective_at` on (default now): trades closed before it
    settle under the IB the user had then."""
    permissions.require(staff, "admin.users.manage")
    user = _user(user_id)
    effective = now if effective_at is None else effective_at
    last_change = max((int(h["at"]) for h in dal.ib_history(user_id)), default=int(user.get("created_at", 0)))
    if effective > now or effective < last_change:
        raise InvalidInput("must be between the user's last IB change (or registration) and now", "effective_at")
    if user["user_type"] == STAFF:
        raise InvalidInput("staff are not attached to IBs", "user_id", "not_a_client")
    if ib_id is not None:
        target = dal.get_user(ib_id)
        if target is None or target["user_type"] != "ib":
            raise InvalidInput("is not an introducing broker", "ib_id", "not_an_ib")
        if user_id in _ancestors(ib_id):
            raise InvalidInput("would put the IB under its own downline", "ib_id", "ib_cycle")
    before = int(user["ib_id"]) if user.get("ib_id") is not None else None
    if before == ib_id:
        raise Conflict("the user is there already", "ib_id", "unchanged")
    record = {
        "id": ids.new_id(),
        "at": effective,
        "recorded_at": now,
        "from_ib_id": before,
        "to_ib_id": ib_id,
        "by": staff.email,
        "reason": reason,
    }
    dal.set_ib(user_id, ib_id, record)
    ib_index.moved(user_id, before, ib_id, effective)  # the downline views of the IBs it leaves and joins
    audit.record(
        staff,
        "user.ib",
        f"user:{user_id}",
        source_ip,
        now,
        before={"ib_id": before},
        after={"ib_id": ib_id, "reason": reason, "effective_at": effective},
    )
    return _row(_user(user_id))


def create_staff(
    staff: Principal,
    email: str,
    role: str,
    first_name: str,
    last_name: str,
    password: str,
    ip_allow: list[str],
    source_ip: str,
    now: int,
) -> int:
    """A staff account; its owner sets up two-factor login at the first login."""
    permissions.require(staff, "admin.users.manage")
    if role not in STAFF_ROLES:
        raise InvalidInput(f"must be one of {', '.join(STAFF_ROLES)}", "role")
    passwords.check_rule(password, "password")
    user = new_user(email, password, STAFF, role, now, first_name=first_name, last_name=last_name, created_at=now)
    if ip_allow:
        user["ip_allow"] = ip_allow
    try:
        dal.create_user(user)
    except dal.EmailTaken as error:
        raise Conflict("this email is already registered", "email", "email_taken") from error
    audit.record(
        staff,
        "staff.create",
        f"user:{user['id']}",
        source_ip,
        now,
        after={"email": user["email"], "role": role, "ip_allow": ip_allow},
    )
    return int(user["id"])


def reset_totp(staff: Principal, user_id: int, reason: str, source_ip: str, now: int) -> dict[str, Any]:
    """A staff member lost the authenticator and the recovery codes: they enrol again."""
    permissions.require(staff, "admin.users.manage")
    user = _user(user_id)
    if user["user_type"] != STAFF:
        raise InvalidInput("only staff accounts have two-factor login", "user_id", "not_staff")
    if user_id == staff.user_id:
        raise InvalidInput("another admin must reset your two-factor login", "user_id", "own_account")
    dal.reset_totp(user_id)
    audit.record(staff, "staff.totp_reset", f"user:{user_id}", source_ip, now, after={"reason": reason})
    return _row(_user(user_id))


def day_text(now: int) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
