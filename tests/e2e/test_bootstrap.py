"""Going live on the local cloud: an empty stack (`--no-seed`, as a fresh deploy) +
`python -m fxcrm.ops bootstrap` over its endpoint = a first admin who, over HTTP,
logs in with the mailed one-time password, must set up TOTP and a new password
before anything else, and then approves a client's deposit; a second run of the
command changes nothing and says so."""

import re
import time

import httpx
import pyotp

from tests.support.http_journeys import (
    RunningCloud,
    bearer,
    first_deposit_waiting,
    register,
    run_bootstrap,
    wait_for,
)

ADMIN_EMAIL = "boss@broker.example.com"
SENDER = "no-reply@broker.example.com"  # the template's SesSender, verified by the local cloud
NEW_PASSWORD = "Boss-chosen-2026"


def _enrolled_login(cloud: RunningCloud, http: httpx.Client, email: str, password: str) -> tuple[str, str]:
    """Password, then the first-login TOTP enrolment: (the token past it, the TOTP secret)."""
    pending = bearer(cloud.login(email, password).json()["token"])
    secret = http.post("/auth/totp/enrolment", headers=pending).json()["secret"]
    done = http.post("/auth/totp/activation", json={"code": pyotp.TOTP(secret).now()}, headers=pending)
    assert done.status_code == 200, done.text
    return done.json()["token"], secret


def test_an_empty_stack_bootstrapped_gets_an_admin_who_approves_a_deposit(empty_cloud: RunningCloud) -> None:
    cloud = empty_cloud
    assert cloud.login(ADMIN_EMAIL, "anything-1").status_code == 401  # nobody can log in yet
    assert "python -m fxcrm.ops bootstrap --endpoint-url http://" in cloud.log.read_text()  # what it printed

    first = run_bootstrap(cloud, "--admin-email", ADMIN_EMAIL, "--ses-sender", SENDER)
    assert first.returncode == 0, first.stderr
    assert "Done: created what was missing." in first.stdout
    for part in ("first admin", "account types", "funding channels", "KYC form", "branding", "login pages"):
        assert re.search(rf"{part}\s+\d+ created", first.stdout), (part, first.stdout)
    mail = cloud.wait_for_mail(ADMIN_EMAIL, "one-time password")
    # the text part: the line, then the password on a line of its own (fxcrm.mail)
    one_time = re.search(r"one-time password:\s+(\S+)", mail["body"])
    assert one_time is not None and one_time.group(1) not in first.stdout

    again = run_bootstrap(cloud, "--admin-email", ADMIN_EMAIL, "--ses-sender", SENDER)
    assert again.returncode == 0, again.stderr
    assert "Nothing to change: everything was there." in again.stdout and " created" not in again.stdout
    assert len(cloud.mailbox(ADMIN_EMAIL)) == 1  # no second password

    with cloud.client() as http:
        # the first login: TOTP enrolment, then the password change before anything else
        login = cloud.login(ADMIN_EMAIL, one_time.group(1))
        assert login.json()["user_info"]["must_change_password"] is True
        token, secret = _enrolled_login(cloud, http, ADMIN_EMAIL, one_time.group(1))
        refused = http.get("/admin/approvals", headers=bearer(token))
        assert (refused.status_code, refused.json()["code"]) == (403, "password_change_required")
        weak = http.post(
            "/auth/password", json={"old_password": one_time.group(1), "new_password": "short"}, headers=bearer(token)
        )
        assert (weak.status_code, weak.json()["field"]) == (422, "new_password")
        changed = http.post(
            "/auth/password",
            json={"old_password": one_time.group(1), "new_password": NEW_PASSWORD},
            headers=bearer(token),
        )
        assert changed.status_code == 200, changed.text
        assert cloud.login(ADMIN_EMAIL, one_time.group(1)).status_code == 401  # one time only
        relogin = cloud.login(ADMIN_EMAIL, NEW_PASSWORD).json()
        assert relogin["user_info"]["must_change_password"] is False
        # activation used this time step's code; each step is good once, so the next one's
        code = pyotp.TOTP(secret).at(int(time.time()) + 30)
        verified = http.post("/auth/totp/verification", json={"code": code}, headers=bearer(relogin["token"]))
        assert verified.status_code == 200, verified.text
        admin = bearer(verified.json()["token"])
        assert http.get("/admin/approvals", headers=admin).status_code == 200

        # before the broker's set-up, a client sees no channel: the bootstrap's start disabled
        client_before = bearer(register(cloud, http, "early", "Early-pass-2026")["token"])
        assert http.get("/funding/deposit-channels", headers=client_before).json()["list"] == []

        # the set-up, a client with KYC approved by the admin and a live account, a deposit the admin approves
        deposit = first_deposit_waiting(cloud, http, admin, "300.00")
        client, account = deposit.client, deposit.account
        approved = http.post(
            f"/admin/approvals/{deposit.number[1:]}/decision", json={"decision": "approve"}, headers=admin
        )
        assert approved.status_code == 200, approved.text
        wait_for(lambda: deposit.row(http), "approved")
        balance = http.get(f"/trading-accounts/{account}", headers=client).json()["balance"]
        assert float(balance) == 300.0
