"""`python -m fxcrm.ops bootstrap` on the component stack (which the demo seed
bootstrapped already): the stack is found from its CloudFormation outputs, a new
first admin gets a mailed one-time password that must be replaced before any
staff route works, and a second run changes nothing, keeping what staff changed.
(tests/e2e/test_bootstrap.py runs the command against an empty local cloud.)"""

import json
import re
import secrets
import time

import boto3
import pyotp
import pytest

from localcloud.provision import REGION, Stack
from tests.support.api import ApiClient
from tests.support.demo import ADMIN, CLIENT1
from tests.support.journeys import login, unique_email, wait_for_mail


def _stack_with_outputs(stack: Stack) -> str:
    """A CloudFormation stack whose outputs and parameters are those of a deployed fxcrm."""
    name = f"fxcrm-{secrets.token_hex(3)}"
    template = {
        "Parameters": {"SesSender": {"Type": "String"}},
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "DomainTableName": {"Value": stack.physical("DomainTable")},
            "ApiUrl": {"Value": "https://api.broker.example.com"},
        },
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "SesSender", "ParameterValue": "no-reply@broker.example.com"}],
    )
    return name


def _run(*args: str, capsys: pytest.CaptureFixture[str]) -> str:
    from fxcrm.ops.__main__ import main

    assert main(["bootstrap", *args]) == 0
    return capsys.readouterr().out


def _printed_admin(stack: Stack, email: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A new first admin bootstrapped with `--print-password`: the one-time password printed."""
    out = _run("--table", stack.physical("DomainTable"), "--admin-email", email, "--print-password", capsys=capsys)
    printed = re.search(rf"One-time password of {re.escape(email)} \(shown only now\): (\S+)", out)
    assert printed is not None, out
    return printed.group(1)


def _enrolled(api: ApiClient, email: str, password: str) -> tuple[str, str, bool]:
    """Password, then TOTP enrolment: (the token past it, the TOTP secret, what login said of the password)."""
    pending = login(api, email, password).json()
    secret = api.post("/auth/totp/enrolment", token=pending["token"]).json()["secret"]
    activated = api.post("/auth/totp/activation", {"code": pyotp.TOTP(secret).now()}, token=pending["token"])
    assert activated.status == 200, activated.body
    return activated.json()["token"], secret, pending["user_info"]["must_change_password"]


def test_a_new_admin_is_mailed_a_one_time_password_it_must_replace(
    api: ApiClient, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email("first-admin")
    out = _run("--stack", _stack_with_outputs(stack), "--admin-email", email, capsys=capsys)
    assert re.search(rf"first admin\s+1 created\s+\({re.escape(email)}; one-time password mailed", out), out
    mail = wait_for_mail(email, "back-office access")
    # the text part: the line, then the password on a line of its own (fxcrm.mail)
    password = re.search(r"one-time password:\s+(\S+)", mail.body)
    assert password is not None and password.group(1) not in out  # mailed, so never printed
    assert "https://api.broker.example.com/admin/console" in mail.body

    full, secret, must_change = _enrolled(api, email, password.group(1))
    assert must_change is True
    refused = api.get("/admin/approvals", token=full)
    assert refused.status == 403 and refused.json()["code"] == "password_change_required"

    changed = api.post(
        "/auth/password", {"old_password": password.group(1), "new_password": "First-admin-2026"}, token=full
    )
    assert changed.status == 200, changed.body
    assert api.get("/auth/totp", token=full).status == 401  # the one-time password's tokens end with it
    again = login(api, email, "First-admin-2026").json()
    assert again["user_info"]["must_change_password"] is False
    # the next time step's code: activation used this one (each step is good once)
    code = pyotp.TOTP(secret).at(int(time.time()) + 30)
    verified = api.post("/auth/totp/verification", {"code": code}, token=again["token"])
    assert verified.status == 200, verified.body
    assert api.get("/admin/approvals", token=verified.json()["token"]).status == 200


def test_without_a_sender_the_password_is_printed_once(
    api: ApiClient, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email("printed-admin")
    assert login(api, email, _printed_admin(stack, email, capsys)).status == 200
    again = _run("--table", stack.physical("DomainTable"), "--admin-email", email, "--print-password", capsys=capsys)
    assert "One-time password" not in again and f"{email}, staff admin; not changed" in again


def test_a_second_run_changes_nothing_and_keeps_what_staff_changed(
    api: ApiClient, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # the demo seed bootstrapped this stack with its admin, then enabled the channels with its details
    out = _run("--table", stack.physical("DomainTable"), "--admin-email", ADMIN[0], capsys=capsys)
    assert "Nothing to change: everything was there." in out, out
    assert " created" not in out
    for part in ("account types", "currencies", "exchange rates", "funding channels", "KYC form", "branding"):
        assert re.search(rf"{part}\s+\d+ found", out), (part, out)
    assert re.search(r"permissions and menus\s+1 found\s+\(packaged with the code: \d+ roles", out)
    client = login(api, *CLIENT1).json()["token"]
    channels = api.get("/funding/deposit-channels", token=client).json()["list"]
    assert {c["id"] for c in channels} >= {1, 2, 3}  # still enabled, details kept
    assert any("IBAN" in c["account_info"] for c in channels)


def test_a_staff_route_refuses_a_one_time_password_even_past_the_second_factor(
    api: ApiClient, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email("other-admin")
    full, _, _ = _enrolled(api, email, _printed_admin(stack, email, capsys))
    for path in ("/admin/approvals", "/admin/users?user_type=client"):
        refused = api.get(path, token=full)
        assert (refused.status, refused.json()["code"]) == (403, "password_change_required"), path
    assert api.get("/auth/menus", token=full).status == 200  # what the console needs to show the change form


def test_when_ses_refuses_the_mail_the_password_is_printed_instead(
    api: ApiClient, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email("sandboxed-admin")
    table = stack.physical("DomainTable")
    out = _run("--table", table, "--admin-email", email, "--ses-sender", "no-one@unverified.example", capsys=capsys)
    assert "one-time password printed below (SES refused:" in out, out
    printed = re.search(r"\(shown only now\): (\S+)", out)
    assert printed is not None and login(api, email, printed.group(1)).status == 200
