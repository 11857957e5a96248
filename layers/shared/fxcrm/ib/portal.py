"""The IB portal: the profile with the referral code, link and QR code; the
clients of the IB's whole downline; their trading accounts; and the IB's
rebate records. Every list is the caller's own downline, taken from the token."""

import io
from decimal import Decimal
from typing import Any

from fxcrm.adapters import files
from fxcrm.core import times
from fxcrm.core.caller import Principal, full_name, name_matches
from fxcrm.core.errors import Forbidden, NotFound
from fxcrm.core.money import show
from fxcrm.core.paging import page_of
from fxcrm.core.settings import Settings
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import rebates as rebates_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal import users as users_dal
from fxcrm.dal.table import plain
from fxcrm.kyc import profile as kyc_profile
from fxcrm.reports.catalog import ACCOUNT_CURRENCY
from fxcrm.reports.scope import downline_users
from fxcrm.trading import accounts

QR_LINK_SECONDS = 3600


def require_ib(principal: Principal) -> None:
    if principal.user_type != "ib":
        raise Forbidden("for introducing brokers only", code="ib_only")


def referral_link(settings: Settings, code: str) -> str:
    return f"{settings.portal_url.rstrip('/')}/register?invite_code={code}"


def _qr_key(ib_id: int, code: str) -> str:
    return f"qr/{ib_id}/{code}.png"


def qr_url(settings: Settings, ib_id: int, code: str) -> str:
    """The referral link's QR code: drawn once (segno), kept in S3, served by a presigned link."""
    key = _qr_key(ib_id, code)
    if files.inspect(settings.bucket_name, key) is None:
        import segno  # here: a QR code is drawn once per referral code (cold start of the Partner function)

        image = io.BytesIO()
        segno.make(referral_link(settings, code), error="m").save(image, kind="png", scale=8, border=2)
        files.put(settings.bucket_name, key, image.getvalue(), "image/png")
    return files.presigned_get(settings.bucket_name, key, QR_LINK_SECONDS)


def profile(settings: Settings, principal: Principal) -> dict[str, Any]:
    require_ib(principal)
    user = users_dal.get_user(principal.user_id)
    if user is None or not user.get("referral_code"):
        raise NotFound("this IB has no referral code", "ReferralCode")
    code = str(user["referral_code"])
    return {
        "ReferralCode": code,
        "ReferralLink": referral_link(settings, code),
        "QRCodeURL": qr_url(settings, principal.user_id, code),
        **kyc_profile.status(settings, principal.user_id),
    }


# ---------------------------------------------------------------- clients


def _contains(text: str, part: str | None) -> bool:
    return not part or part.strip().lower() in text.lower()


def _latest_trade(account_ids: list[int]) -> int | None:
    latest = [
        int(rows[0]["close_time"]) for a in account_ids if (rows := trading_dal.list_account_history(a, 0, 2**31 - 1))
    ]
    return max(latest) if latest else None


def clients(
    settings: Settings,
    principal: Principal,
    client_user_id: int | None,
    kyc_status: str | None,
    status: str | None,
    email: str | None,
    client_name: str | None,
    page: int,
    size: int,
) -> dict[str, Any]:
    """The clients of the IB's whole downline (direct, or through sub-IBs)."""
    require_ib(principal)
    tz = settings.broker_timezone
    rows = []
    for user in sorted(downline_users(principal.user_id), key=lambda u: int(u["created_at"]), reverse=True):
        if user.get("user_type") != "client":
            continue
        user_id = int(user["id"])
        approved = kyc_dal.get_kyc_status(user_id) == "approved" if kyc_status else None
        shown_status = "enabled" if user.get("status", "active") == "active" else "disabled"
        if client_user_id is not None and user_id != client_user_id:
            continue
        if kyc_status and approved != (kyc_status == "approved"):
            continue
        if status and shown_status != status:
            continue
        if not _contains(str(user["email"]), email) or not name_matches(user, client_name):
            continue
        rows.append((user, shown_status))
    shown = []
    for user, shown_status in page_of(rows, page, size):
        user_id = int(user["id"])
        account_ids = [int(e["account_id"]) for e in trading_dal.list_user_account_ids(user_id)]
        accounts_found = trading_dal.get_trading_accounts(account_ids) if account_ids else []
        newest = max(accounts_found, key=lambda a: int(a["created_at"]), default=None)
        latest = _latest_trade(account_ids)
        via = int(user["via"])
        shown.append(
            {
                "client_id": user_id,
                "client_user_id": user_id,
                "email": user["email"],
                "first_name": user.get("first_name", ""),
                "last_name": user.get("last_name", ""),
                "full_name": full_name(user),
                "kyc_status": kyc_dal.get_kyc_status(user_id),
                "status": shown_status,
                "account": str(newest["login"]) if newest else "",
                "latest_trade_time": times.show(latest, tz) if latest else "",
                "source": "direct" if via == principal.user_id else f"sub_ib:{via}",
                "created_at": times.show(int(user["created_at"]), tz),
                "updated_at": times.show(int(user.get("updated_at") or user["created_at"]), tz),
            }
        )
    return {"list": shown, "total": len(rows)}


def client_accounts(
    settings: Settings,
    principal: Principal,
    login: str | None,
    type_name: str | None,
    user_name: str | None,
    page: int,
    size: int,
) -> dict[str, Any]:
    """The trading accounts of the downline's clients, with balances from the trading server."""
    require_ib(principal)
    users = {int(u["id"]): u for u in downline_users(principal.user_id) if u.get("user_type") == "client"}
    ids = [int(e["account_id"]) for user_id in sorted(users) for e in trading_dal.list_user_account_ids(user_id)]
    found = [plain(a) for a in (trading_dal.get_trading_accounts(ids) if ids else [])]
    rows = [
        a
        for a in sorted(found, key=lambda a: int(a["created_at"]), reverse=True)
        if (not login or str(a["login"]) == login.strip())
        and _contains(str(a.get("type_name", "")), type_name)
        and name_matches(users[int(a["user_id"])], user_name)
    ]
    shown = []
    for account in page_of(rows, page, size):
        state = accounts.view(settings, account)
        shown.append(
            {
                "id": int(account["id"]),
                "account_id": str(account["login"]),
                "balance": state["balance"],
                "credit": state["credit"],
                "equity": state["equity"],
                "margin_level": state["margin_level"],
                "leverage": int(account["leverage"]),
                "trading_account_type_name": account.get("type_name", ""),
                "trading_platform": account["trading_platform"],
                "trading_server_name": state["server_name"],
                "user_name": full_name(users[int(account["user_id"])]) or users[int(account["user_id"])]["email"],
            }
        )
    return {"list": shown, "total": len(rows)}


# ---------------------------------------------------------------- rebate records


def rebate_records(settings: Settings, principal: Principal, page: int, size: int) -> dict[str, Any]:
    """The IB's commission details, newest first: one per trade it earned on."""
    require_ib(principal)
    tz = settings.broker_timezone
    details = rebates_dal.list_ib_details(principal.user_id, 0, 2**31 - 1)
    me = users_dal.get_user(principal.user_id) or {}
    names: dict[int, str] = {}
    records: dict[int, dict[str, Any] | None] = {}
    shown = []
    for detail in page_of(details, page, size):
        client = int(detail["client_user_id"])
        if client not in names:
            names[client] = full_name(users_dal.get_user(client) or {})
        aggregation = int(detail["aggregation_id"])
        if aggregation not in records:
            records[aggregation] = rebates_dal.get_aggregation(aggregation)
        granted = (records[aggregation] or {}).get("grant_at")
        shown.append(
            {
                "rebate_id": rebates_dal.detail_id(detail),
                "rebate_aggregation_id": aggregation,
                "rebate_type": str(detail["kind"]),
                "client_user_id": client,
                "client_user_name": names[client],
                "ib_user_id": principal.user_id,
                "ib_user_name": full_name(me),
                "symbol": detail["symbol"],
                # the client's trade result, in the account's currency; the IB's earning is rebate_amount
                "trade_profit": show(Decimal(str(detail["profit"])), ACCOUNT_CURRENCY),
                "rebate_amount": show(Decimal(str(detail["amount"])), str(detail["currency"])),
                "rebate_currency": str(detail["currency"]),
                "open_time": times.show(int(detail["open_time"]), tz),
                "settlement_time": times.show(int(detail["calculate_at"]), tz),
                "payment_time": times.show(int(granted), tz) if granted else "",
            }
        )
    return {"list": shown, "total": len(details)}
