"""The bootstrap's first admin in the console: on an empty stack bootstrapped with
`python -m fxcrm.ops bootstrap --print-password`, the admin logs in with the
printed one-time password, is made to choose a new one, then to enrol TOTP,
reaches the approval queue and approves a client's first deposit there; the
one-time password no longer logs in."""

import re
import time
from typing import Any

import pyotp

from tests.browser.conftest import SCREENSHOTS
from tests.support.http_journeys import RunningCloud, bearer, first_deposit_waiting, run_bootstrap
from tests.support.waiting import wait_for

ADMIN_EMAIL = "first@broker.example.com"


def test_the_first_admin_sets_a_password_and_totp_then_approves_a_deposit(
    browser: Any, empty_cloud: RunningCloud
) -> None:
    cloud = empty_cloud
    done = run_bootstrap(cloud, "--admin-email", ADMIN_EMAIL, "--print-password")
    assert done.returncode == 0, done.stderr
    printed = re.search(r"\(shown only now\): (\S+)", done.stdout)
    assert printed is not None, done.stdout
    one_time = printed.group(1)

    page = browser.new_page()
    page.goto(f"{cloud.url}/admin/console")
    page.fill("#login-form input[name=email]", ADMIN_EMAIL)
    page.fill("#login-form input[name=password]", one_time)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#new-password:not([hidden])")
    assert page.is_hidden("#mfa") and page.is_hidden("#queue")
    page.screenshot(path=SCREENSHOTS / "first-login-password.png")

    page.fill("#password-form input[name=new_password]", "First-admin-2026")
    page.fill("#password-form input[name=repeat]", "First-admin-2062")
    page.click("#password-form button[type=submit]")
    page.wait_for_selector("#password-error:has-text('differ')")
    page.fill("#password-form input[name=repeat]", "First-admin-2026")
    page.click("#password-form button[type=submit]")

    # logged in again with the new password: the authenticator's enrolment
    page.wait_for_selector("#qr[src^='data:image/svg+xml']")
    secret = page.inner_text("#secret")
    page.screenshot(path=SCREENSHOTS / "first-login-enrol.png")
    page.fill("#mfa-form input[name=code]", pyotp.TOTP(secret).now())
    page.click("#mfa-form button[type=submit]")
    page.wait_for_selector("#recovery-codes li")
    page.click("#recovery-done")
    page.wait_for_selector("#queue:not([hidden])")
    assert page.inner_text("#who") == ADMIN_EMAIL
    # the staff routes take this session: the (empty) queue answered
    page.wait_for_selector("#queue-rows td:has-text('Nothing here.')")
    assert page.inner_text("#queue-error") == ""
    page.screenshot(path=SCREENSHOTS / "first-login-queue.png", full_page=True)

    assert cloud.login(ADMIN_EMAIL, one_time).status_code == 401
    relogin = cloud.login(ADMIN_EMAIL, "First-admin-2026").json()
    assert relogin["user_info"]["must_change_password"] is False

    with cloud.client() as http:
        # the broker's set-up and a client's first deposit, over the API (as in
        # tests/e2e/test_bootstrap.py); the admin's own HTTP session takes the next TOTP step
        code = pyotp.TOTP(secret).at(int(time.time()) + 30)
        verified = http.post("/auth/totp/verification", json={"code": code}, headers=bearer(relogin["token"]))
        assert verified.status_code == 200, verified.text
        deposit = first_deposit_waiting(cloud, http, bearer(verified.json()["token"]), "300.00")

        # the admin approves it in the console
        page.select_option("#kind", "deposit")
        page.click("#refresh")
        page.click(f"#queue-rows tr[data-id='{deposit.number[1:]}']")
        page.wait_for_selector(f"#detail-title:has-text('{deposit.number}')")
        page.click("#approve")
        page.wait_for_selector("#decision-notice:has-text('Done')")
        page.screenshot(path=SCREENSHOTS / "first-login-approved.png", full_page=True)
        page.close()
        wait_for(lambda: deposit.row(http), "approved")
        balance = http.get(f"/trading-accounts/{deposit.account}", headers=deposit.client).json()["balance"]
        assert float(balance) == 300.0
