"""The approval workflow over HTTP on the local cloud: a client with approved
KYC applies for a live account, staff approve it, and the account opens."""

import time
from typing import Any

import httpx

from tests.e2e.conftest import RunningCloud

LIVE = {
    "currency": "USD",
    "leverage": 500,
    "password": "Live-Pass1",
    "trading_account_type_id": 103,
    "trading_platform": "MT4",
}


def _status(http: httpx.Client, token: str, application_id: int) -> dict[str, Any]:
    rows = http.get("/trading-accounts/applications", headers={"Authorization": f"Bearer {token}"}).json()["list"]
    return dict(next(r for r in rows if r["application_account_id"] == application_id))


def _wait(http: httpx.Client, token: str, application_id: int, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (row := _status(http, token, application_id))["status"] != status:
        assert time.monotonic() < deadline, f"still {row['status']}"
        time.sleep(0.2)
    return row


def _wait_for_mail(http: httpx.Client, to: str, text: str) -> None:
    """The flow mails the client after it closes the item, so the mail may
    arrive a moment after the status the client sees."""
    deadline = time.monotonic() + 30
    while not any(text in m["body"] for m in http.get("/_dev/mailbox", params={"to": to}).json()):
        assert time.monotonic() < deadline, f"no mail to {to} with {text}"
        time.sleep(0.2)


def test_staff_approve_a_live_application_and_the_account_opens(cloud: RunningCloud) -> None:
    client = cloud.login("client1@broker.example.com", "Client-demo-2026").json()["token"]
    admin = cloud.staff_token("admin@broker.example.com", "Admin-demo-2026")
    with cloud.client() as http:
        applied = http.post("/trading-accounts/applications", json=LIVE, headers={"Authorization": f"Bearer {client}"})
        assert applied.status_code == 201, applied.text
        application_id = applied.json()["application_account_id"]
        _wait(http, client, application_id, "waiting")

        staff = {"Authorization": f"Bearer {admin}"}
        queue = http.get("/admin/approvals", params={"kind": "account_opening"}, headers=staff).json()
        assert application_id in [item["id"] for item in queue["list"]]
        decided = http.post(f"/admin/approvals/{application_id}/decision", json={"decision": "approve"}, headers=staff)
        assert decided.status_code == 200, decided.text
        row = _wait(http, client, application_id, "completed")

        account = http.get(f"/trading-accounts/{application_id}", headers={"Authorization": f"Bearer {client}"}).json()
        assert account["is_demo"] is False and account["server_name"] == "fxcrm-MT4-Live"
        assert account["account"] == row["account"] and account["trading_account_type_name"] == "ECN"
        _wait_for_mail(http, "client1@broker.example.com", row["account"])
        twice = http.post(f"/admin/approvals/{application_id}/decision", json={"decision": "approve"}, headers=staff)
        assert twice.status_code == 409
