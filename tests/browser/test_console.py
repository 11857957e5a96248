"""Staff work the approval console in a real browser: log in with TOTP,
approve a deposit a client submitted (the client's balance rises), reject
one with a reason (the client sees it), and a support agent cannot approve."""

from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.support.demo import ADMIN, CLIENT1
from tests.support.http_journeys import (
    RunningCloud,
    bearer,
    new_staff,
    open_live_account,
    register,
    submit_deposit,
    submit_kyc,
    wait_for,
)


class Client:
    """client1 (approved KYC) over the API, with a live account."""

    def __init__(self, cloud: RunningCloud) -> None:
        self.cloud = cloud
        self.http = cloud.client()
        self.auth = cloud.headers(*CLIENT1)
        self.account = open_live_account(cloud, self.http, self.auth)

    def deposit(self, amount: str) -> str:
        return submit_deposit(self.http, self.auth, self.account, amount)

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


def _staff_page(browser: Any, cloud: RunningCloud, role: str, shot: str) -> Any:
    """A new page on which a new staff member of `role` has logged in."""
    page = browser.new_page()
    _log_in(page, cloud, *new_staff(cloud, role, "Console"), shot)
    return page


def _deposit_opened(
    browser: Any, cloud: RunningCloud, client: "Client", amount: str, role: str, shot: str
) -> tuple[str, Any]:
    """A deposit the client submitted, opened in the queue by a new staff member of `role`: (number, page)."""
    number = client.deposit(amount)
    page = _staff_page(browser, cloud, role, shot)
    page.select_option("#kind", "deposit")
    page.click("#refresh")
    page.click(f"#queue-rows tr[data-id='{number[1:]}']")
    page.wait_for_selector(f"#detail-title:has-text('{number}')")
    return number, page


def test_finance_approves_a_deposit_and_the_balance_rises(browser: Any, cloud: RunningCloud, client: Client) -> None:
    before = client.balance()
    number, page = _deposit_opened(browser, cloud, client, "250.00", "finance", "finance")
    # the receipt, shown through its short-lived link
    page.wait_for_function("document.querySelector('#receipt img')?.naturalWidth > 0")
    assert "client1@broker.example.com" in page.inner_text("#detail-fields")
    assert "approved" in page.inner_text("#detail-fields")  # the client's KYC state
    page.screenshot(path=SCREENSHOTS / "finance-detail.png", full_page=True)
    assert "task_token" not in page.content() and "taskToken" not in page.content()  # never on the page
    page.click("#approve")
    page.wait_for_selector("#decision-notice:has-text('Done')")
    page.screenshot(path=SCREENSHOTS / "finance-approved.png", full_page=True)
    wait_for(lambda: client.deposit_row(number), "approved")
    assert float(client.balance()) == float(before) + 250
    page.close()


def test_a_rejection_needs_a_reason_and_the_client_sees_it(browser: Any, cloud: RunningCloud, client: Client) -> None:
    number, page = _deposit_opened(browser, cloud, client, "120.00", "finance", "finance-reject")
    page.click("#reject")
    page.wait_for_selector("#decision-error:has-text('Say why')")
    page.fill("#decision textarea[name=reason]", "The receipt shows another name")
    page.click("#reject")
    page.wait_for_selector("#decision-notice:has-text('Done')")
    page.screenshot(path=SCREENSHOTS / "finance-rejected.png", full_page=True)
    row = wait_for(lambda: client.deposit_row(number), "disapproved")
    assert row["remark"] == "The receipt shows another name"
    page.close()


def test_a_support_agent_cannot_approve(browser: Any, cloud: RunningCloud, client: Client) -> None:
    number, page = _deposit_opened(browser, cloud, client, "80.00", "support", "support")
    page.click("#approve")
    page.wait_for_selector("#decision-error:has-text('role')")
    page.screenshot(path=SCREENSHOTS / "support-refused.png", full_page=True)
    assert client.deposit_row(number)["status"] == "auditing"
    page.close()


def test_compliance_reviews_a_kyc_with_its_documents(browser: Any, cloud: RunningCloud) -> None:
    with cloud.client() as http:
        user = bearer(register(cloud, http, "kyc", "Kyc-pass-2026")["token"])
        review, identity = submit_kyc(http, user)
        staff = cloud.staff_headers(*ADMIN)
        wait_for(lambda: http.get(f"/admin/approvals/{review}", headers=staff).json(), "waiting")

        page = _staff_page(browser, cloud, "compliance", "compliance")
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
        wait_for(lambda: {"status": http.get("/kyc", headers=user).json()["kyc_status"]}, "approved")
        # the name given in KYC is the client's name in the back office
        page.click("#nav button[data-view=users]")
        page.click("#user-search button[type=submit]")
        page.click(f"#user-rows tr:has-text('{identity['full_name']}')")
        page.wait_for_selector(f"#user-detail dd:has-text('{identity['full_name']}')")
        page.close()
