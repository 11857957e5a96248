"""The bootstrap's first admin in the console: on an empty stack bootstrapped with
`python -m fxcrm.ops bootstrap --print-password`, the admin logs in with the
printed one-time password, is made to choose a new one, then to enrol TOTP, and
reaches the approval queue; the one-time password no longer logs in."""

import re
from typing import Any

import pyotp

from tests.browser.conftest import SCREENSHOTS
from tests.support.http_journeys import RunningCloud, run_bootstrap

ADMIN_EMAIL = "first@broker.example.com"


def test_the_first_admin_sets_a_password_and_totp_then_sees_the_queue(browser: Any, empty_cloud: RunningCloud) -> None:
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
    page.close()

    assert cloud.login(ADMIN_EMAIL, one_time).status_code == 401
    assert cloud.login(ADMIN_EMAIL, "First-admin-2026").json()["user_info"]["must_change_password"] is False
