"""Staff work the approval console in a real browser: log in with TOTP,
approve a deposit a client submitted (the client's balance rises), reject
one with a reason (the client sees it), and a support agent cannot approve."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.e2e.conftest import RunningCloud

# a 1x1 PNG: the receipt preview is an <img>
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5dd0c6d0000000049454e44ae426082"
)


def _wait(read: Any, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (row := read())["status"] != status:
        assert time.monotonic() < deadline, f"still {row['status']}"
        time.sleep(0.2)
    return dict(row)


class Client:
    """client1 (approved KYC) over the API, with a live account."""

    def __init__(self, cloud: RunningCloud) -> None:
        self.cloud = cloud
        self.http = cloud.client()
        token = cloud.login("client1@broker.example.com", "Client-demo-2026").json()["token"]
        self.auth = {"Authorization": f"Bearer {token}"}
        staff = {"Authorization": f"Bearer {cloud.staff_token('admin@broker.example.com', 'Admin-demo-2026')}"}
        live = {
            "currency": "USD",
            "leverage": 100,
            "password": "Live-Pass1",
            "trading_account_type_id": 202,
            "trading_platform": "MT5",
        }
        self.account = self.http.post("/trading-accounts/applications", json=live, headers=self.auth).json()[
            "application_account_id"
        ]
        _wait(lambda: self.http.get(f"/admin/approvals/{self.account}", headers=staff).json(), "waiting")
        self.http.post(f"/admin/approvals/{self.account}/decision", json={"decision": "approve"}, headers=staff)
        _wait(lambda: self.http.get(f"/admin/approvals/{self.account}", headers=staff).json(), "completed")

    def deposit(self, amount: str) -> str:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"deposit_amount": amount, "remittance_id": 1, "trading_account_id": self.account}
        number = self.http.post("/funding/deposits", json=body, headers=self.auth | key).json()["order_number"]
        form = self.http.post(
            f"/funding/deposits/{number}/receipt-upload", json={"content_type": "image/png"}, headers=self.auth
        ).json()
        httpx.post(form["url"], data=form["fields"], files={"file": ("receipt.png", PNG, "image/png")}, timeout=30)
        submit = {"order_number": number, "receipt_url": form["key"]}
        assert (
            self.http.post(
                "/funding/deposits/submit", json=submit, headers=self.auth | {"Idempotency-Key": str(uuid.uuid4())}
            ).status_code
            == 200
        )
        return str(number)

    def deposit_row(self, number: str) -> dict[str, Any]:
        return dict(
            next(
                r
                for r in self.http.get("/funding/deposits", headers=self.auth).json()["list"]
                if r["order_number"] == number
            )
        )

    def balance(self) -> str:
        return str(self.http.get(f"/trading-accounts/{self.account}", headers=self.auth).json()["balance"])


@pytest.fixture(scope="module")
def client(cloud: RunningCloud) -> Iterator[Client]:
    made = Client(cloud)
    yield made
    made.http.close()


def _new_staff(cloud: RunningCloud, role: str) -> tuple[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:6]}@broker.example.com"
    admin = {"Authorization": f"Bearer {cloud.staff_token('admin@broker.example.com', 'Admin-demo-2026')}"}
    body = {
        "email": email,
        "role": role,
        "first_name": "Console",
        "last_name": role.title(),
        "password": "Staff-pass-1",
    }
    assert httpx.post(f"{cloud.url}/admin/staff", json=body, headers=admin, timeout=30).status_code == 201
    return email, "Staff-pass-1"


def _log_in(page: Any, cloud: RunningCloud, email: str, password: str, shot: str) -> None:
    """Password, then the first-login enrolment: scan (here: read) the key, type a code."""
    page.goto(f"{cloud.url}/admin/console")
    page.fill("#login-form input[name=email]", email)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#qr[src^='data:image/svg+xml']")
    secret = page.inner_text("#secret")
    page.screenshot(path=SCREENSHOTS / f"{shot}-enrol.png")
    page.fill("#mfa-form input[name=code]", "000000")
    page.click("#mfa-form button[type=submit]")
    page.wait_for_selector("#mfa-error:has-text('wrong')")  # a wrong code is said where it happened
    page.fill("#mfa-form input[name=code]", pyotp.TOTP(secret).now())
    page.click("#mfa-form button[type=submit]")
    page.wait_for_selector("#recovery-codes li")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#recovery-done")
    page.wait_for_selector("#queue:not([hidden])")


def _open(page: Any, number: str) -> None:
    page.select_option("#kind", "deposit")
    page.click("#refresh")
    page.click(f"#queue-rows tr[data-id='{number[1:]}']")
    page.wait_for_selector(f"#detail-title:has-text('{number}')")


def test_finance_approves_a_deposit_and_the_balance_rises(browser: Any, cloud: RunningCloud, client: Client) -> None:
    number = client.deposit("250.00")
    before = client.balance()
    page = browser.new_page()
    _log_in(page, cloud, *_new_staff(cloud, "finance"), "finance")
    _open(page, number)
    # the receipt, shown through its short-lived link
    page.wait_for_function("document.querySelector('#receipt img')?.naturalWidth > 0")
    assert "client1@broker.example.com" in page.inner_text("#detail-fields")
    assert "approved" in page.inner_text("#detail-fields")  # the client's KYC state
    page.screenshot(path=SCREENSHOTS / "finance-detail.png", full_page=True)
    assert "task_token" not in page.content() and "taskToken" not in page.content()  # never on the page
    page.click("#approve")
    page.wait_for_selector("#decision-notice:has-text('Done')")
    page.screenshot(path=SCREENSHOTS / "finance-approved.png", full_page=True)
    _wait(lambda: client.deposit_row(number), "approved")
    assert float(client.balance()) == float(before) + 250
    page.close()


def test_a_rejection_needs_a_reason_and_the_client_sees_it(browser: Any, cloud: RunningCloud, client: Client) -> None:
    number = client.deposit("120.00")
    page = browser.new_page()
    _log_in(page, cloud, *_new_staff(cloud, "finance"), "finance-reject")
    _open(page, number)
    page.click("#reject")
    page.wait_for_selector("#decision-error:has-text('Say why')")
    page.fill("#decision textarea[name=reason]", "The receipt shows another name")
    page.click("#reject")
    page.wait_for_selector("#decision-notice:has-text('Done')")
    page.screenshot(path=SCREENSHOTS / "finance-rejected.png", full_page=True)
    row = _wait(lambda: client.deposit_row(number), "disapproved")
    assert row["remark"] == "The receipt shows another name"
    page.close()


def test_a_support_agent_cannot_approve(browser: Any, cloud: RunningCloud, client: Client) -> None:
    number = client.deposit("80.00")
    page = browser.new_page()
    _log_in(page, cloud, *_new_staff(cloud, "support"), "support")
    _open(page, number)
    page.click("#approve")
    page.wait_for_selector("#decision-error:has-text('role')")
    page.screenshot(path=SCREENSHOTS / "support-refused.png", full_page=True)
    assert client.deposit_row(number)["status"] == "auditing"
    page.close()


def test_compliance_reviews_a_kyc_with_its_documents(browser: Any, cloud: RunningCloud) -> None:
    from tests.e2e.test_kyc import _register, _save, _upload

    with cloud.client() as http:
        user = _register(cloud, http)
        identity = {
            "first_name": "Nia",
            "last_name": "Okafor",
            "full_name": f"Nia Okafor {uuid.uuid4().hex[:4]}",
            "gender": "female",
            "birthday": "1991-07-01",
            "country": "NG",
        }
        modules = {
            "identity": identity,
            "contact": {
                "contact_phone": "+2348012345678",
                "residential_address": "4 Marina, Lagos",
                "residence_province": "Lagos",
                "postal_code": "101001",
            },
            "authentication_accessory": {"address_proof": _upload(http, user, PNG + uuid.uuid4().bytes, "image/png")},
            "authentication": {
                "identification_type": "passport",
                "passport": _upload(http, user, PNG + uuid.uuid4().bytes, "image/png"),
            },
            "agreement": {"client_agreement": True, "risk_disclosure": True, "privacy_policy": True},
        }
        for module, data in modules.items():
            assert _save(http, user, module, data).status_code == 200
        answers = [
            {"question_id": 1, "answer": "none"},
            {"question_id": 2, "answer": "yes"},
            {"question_id": 4, "answer": "lt25k"},
        ]
        http.post("/kyc/questionnaire-answers", json={"questionnaire_id": 1, "answers": answers}, headers=user)
        review = http.post("/kyc/submission", headers=user).json()["review_id"]
        staff = {"Authorization": f"Bearer {cloud.staff_token('admin@broker.example.com', 'Admin-demo-2026')}"}
        _wait(lambda: http.get(f"/admin/approvals/{review}", headers=staff).json(), "waiting")

        page = browser.new_page()
        _log_in(page, cloud, *_new_staff(cloud, "compliance"), "compliance")
        page.select_option("#kind", "kyc")
        page.click("#refresh")
        page.click(f"#queue-rows tr[data-id='{review}']")
        page.wait_for_selector("#kyc-answers")
        assert identity["full_name"] in page.inner_text("#detail-fields")
        assert "none found" in page.inner_text("#detail-fields")  # the duplicates check
        assert "identity · birthday" in page.inner_text("#kyc-answers")
        page.wait_for_function("[...document.querySelectorAll('#receipt figure img')].every(i => i.naturalWidth > 0)")
        assert page.locator("#receipt figure").count() == 2
        page.screenshot(path=SCREENSHOTS / "compliance-kyc.png", full_page=True)
        page.click("#approve")
        page.wait_for_selector("#decision-notice:has-text('Done')")
        _wait(lambda: {"status": http.get("/kyc", headers=user).json()["kyc_status"]}, "approved")
        # the name given in KYC is the client's name in the back office
        page.click("#nav button[data-view=users]")
        page.click("#user-search button[type=submit]")
        page.click(f"#user-rows tr:has-text('{identity['full_name']}')")
        page.wait_for_selector(f"#user-detail dd:has-text('{identity['full_name']}')")
        page.close()
