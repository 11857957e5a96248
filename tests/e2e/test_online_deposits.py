"""Online deposits over HTTP on the local cloud: the client pays on the
stand-in payment page, whose form sends the provider's signed callback, and
sees the balance rise without staff; the same callback sent again, ten times
at once, credits nothing more; a forged callback credits nothing."""

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from tests.support.demo import ADMIN, CLIENT1
from tests.support.http_journeys import RunningCloud, open_live_account, request_crypto_withdrawal, wait_for

ONLINE = 4  # the seeded online channel
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _draft(http: httpx.Client, client: dict[str, str], account: int, amount: str) -> dict[str, Any]:
    draft = http.post(
        "/funding/deposits",
        json={"deposit_amount": amount, "remittance_id": ONLINE, "trading_account_id": account},
        headers=client | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert draft.status_code == 201, draft.text
    return dict(draft.json())


def _balance(http: httpx.Client, client: dict[str, str], account: int) -> Decimal:
    return Decimal(http.get(f"/trading-accounts/{account}", headers=client).json()["balance"])


def test_an_online_deposit_is_credited_once_through_the_stand_in_page(cloud: RunningCloud) -> None:
    client = cloud.headers(*CLIENT1)
    with cloud.client() as http:
        account = open_live_account(cloud, http, client)
        draft = _draft(http, client, account, "250.00")
        assert draft["pay_type"] == "online" and draft["pay_url"].startswith(cloud.url)
        number = draft["order_number"]

        page = http.get(draft["pay_url"])  # looking at the page pays nothing
        assert page.status_code == 200 and "250.00 USD" in page.text
        found = re.search(r'name="token" value="([0-9a-f]{64})"', page.text)
        assert found
        assert _balance(http, client, account) == 0

        form = f"outcome=pay&token={found.group(1)}"
        paid = http.post(draft["pay_url"], content=form, headers=FORM)
        assert paid.status_code == 303 and number in paid.headers["location"]
        assert _balance(http, client, account) == Decimal("250.00")  # no staff step
        row = next(
            r for r in http.get("/funding/deposits", headers=client).json()["list"] if r["order_number"] == number
        )
        assert row["status"] == "approved"

        # the stand-in sends the same signed callback again, ten times at once
        with ThreadPoolExecutor(max_workers=10) as pool:
            again = list(
                pool.map(lambda _: httpx.post(draft["pay_url"], content=form, headers=FORM, timeout=30), range(10))
            )
        assert all(r.status_code == 303 for r in again)
        assert _balance(http, client, account) == Decimal("250.00")

        # a forged callback for a new order credits nothing
        other = _draft(http, client, account, "90.00")
        forged = {
            "payment_id": 1,
            "payment_status": "finished",
            "order_id": other["order_number"],
            "price_amount": 90.0,
            "price_currency": "usd",
        }
        refused = http.post(
            "/funding/psp/callback",
            content=json.dumps(forged),
            headers={"x-nowpayments-sig": "0" * 128, "Content-Type": "application/json"},
        )
        assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
        assert _balance(http, client, account) == Decimal("250.00")
        mails = httpx.get(f"{cloud.url}/_dev/mailbox", params={"to": CLIENT1[0]}, timeout=10).json()
        assert sum(number in m["body"] and "credited" in m["subject"] for m in mails) == 1


def _pay_on_page(http: httpx.Client, url: str, outcome: str) -> httpx.Response:
    page = http.get(url)
    assert page.status_code == 200, page.text
    found = re.search(r'name="token" value="([0-9a-f]{64})"', page.text)
    assert found
    return http.post(url, content=f"outcome={outcome}&token={found.group(1)}", headers=FORM)


def _withdraw(cloud: RunningCloud, http: httpx.Client, client: dict[str, str], account: int, amount: str) -> str:
    reply = request_crypto_withdrawal(cloud, http, client, CLIENT1[0], account, amount, 14)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["order_number"])


def test_a_withdrawal_to_the_psp_channel_is_paid_and_a_failed_payout_restores_the_balance(cloud: RunningCloud) -> None:
    client = cloud.headers(*CLIENT1)
    staff = cloud.staff_headers(*ADMIN)
    with cloud.client() as http:
        account = open_live_account(cloud, http, client)
        funded = _draft(http, client, account, "500.00")
        assert _pay_on_page(http, funded["pay_url"], "pay").status_code == 303
        assert _balance(http, client, account) == Decimal("500.00")
        user_id = http.get("/admin/users", params={"email": CLIENT1[0]}, headers=staff).json()["list"][0]["id"]

        def row(number: str) -> dict[str, Any]:
            rows = http.get("/funding/withdrawals", headers=client).json()["list"]
            return dict(next(r for r in rows if r["order_number"] == number))

        def payout_page(number: str) -> str:
            """The staff view of the order names the provider's payout (the stand-in's page)."""
            orders = http.get(f"/admin/users/{user_id}", headers=staff).json()["orders"]
            order = next(o for o in orders if o["order_number"] == number)
            assert order["psp_payout_status"] == "WAITING"
            return f"{cloud.url}/funding/psp/local/{order['psp_payout_id']}"

        for amount, outcome, balance, status in (
            ("200.00", "pay", "300.00", "approved"),
            ("100.00", "fail", "300.00", "disapproved"),
        ):
            number = _withdraw(cloud, http, client, account, amount)
            item = f"/admin/approvals/{number[1:]}"
            wait_for(lambda item=item: http.get(item, headers=staff).json(), "waiting")
            decided = http.post(f"/admin/approvals/{number[1:]}/decision", json={"decision": "approve"}, headers=staff)
            assert decided.status_code == 200, decided.text
            wait_for(lambda item=item: http.get(item, headers=staff).json(), "completed")
            assert row(number)["status"] == "auditing"  # with the provider
            assert _pay_on_page(http, payout_page(number), outcome).status_code == 303
            assert row(number)["status"] == status
            assert _balance(http, client, account) == Decimal(balance)
