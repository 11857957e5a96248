"""The IB portal: the profile with the referral code, link and QR code; the
clients of the IB's whole downline; their trading accounts; and the IB's
rebate records. Every list is the caller's own downline, taken from the token."""

import io
from decimal import Decimal
from typing import Any

from fxcrm.adapters import files
from fxcrm.core import times
from fxcrm.core.caller import Principal, full_name
from fxcrm.core.errors import Forbidden, NotFound
from fxcrm.core.money import show
from fxcrm.core.paging import page_of
from fxcrm.core.settings import Settings
from fxcrm.dal import ib_index, listing
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import rebates as rebates_dal
from fxcrm.dal import trading as trading_dal
from fxcrm.dal import users as users_dal
from fxcrm.dal.table import Table, plain
from fxcrm.kyc import profile as kyc_profile
from fxcrm.reports.catalog import ACCOUNT_CURRENCY
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

# A free-text filter (a part of an email or a name) has no key: it runs over
# the IB's index entries, read in large chunks (one partition, no fan-out).
TEXT_CHUNK = 1000


def _latest_trade(account_ids: list[int]) -> int | None:
    """The newest close among the accounts: one Query of one item per account."""
    latest = [int(rows[0]["close_time"]) for a in account_ids if (rows := trading_dal.latest_account_history(a, 1))]
    return max(latest) if latest else None


def _entries_page(
    parts: list[listing.Part], email: str | None, name: str | None, page: int, size: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of index entries, newest first, and its total when a text filter
    made it (None: the caller counts)."""
    table = Table()
    order = (lambda e: e["gsi2sk"]) if parts[0].index == "gsi2" else (lambda e: e["gsi1sk"])
    if not email and not (name or "").strip():
        return listing.page(table, parts, page, size, order), None
    found = list(ib_index.stream(listing.merged(table, parts, order, chunk=TEXT_CHUNK), email, name))
    return page_of(found, page, size), len(found)


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
    """The clients of the IB's whole downline (direct, or through sub-IBs),
    newest first, from the IB's own index entries (`fxcrm.dal.ib_index`)."""
    require_ib(principal)
    tz = settings.broker_timezone
    kyc = ib_index.kyc_flag(kyc_status) if kyc_status else None
    total: int | None
    if client_user_id is not None:
        one = ib_index.get_user_entry(principal.user_id, client_user_id)
        wanted = (
            one is not None
            and one["user_type"] == "client"
            and (kyc is None or one["kyc"] == kyc)
            and (status is None or one["status"] == status)
            and ib_index.text_matches(one, email, client_name)
        )
        entries = [one] if one is not None and wanted else []
        total = len(entries)
        entries = page_of(entries, page, size)
    else:
        parts = [
            listing.Part("gsi2pk = :pk", {":pk": pk}, index="gsi2")
            for pk, _, _ in ib_index.user_partitions(principal.user_id, "client", kyc, status)
        ]
        entries, total = _entries_page(parts, email, client_name, page, size)
        if total is None:
            total = ib_index.user_total(principal.user_id, "client", kyc, status)
    ids = [int(e["user_id"]) for e in entries]
    users = {int(u["id"]): u for u in users_dal.get_users(ids)} if ids else {}
    statuses = kyc_dal.get_kyc_statuses(ids)
    shown = []
    for entry in entries:
        user_id = int(entry["user_id"])
        user = users.get(user_id, {})
        account_ids = [int(e["account_id"]) for e in trading_dal.list_user_account_ids(user_id)]
        accounts_found = trading_dal.get_trading_accounts(account_ids) if account_ids else []
        newest = max(accounts_found, key=lambda a: int(a["created_at"]), default=None)
        latest = _latest_trade(account_ids)
        via = int(entry["via"])
        created = int(entry["created_at"])
        shown.append(
            {
                "client_id": user_id,
                "client_user_id": user_id,
                "email": user.get("email", entry["email"]),
                "first_name": user.get("first_name", ""),
                "last_name": user.get("last_name", ""),
                "full_name": full_name(user),
                "kyc_status": statuses.get(user_id, "filling"),
                "status": entry["status"],
                "account": str(newest["login"]) if newest else "",
                "latest_trade_time": times.show(latest, tz) if latest else "",
                "source": "direct" if via == principal.user_id else f"sub_ib:{via}",
                "created_at": times.show(created, tz),
                "updated_at": times.show(int(user.get("updated_at") or created), tz),
            }
        )
    return {"list": shown, "total": total}


def client_accounts(
    settings: Settings,
    principal: Principal,
    login: str | None,
    type_name: str | None,
    user_name: str | None,
    page: int,
    size: int,
) -> dict[str, Any]:
    """The trading accounts of the downline's clients, newest first, with
    balances from the trading server for the page's rows."""
    require_ib(principal)
    ib = principal.user_id
    if login and login.strip():
        parts = [listing.Part("gsi2pk = :pk", {":pk": f"IBDOWNLOGIN#{ib}#{login.strip()}"}, index="gsi2")]
    else:
        parts = [listing.Part("gsi1pk = :pk", {":pk": f"IBDOWNACCTS#{ib}"}, index="gsi1")]
    if (type_name or "").strip() or (login or "").strip():
        # the type's part and a login are few or unkeyed: read the matching entries
        typed = (type_name or "").strip().lower()
        found = [
            e
            for e in ib_index.stream(
                listing.merged(Table(), parts, lambda e: e["gsi1sk"], chunk=TEXT_CHUNK), None, user_name
            )
            if typed in str(e.get("type_name", "")).lower()
        ]
        entries, total = page_of(found, page, size), len(found)
    else:
        entries, counted = _entries_page(parts, None, user_name, page, size)
        total = counted if counted is not None else ib_index.account_total(ib)
    accounts_found = (
        {int(a["id"]): plain(a) for a in trading_dal.get_trading_accounts([int(e["account_id"]) for e in entries])}
        if entries
        else {}
    )
    owners = (
        {int(u["id"]): u for u in users_dal.get_users(sorted({int(e["user_id"]) for e in entries}))} if entries else {}
    )
    shown = []
    for entry in entries:
        account = accounts_found.get(int(entry["account_id"]))
        if account is None:
            continue
        owner = owners.get(int(account["user_id"]), {})
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
                "user_name": full_name(owner) or owner.get("email", ""),
            }
        )
    return {"list": shown, "total": total}


# ---------------------------------------------------------------- rebate records


def rebate_records(settings: Settings, principal: Principal, page: int, size: int) -> dict[str, Any]:
    """The IB's commission details, newest first: one per trade it earned on."""
    require_ib(principal)
    tz = settings.broker_timezone
    table = Table()
    # the page alone is read (a Query up to its last row); the total is a count of the IB's details
    part = rebates_dal.ib_details_part(principal.user_id, 0, 2**31 - 1)
    details = listing.page(table, [part], page, size, lambda d: d["gsi1sk"])
    total = rebates_dal.count_ib_details(principal.user_id, table)
    me = users_dal.get_user(principal.user_id) or {}
    clients = sorted({int(d["client_user_id"]) for d in details})
    names = {int(u["id"]): full_name(u) for u in (users_dal.get_users(clients) if clients else [])}
    records: dict[int, dict[str, Any] | None] = {}
    shown = []
    for detail in details:
        client = int(detail["client_user_id"])
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
                "client_user_name": names.get(client, ""),
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
    return {"list": shown, "total": total}
