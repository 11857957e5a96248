"""Live-account applications: a client applies, staff approve through the
approval workflow, and the account is then opened on the trading server.

The application's id becomes the account's id (`application_account_id`).
Its trading passwords wait sealed with KMS on the approval item and are
dropped once the flow closes it; they are never stored in plain text."""

from typing import Any

from fxcrm.adapters import sealing
from fxcrm.adapters.trading.servers import server_for, server_name
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import ApprovalItem, Kind
from fxcrm.core import ids
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, NotFound
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import trading as dal
from fxcrm.mail import sender as mail
from fxcrm.trading import accounts
from fxcrm.trading.accounts import Application

KIND: Kind = "account_opening"


def _context(approval_id: int) -> dict[str, str]:
    return {"approval_id": str(approval_id), "purpose": KIND}


def apply(
    settings: Settings, principal: Principal, application: Application, now: int, timeout_seconds: int | None = None
) -> int:
    """Validate, seal the passwords and submit for staff approval. Returns the
    application id, which the account will carry once opened."""
    account_type = accounts.validate_application(principal, application, False)
    application_id = ids.new_id()
    sealed = sealing.seal(
        settings.sealing_key_id,
        {"password": application.password, "observe_password": application.observe_password},
        _context(application_id),
    )
    summary = {
        "trading_platform": application.trading_platform,
        "trading_account_type_id": application.trading_account_type_id,
        "trading_account_type_name": account_type["name"],
        "leverage": application.leverage,
        "currency": application.currency,
        "server_type": server_for(application.trading_platform, False),
    }
    workflow.submit(settings, KIND, application_id, principal, summary, now, sealed, timeout_seconds)
    logger.info("live account application submitted", extra={"application_id": application_id})
    return application_id


def open_approved(settings: Settings, approval_id: int, now: int) -> dict[str, Any]:
    """The flow's step after approval: open the account, record it, close the
    application. Safe to retry: a login already created is reused."""
    approval = approvals_dal.get_approval(approval_id)
    if approval is None or approval.kind != KIND:
        raise NotFound("no such application", "approval_id")
    if approval.status == "completed":
        return {"login": approval.login}
    if approval.status != "approved" or approval.sealed is None:
        raise Conflict(f"the application is {approval.status}", "approval_id")
    summary = approval.summary
    account_type = dal.get_account_type(summary["trading_platform"], int(summary["trading_account_type_id"]), False)
    if account_type is None:
        raise NotFound("the account type was removed after the application", "trading_account_type_id")
    secret = sealing.unseal(settings.sealing_key_id, approval.sealed, _context(approval_id))
    application = Application(
        summary["trading_platform"],
        int(summary["trading_account_type_id"]),
        int(summary["leverage"]),
        summary["currency"],
        secret["password"],
        secret.get("observe_password"),
    )
    server = server_for(application.trading_platform, False)
    existing = dal.get_trading_account(approval_id)
    if existing is not None:
        login = int(existing["login"])
    elif approval.login is not None:
        login = approval.login  # created by an earlier attempt that stopped before recording it
    else:
        login = accounts.create_on_platform(settings, server, account_type, approval.email, application)
        approvals_dal.set_fields(approval_id, {"login": login})
    if existing is None:
        accounts.record_account(approval_id, approval.user_id, application, account_type, server, login, False, now)
    workflow.close(approval_id, "completed", now, {"login": login})
    opened = {"application": approval_id, "platform": application.trading_platform, "login": login}
    mail.send(
        settings,
        approval.email,
        "live_account_opened",
        opened | {"server": server_name(server)},
        user_id=approval.user_id,
    )
    logger.info("live account opened", extra={"application_id": approval_id, "login": login})
    return {"login": login}


def notify_closed(settings: Settings, approval: ApprovalItem) -> None:
    """Tell the client an application ended without an account."""
    outcome = approval.status
    if outcome not in ("rejected", "expired", "failed"):
        return
    values: dict[str, Any] = {"application": approval.id}
    if outcome == "rejected":
        values["reason"] = approval.reason or ""
    mail.send(
        settings,
        approval.email,
        f"live_account_{outcome}",
        values,
        user_id=approval.user_id,
        outcome="rejected" if outcome == "rejected" else None,
    )


def list_mine(principal: Principal, page: int, size: int) -> dict[str, Any]:
    """The caller's applications, newest first, with their status and any reason."""
    accounts.require_view(principal)
    rows = approvals_dal.user_approvals_page(principal.user_id, KIND, page, size)
    shown = [
        {
            "application_account_id": int(a["id"]),
            "status": a["status"],
            "reason": a.get("reason", "") if a["status"] == "rejected" else "",
            "trading_platform": a["summary"]["trading_platform"],
            "trading_account_type_name": a["summary"]["trading_account_type_name"],
            "leverage": int(a["summary"]["leverage"]),
            "currency": a["summary"]["currency"],
            "account": str(a["login"]) if a["status"] == "completed" else "",
            "created_at": int(a["created_at"]),
        }
        for a in rows
    ]
    return {"list": shown, "total": approvals_dal.count_user_approvals(principal.user_id, KIND)}
