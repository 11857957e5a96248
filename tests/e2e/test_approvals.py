"""The approval workflow over HTTP on the local cloud: a client with approved
KYC applies for a live account, staff approve it, and the account opens."""

from typing import Any

import httpx

from tests.support.demo import ADMIN, CLIENT1
from tests.support.http_journeys import RunningCloud, bearer, wait_for

LIVE = {
    "currency": "USD",
    "leverage": 500,
    "password": "Live-Pass1",
    "trading_account_type_id": 103,
    "trading_platform": "MT4",
}


def _status(http: httpx.Client, token: str, application_id: int) -> dict[str, Any]:
    rows = http.get("/trading-accounts/applications", headers=bearer(token)).json()["list"]
    return dict(next(r for r in rows if r["application_account_id"] == application_id))


def _wait(http: httpx.Client, token: str, application_id: int, status: str) -> dict[str, Any]:
    return wait_for(lambda: _status(http, token, application_id), status)


def test_staff_approve_a_live_application_and_the_account_opens(cloud: RunningCloud) -> None:
    client = cloud.login(*CLIENT1).json()["token"]
    admin = cloud.staff_token(*ADMIN)
    with cloud.client() as http:
        applied = http.post("/trading-accounts/applications", json=LIVE, headers=bearer(client))
        assert applied.status_code == 201, applied.text
        application_id = applied.json()["application_account_id"]
        _wait(http, client, application_id, "waiting")

        staff = bearer(admin)
        queue = http.get("/admin/approvals", params={"kind": "account_opening"}, headers=staff).json()
        assert application_id in [item["id"] for item in queue["list"]]
        decided = http.post(f"/admin/approvals/{application_id}/decision", json={"decision": "approve"}, headers=staff)
        assert decided.status_code == 200, decided.text
        row = _wait(http, client, application_id, "completed")

        account = http.get(f"/trading-accounts/{application_id}", headers=bearer(client)).json()
        assert account["is_demo"] is False and account["server_name"] == "fxcrm-MT4-Live"
        assert account["account"] == row["account"] and account["trading_account_type_name"] == "ECN"
        cloud.wait_for_mail(CLIENT1[0], row["account"])
        twice = http.post(f"/admin/approvals/{application_id}/decision", json={"decision": "approve"}, headers=staff)
        assert twice.status_code == 409
