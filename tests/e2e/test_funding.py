"""Money over HTTP on the local cloud: a client with a live account deposits
with a receipt uploaded straight to S3 by its presigned POST, staff approve
and the balance rises; a withdrawal staff reject comes back with the reason;
the ledger command finds the books balanced."""

import json
import subprocess
import sys
import uuid
from typing import Any

import httpx

from localcloud.template import ROOT
from tests.support.demo import ADMIN, CLIENT1, SUPPORT
from tests.support.http_journeys import (
    RunningCloud,
    open_live_account,
    post_to_form,
    request_crypto_withdrawal,
    wait_for,
)

PDF = b"%PDF-1.4\n% receipt\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_deposit_approve_withdraw_reject_and_verify_the_ledger(cloud: RunningCloud) -> None:
    client = cloud.headers(*CLIENT1)
    staff = cloud.staff_headers(*ADMIN)
    with cloud.client() as http:
        applied = open_live_account(cloud, http, client)  # a live account, through the opening workflow

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
        post_to_form(form, PDF, "application/pdf", "receipt.pdf")
        submitted = http.post(
            "/funding/deposits/submit",
            json={"order_number": number, "receipt_url": form["key"]},
            headers=client | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert submitted.json() == {"order_number": number, "status": "auditing"}
        # The form works until it expires: other bytes posted after the submit are never shown.
        forged = b"%PDF-1.4\n% a forged receipt for ten times the amount\n%%EOF\n"
        post_to_form(form, forged, "application/pdf", "receipt.pdf")
        order_id = int(number[1:])
        item = wait_for(lambda: http.get(f"/admin/approvals/{order_id}", headers=staff).json(), "waiting")
        assert httpx.get(item["receipt_link"], timeout=30).content == PDF  # the reviewer sees the checked receipt
        support = cloud.staff_headers(*SUPPORT)
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

        wait_for(deposit_row, "approved")
        assert http.get(f"/trading-accounts/{applied}", headers=client).json()["balance"] == "750.00"

        # withdrawal: code from the mailbox, the server's quote, then a rejection with a reason
        withdrawal = request_crypto_withdrawal(cloud, http, client, CLIENT1[0], applied, "100.00", 13)
        assert withdrawal.status_code == 201, withdrawal.text
        w_number = withdrawal.json()["order_number"]
        wait_for(lambda: http.get(f"/admin/approvals/{w_number[1:]}", headers=staff).json(), "waiting")
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

        assert wait_for(withdrawal_row, "disapproved")["remark"] == "Wallet not whitelisted"
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
    # the client's account and the deposit's house account; the rejected withdrawal's house
    # legs (payout, fees) were never written: a reservation touches no house account (#20)
    assert report["differences"] == [] and report["accounts"] >= 2 and report["transactions"] >= 2
