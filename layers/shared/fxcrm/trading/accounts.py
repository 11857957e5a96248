"""Trading accounts: types, opening (demo at once, live after KYC), listing,
detail, passwords and balances. Every account is checked against its owner."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fxcrm import ledger
from fxcrm.adapters.trading.port import NewAccount, PlatformError, PlatformInvalidRequest, PlatformUnavailable
from fxcrm.adapters.trading.servers import platform_for, server_for, server_name
from fxcrm.adapters.trading.simulated import random_investor_password
from fxcrm.auth import permissions
from fxcrm.core import ids
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Forbidden, InvalidInput, NotFound, ProviderUnavailable
from fxcrm.core.observability import logger
from fxcrm.core.paging import page_of
from fxcrm.core.settings import Settings
from fxcrm.dal import kyc as kyc_dal
from fxcrm.dal import settings_items
from fxcrm.dal import trading as dal
from fxcrm.dal.table import plain
from fxcrm.kyc import profile as kyc

CENT = Decimal("0.01")


def check_platform_password(password: str, field: str) -> None:
    """MT5's rule: 8 to 16 characters with lower case, upper case, a digit and a special character."""
    if not 8 <= len(password) <= 16:
        raise InvalidInput("must be 8 to 16 characters", field, "password_rule")
    for pattern, what in (
        (r"[a-z]", "a lower-case letter"),
        (r"[A-Z]", "an upper-case letter"),
        (r"[0-9]", "a digit"),
        (r"[^A-Za-z0-9]", "a special character"),
    ):
        if not re.search(pattern, password):
            raise InvalidInput(f"must contain {what}", field, "password_rule")


def _page(rows: list[Any], page: int, size: int) -> list[Any]:
    return page_of(rows, page, size)


def list_types(platform: str, is_demo: bool | None, page: int, size: int) -> dict[str, Any]:
    rows = sorted(dal.list_account_types(platform, is_demo), key=lambda t: int(t["id"]))
    return {
        "list": [
            {
                "id": int(t["id"]),
                "name": t["name"],
                "leverage_options": [{"id": int(o["id"]), "value": int(o["value"])} for o in t["leverage_options"]],
            }
            for t in _page(rows, page, size)
        ],
        "total": len(rows),
    }


@dataclass(frozen=True)
class Application:
    trading_platform: str
    trading_account_type_id: int
    leverage: int
    currency: str
    password: str
    observe_password: str | None


@contextmanager
def platform_call(action: str) -> Iterator[None]:
    """Turn platform failures into errors the caller can act on."""
    try:
        yield
    except PlatformInvalidRequest as error:
        raise InvalidInput(f"the trading server refused: {error}", "password") from error
    except PlatformUnavailable as error:
        raise ProviderUnavailable("the trading server is not reachable; try again shortly") from error
    except PlatformError as error:
        logger.error("platform error", extra={"action": action, "retcode": error.retcode})
        raise ProviderUnavailable("the trading server could not do this; try again later") from error


def validate_application(principal: Principal, application: Application, is_demo: bool) -> dict[str, Any]:
    """Check an application against its account type and the password rule;
    a live one needs approved KYC. Returns the account type."""
    permissions.require(principal, "accounts.apply")
    account_type = dal.get_account_type(application.trading_platform, application.trading_account_type_id, is_demo)
    if account_type is None:
        raise InvalidInput("no such account type for this platform", "trading_account_type_id")
    if application.leverage not in {int(o["value"]) for o in account_type["leverage_options"]}:
        raise InvalidInput("not one of this account type's leverage options", "leverage")
    check_platform_password(application.password, "password")
    if application.observe_password is not None:
        check_platform_password(application.observe_password, "observe_password")
    if is_demo:
        kyc.require_for_demo(principal.user_id)
    elif kyc_dal.get_kyc_status(principal.user_id) != "approved":
        raise Forbidden(
            "complete identity verification (KYC) before opening a live account", "is_demo", "kyc_not_approved"
        )
    return account_type


def create_on_platform(
    settings: Settings, server: str, account_type: dict[str, Any], email: str, application: Application
) -> int:
    """Create the account on the trading server; returns its login."""
    with platform_call("create_account"):
        return platform_for(settings, server).create_account(
            NewAccount(
                group=str(account_type["group"]),
                name=email,
                email=email,
                leverage=application.leverage,
                main_password=application.password,
                investor_password=application.observe_password or random_investor_password(),
            )
        )


def record_account(
    account_id: int,
    user_id: int,
    application: Application,
    account_type: dict[str, Any],
    server: str,
    login: int,
    is_demo: bool,
    now: int,
) -> None:
    if not is_demo:
        # the ledger balance exists before the account does: no first-deposit race
        ledger.open_trading_account(account_id, application.currency)
    dal.create_trading_account(
        {
            "id": account_id,
            "user_id": user_id,
            "trading_platform": application.trading_platform,
            "server": server,
            "login": login,
            "currency": application.currency,
            "leverage": application.leverage,
            "is_demo": is_demo,
            "type_id": int(account_type["id"]),
            "type_name": account_type["name"],
            "record_type": account_type.get("record_type", "normal"),
            "created_at": now,
        }
    )


def open_demo_account(settings: Settings, principal: Principal, application: Application, now: int) -> int:
    """Open a demo account at once, with demo funds. Returns the account id."""
    account_type = validate_application(principal, application, True)
    server = server_for(application.trading_platform, True)
    login = create_on_platform(settings, server, account_type, principal.email, application)
    account_id = ids.new_id()
    record_account(account_id, principal.user_id, application, account_type, server, login, True, now)
    with platform_call("demo_deposit"):
        platform_for(settings, server).balance(login, Decimal(settings.demo_initial_balance), f"demo-{account_id}")
    logger.info("trading account opened", extra={"account_id": account_id, "server": server, "login": login})
    return account_id


def require_view(principal: Principal) -> None:
    permissions.require(principal, "accounts.view")


def _owned(principal: Principal, account_id: int) -> dict[str, Any]:
    require_view(principal)
    account = dal.get_trading_account(account_id)
    if account is None or int(account["user_id"]) != principal.user_id:
        raise NotFound("no such trading account", "id")  # the same answer for another user's account
    return account


def view(settings: Settings, account: dict[str, Any]) -> dict[str, Any]:
    """An account with its balances as the trading server reports them now."""
    with platform_call("account_state"):
        state = platform_for(settings, account["server"]).account_state(int(account["login"]))
    return {
        "id": int(account["id"]),
        "account": str(account["login"]),
        "balance": f"{state.balance.quantize(CENT)}",
        "credit": f"{state.credit.quantize(CENT)}",
        "equity": f"{state.equity.quantize(CENT)}",
        "margin_level": f"{state.margin_level.quantize(CENT)}",
        "currency": account["currency"],
        "is_demo": bool(account["is_demo"]),
        "leverage": int(account["leverage"]),
        "server_name": server_name(account["server"]),
        "trading_account_type_name": account["type_name"],
        "trading_platform": account["trading_platform"],
    }


def detail(settings: Settings, principal: Principal, account_id: int) -> dict[str, Any]:
    return view(settings, _owned(principal, account_id))


def _my_accounts(principal: Principal) -> list[dict[str, Any]]:
    require_view(principal)
    entries = dal.list_user_account_ids(principal.user_id)
    accounts = dal.get_trading_accounts([int(e["account_id"]) for e in entries])
    return sorted(accounts, key=lambda a: int(a["id"]), reverse=True)  # newest first


def list_accounts(
    settings: Settings, principal: Principal, is_demo: bool | None, page: int, size: int
) -> dict[str, Any]:
    """Newest first. The owner entries (small, one Query: a user's own
    accounts) give the order, the demo filter and the total; only the page's
    accounts are read (one BatchGetItem) and asked of the trading server."""
    require_view(principal)
    entries = sorted(
        (
            e
            for e in dal.list_user_account_ids(principal.user_id)
            if is_demo is None or bool(e.get("is_demo")) == is_demo
        ),
        key=lambda e: int(e["account_id"]),
        reverse=True,
    )
    shown = [int(e["account_id"]) for e in _page(entries, page, size)]
    found = {int(a["id"]): a for a in dal.get_trading_accounts(shown)} if shown else {}
    return {"list": [view(settings, found[i]) for i in shown if i in found], "total": len(entries)}


def change_password(settings: Settings, principal: Principal, account_id: int, kind: str, password: str) -> None:
    account = _owned(principal, account_id)
    check_platform_password(password, "password")
    with platform_call("change_password"):
        platform_for(settings, account["server"]).change_password(
            int(account["login"]), "main" if kind == "trade" else "investor", password
        )


def balances(settings: Settings, principal: Principal, record_types: set[str]) -> dict[str, Any]:
    """The accounts a deposit, withdrawal or transfer may use: live ones of
    these record types (demo accounts hold demo funds; funding refuses them)."""
    rows = [a for a in _my_accounts(principal) if not a["is_demo"] and a.get("record_type", "normal") in record_types]
    out = []
    for account in rows:
        shown = view(settings, account)
        out.append(
            {
                "trading_account_id": shown["id"],
                "trading_account": shown["account"],
                "balance": shown["balance"],
                "server_name": shown["server_name"],
                "server_type": account["server"],
            }
        )
    return {"list": out, "total": len(out)}


def platform_downloads(portal: str) -> dict[str, Any]:
    rows = (settings_items.get_setting(f"platform_downloads_{portal}") or {}).get("list", [])
    return {"list": rows, "total": len(rows)}


def save_account_type(
    staff: Principal, platform: str, is_demo: bool, type_id: int, config: dict[str, Any], source_ip: str, now: int
) -> dict[str, Any]:
    """Create or change an account type (audited). Accounts opened before keep
    the type they were opened with."""
    from fxcrm import audit

    permissions.require(staff, "admin.settings.trading")
    before = dal.get_account_type(platform, type_id, is_demo)
    account_type = {
        "id": type_id,
        "name": config["name"],
        "is_demo": is_demo,
        "trading_platform": platform,
        "record_type": config["record_type"],
        "group": config["group"],
        "leverage_options": [{"id": i + 1, "value": v} for i, v in enumerate(sorted(set(config["leverages"])))],
    }
    dal.put_account_type(account_type)
    audit.record(
        staff,
        "settings.account_type",
        f"account_type:{platform}:{type_id}",
        source_ip,
        now,
        before=plain(before) if before else {},
        after=account_type,
    )
    return account_type
