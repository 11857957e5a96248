"""Live-account applications through the real approval workflow: the Accounts
handler starts the account-opening state machine, moto's interpreter runs its
ASL, its tasks reach the ApprovalTasks handler, and staff decide through the
Admin handler."""

import json
import time
from typing import Any

import boto3
import pytest

from tests.support.api import ApiClient
from tests.support.demo import SUPPORT
from tests.support.journeys import approve_kyc, decide, register, staff_token, unique_email, wait_for, wait_for_mail

LIVE = {
    "currency": "USD",
    "leverage": 200,
    "password": "Live-Pass1",
    "observe_password": "Look-Pass2",
    "trading_account_type_id": 202,
    "trading_platform": "MT5",
}


@pytest.fixture
def applicant(api: ApiClient) -> dict[str, Any]:
    """A fresh client whose KYC is approved."""
    email = unique_email("live")
    registered = register(api, email)
    approve_kyc(int(registered["user_info"]["id"]))
    return {"email": email, "token": registered["token"], "id": int(registered["user_info"]["id"])}


def _apply(api: ApiClient, token: str, **overrides: Any) -> int:
    reply = api.post("/trading-accounts/applications", LIVE | overrides, token=token)
    assert reply.status == 201, reply.body
    return int(reply.json()["application_account_id"])


def _application(api: ApiClient, token: str, application_id: int) -> dict[str, Any]:
    rows = api.get("/trading-accounts/applications", token=token).json()["list"]
    return next(r for r in rows if r["application_account_id"] == application_id)


def _wait_for(api: ApiClient, token: str, application_id: int, status: str) -> dict[str, Any]:
    return wait_for(lambda: _application(api, token, application_id), status)


def _shown(epoch: Any) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S")


def _raw_item(application_id: int) -> dict[str, Any]:
    """The approval item as the table holds it."""
    from fxcrm.dal.table import Table

    item = Table().get(f"APPROVAL#{application_id}", "APPROVAL")
    assert item is not None
    return item


def test_approved_application_opens_the_account_with_the_application_id(
    api: ApiClient, admin: str, applicant: dict[str, Any]
) -> None:
    token = applicant["token"]
    application_id = _apply(api, token)
    assert api.get(f"/trading-accounts/{application_id}", token=token).status == 404  # not open yet
    _wait_for(api, token, application_id, "waiting")

    queue = api.get("/admin/approvals?kind=account_opening", token=admin).json()
    item = next(i for i in queue["list"] if i["id"] == application_id)
    assert item["email"] == applicant["email"] and item["summary"]["leverage"] == 200
    assert item["summary"]["trading_account_type_name"] == "Standard" and item["age_seconds"] >= 0
    listed = json.dumps(queue)
    assert "task_token" not in listed and "sealed" not in listed and "Live-Pass1" not in listed

    decided = decide(api, admin, application_id, "approve")
    assert decided.status == 200, decided.body
    assert decided.json()["status"] in ("approved", "completed")
    row = _wait_for(api, token, application_id, "completed")

    account = api.get(f"/trading-accounts/{application_id}", token=token).json()
    assert account["is_demo"] is False and account["balance"] == "0.00" and account["leverage"] == 200
    assert account["account"] == row["account"] and account["server_name"] == "fxcrm-MT5-Live"
    wait_for_mail(applicant["email"], subject="is open")
    # the sealed passwords and the task token are gone once the flow closes the item
    assert not {"sealed", "task_token"} & set(_raw_item(application_id))

    again = decide(api, admin, application_id, "reject", "changed my mind")
    assert again.status == 409 and again.json()["code"] == "not_waiting"
    trail = api.get(f"/admin/approvals/{application_id}", token=admin).json()
    assert trail["decided_by_email"] == "admin@broker.example.com" and trail["status"] == "completed"
    # one time format on the wire: the seed's, in the broker's zone (UTC here)
    stored = _raw_item(application_id)
    assert row["created_at"] == _shown(stored["created_at"])
    assert (trail["created_at"], trail["decided_at"]) == (_shown(stored["created_at"]), _shown(stored["decided_at"]))

    from fxcrm.dal.audit import trail as audit_trail

    entries = audit_trail(f"approval:{application_id}")
    assert [e["action"] for e in entries] == ["approval.approve"]
    assert entries[0]["actor_email"] == "admin@broker.example.com" and entries[0]["source_ip"]


def test_a_live_account_through_the_apply_endpoint_is_an_application_too(
    api: ApiClient, applicant: dict[str, Any]
) -> None:
    reply = api.post("/trading-accounts", LIVE | {"is_demo": False}, token=applicant["token"])
    assert reply.status == 201
    row = _wait_for(api, applicant["token"], int(reply.json()["id"]), "waiting")
    assert row["trading_platform"] == "MT5" and row["account"] == ""


def test_rejection_needs_a_reason_which_the_client_then_sees(
    api: ApiClient, admin: str, applicant: dict[str, Any]
) -> None:
    token = applicant["token"]
    application_id = _apply(api, token)
    _wait_for(api, token, application_id, "waiting")
    missing = decide(api, admin, application_id, "reject", "  ")
    assert missing.status == 422 and missing.json()["field"] == "reason"

    rejected = decide(api, admin, application_id, "reject", "Proof of address is out of date")
    assert rejected.status == 200 and rejected.json()["status"] == "rejected"
    row = _wait_for(api, token, application_id, "rejected")
    assert row["reason"] == "Proof of address is out of date"
    wait_for_mail(applicant["email"], body="Proof of address")  # sent once the flow closed the item
    assert api.get(f"/trading-accounts/{application_id}", token=token).status == 404
    assert decide(api, admin, application_id, "approve").status == 409


def test_only_staff_with_the_right_role_decide(api: ApiClient, applicant: dict[str, Any]) -> None:
    application_id = _apply(api, applicant["token"])
    _wait_for(api, applicant["token"], application_id, "waiting")
    support = staff_token(api, *SUPPORT)
    assert api.get("/admin/approvals", token=support).status == 200  # support may look
    refused = decide(api, support, application_id, "approve")
    assert refused.status == 403
    client = decide(api, applicant["token"], application_id, "approve")
    assert client.status == 403 and client.json()["code"] == "staff_only"
    assert api.get(f"/admin/approvals/{application_id}", token=applicant["token"]).status == 403
    assert _application(api, applicant["token"], application_id)["status"] == "waiting"


def test_an_application_nobody_decides_expires_and_cannot_be_approved_later(
    api: ApiClient, admin: str, applicant: dict[str, Any]
) -> None:
    from fxcrm.core.caller import Principal
    from fxcrm.core.settings import get_settings
    from fxcrm.trading import applications
    from fxcrm.trading.accounts import Application

    owner = Principal(applicant["id"], "client", "client", applicant["email"])
    application = Application("MT5", 202, 200, "USD", "Live-Pass1", None)
    application_id = applications.apply(get_settings(), owner, application, int(time.time()), timeout_seconds=1)
    _wait_for(api, applicant["token"], application_id, "expired")
    late = decide(api, admin, application_id, "approve")
    assert late.status == 409
    assert api.get(f"/trading-accounts/{application_id}", token=applicant["token"]).status == 404
    wait_for_mail(applicant["email"], body="not reviewed in time")


def test_an_account_that_cannot_be_opened_ends_failed_and_the_client_is_told(
    api: ApiClient, admin: str, applicant: dict[str, Any]
) -> None:
    """The failure path of the flow: the account type disappears between the
    application and the approval, so opening fails and the flow closes it."""
    from fxcrm.dal import trading

    account_type = trading.get_account_type("MT5", 203, False)
    assert account_type is not None
    application_id = _apply(api, applicant["token"], trading_account_type_id=203)
    _wait_for(api, applicant["token"], application_id, "waiting")
    table = boto3.resource("dynamodb").Table(_table_name())
    table.delete_item(Key={"pk": "ACCTYPE#MT5", "sk": "live#203"})
    try:
        assert decide(api, admin, application_id, "approve").status == 200
        _wait_for(api, applicant["token"], application_id, "failed")
    finally:
        trading.put_account_type(account_type)
    wait_for_mail(applicant["email"], body="could not open the account")
    assert api.get(f"/trading-accounts/{application_id}", token=applicant["token"]).status == 404


def _table_name() -> str:
    from fxcrm.core.settings import get_settings

    return get_settings().table_name
