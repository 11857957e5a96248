"""Money over HTTP on the local cloud: a client with a live account deposits
with a receipt uploaded straight to S3 by its presigned POST, staff approve
and the balance rises; a withdrawal staff reject comes back with the reason;
the ledger command finds the books balanced."""

import json
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from localcloud.template import ROOT
from tests.e2e.conftest import RunningCloud

PDF = b"%PDF-1.4\n% receipt\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _wait(read: Any, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (row := read())["status"] != status:
        assert time.monotonic() < deadline, f"still {row['status']}"
        time.sleep(0.2)
    return dict(row)


def test_deposit_approve_withdraw_reject_and_verify_the_ledger(cloud: RunningCloud) -> None:
    client = {
        "Authorization": f"Bearer {cloud.login('client1@broker.example.com', 'Client-demo-2026').json()['token']}"
    }
    staff = {"Authorization": f"Bearer {cloud.staff_token('admin@broker.example.com', 'Admin-demo-2026')}"}
    with cloud.client() as http:
        # a live account, through the opening workflow
        applied = http.post(
            "/trading-accounts/applications",
            json={
                "currency": "USD",
                "leverage": 100,
                "password": "Live-Pass1",
                "trading_account_type_id": 202,
                "trading_platform": "MT5",
            },
            headers=client,
        ).json()["application_account_id"]
        _wait(lambda: http.get(f"/admin/approvals/{applied}", headers=staff).json(), "waiting")
        http.post(f"/admin/approvals/{applied}/decision", json={"decision": "approve"}, headers=staff)
        _wait(lambda: http.get(f"/admin/approvals/{applied}", headers=staff).json(), "completed")

        # deposit: draft, upload the receipt to S3 directly, submit, approve
        draft = http.post(
            "/funding/deposits",
            json={"deposit_amount": "750.00", "remittance_id": 1, "trading_account_id": applied},
            headers=client | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert draft.status_code == 201, draft.text
        number = draft.json()["order_number"]
        assert "IBAN" in draft.json()["pay_data"] and number in draft.json()["pay_data"]
        form = http.post(
            f"/funding/deposits/{number}/receipt-upload", json={"content_type": "application/pdf"}, headers=client
        ).json()
        uploaded = httpx.post(
            form["url"], data=form["fields"], files={"file": ("receipt.pdf", PDF, "application/pdf")}, timeout=30
        )
        assert uploaded.status_code in (200, 201, 204), uploaded.text
        submitted = http.post(
            "/funding/deposits/submit",
            json={"order_number": number, "receipt_url": form["key"]},
            headers=client | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert submitted.json() == {"order_number": number, "status": "auditing"}
        # The form works until it expires: other bytes posted after the submit are never shown.
        forged = b"%PDF-1.4\n% a forged receipt for ten times the amount\n%%EOF\n"
        reposted = httpx.post(
            form["url"], data=form["fields"], files={"file": ("receipt.pdf", forged, "application/pdf")}, timeout=30
        )
        assert reposted.status_code in (200, 201, 204), reposted.text
        order_id = int(number[1:])
        item = _wait(lambda: http.get(f"/admin/approvals/{order_id}", headers=staff).json(), "waiting")
        assert httpx.get(item["receipt_link"], timeout=30).content == PDF  # the reviewer sees the checked receipt
        support = {"Authorization": f"Bearer {cloud.staff_token('support@broker.example.com', 'Support-demo-2026')}"}
        assert (
            http.post(
                f"/admin/approvals/{order_id}/decision", json={"decision": "approve"}, headers=support
            ).status_code
            == 403
        )
        assert (
            http.post(f"/admin/approvals/{order_id}/decision", json={"decision": "approve"}, headers=staff).status_code
            == 200
        )

        def deposit_row() -> dict[str, Any]:
            return next(
                r for r in http.get("/funding/deposits", headers=client).json()["list"] if r["order_number"] == number
            )

        _wait(deposit_row, "approved")
        assert http.get(f"/trading-accounts/{applied}", headers=client).json()["balance"] == "750.00"

        # withdrawal: code from the mailbox, the server's quote, then a rejection with a reason
        http.post(
            "/auth/email-codes",
            json={"email": "client1@broker.example.com", "received_at": int(time.time()), "scene": "withdrawal"},
            headers=client,
        )
        code = cloud.code_for("client1@broker.example.com")
        quote = http.get(
            "/funding/withdrawals/quote",
            params={"remittance_id": 13, "withdrawal_amount": "100.00", "currency": "USDT"},
            headers=client,
        ).json()
        withdrawal = http.post(
            "/funding/withdrawals",
            json={
                "cryptocurrency_info": {
                    "network": "TRC20",
                    "wallet_address": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
                    "currency": "USDT",
                },
                "currency": "USDT",
                "email_code": code,
                "method": "cryptocurrency",
                "remittance_id": 13,
                "trading_account_id": applied,
                "withdrawal_amount": "100.00",
                "fee": quote["fee"],
                "exchange_rate": quote["exchange_rate"],
                "remittance_amount": quote["remittance_amount"],
            },
            headers=client | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert withdrawal.status_code == 201, withdrawal.text
        w_number = withdrawal.json()["order_number"]
        _wait(lambda: http.get(f"/admin/approvals/{w_number[1:]}", headers=staff).json(), "waiting")
        assert http.get(f"/trading-accounts/{applied}", headers=client).json()["balance"] == "650.00"  # held
        http.post(
            f"/admin/approvals/{w_number[1:]}/decision",
            json={"decision": "reject", "reason": "Wallet not whitelisted"},
            headers=staff,
        )

        def withdrawal_row() -> dict[str, Any]:
            return next(
                r
                for r in http.get("/funding/withdrawals", headers=client).json()["list"]
                if r["order_number"] == w_number
            )

        assert _wait(withdrawal_row, "disapproved")["remark"] == "Wallet not whitelisted"
        assert http.get(f"/trading-accounts/{applied}", headers=client).json()["balance"] == "750.00"

    checked = subprocess.run(
        [sys.executable, "-m", "localcloud.verify_ledger", "--url", cloud.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["differences"] == [] and report["accounts"] >= 3 and report["transactions"] >= 2
