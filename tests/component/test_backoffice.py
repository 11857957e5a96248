"""The back office: staff two-factor login, IP allow-lists, clients and IBs,
the audit log, and maker-checker on large withdrawals."""

import csv
import io
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
import requests

from tests.support.api import ApiClient
from tests.support.concurrency import SecretChecks
from tests.support.demo import CONTROLLER, SUPPORT
from tests.support.journeys import (
    Client,
    approval_waiting,
    create_ib,
    decide,
    deposit,
    deposit_waiting,
    email_code,
    idempotency_key,
    login,
    new_staff,
    order_row,
    register,
    staff_token,
    unique_email,
    wait_for,
    withdrawal_body,
    withdrawal_quote,
)


def test_staff_must_pass_totp_before_the_back_office(api: ApiClient, admin: str) -> None:
    email, password = new_staff(api, admin, "compliance")
    pending = login(api, email, password).json()["token"]
    refused = api.get("/admin/approvals", token=pending)
    assert refused.status == 403 and refused.json()["code"] == "mfa_required"
    assert api.get("/auth/totp", token=pending).json() == {"enrolled": False, "mfa": False}

    enrolment = api.post("/auth/totp/enrolment", token=pending).json()
    assert (
        enrolment["qr_svg"].startswith("data:image/svg+xml") and email.replace("@", "%40") in enrolment["otpauth_uri"]
    )
    totp = pyotp.TOTP(enrolment["secret"])
    wrong = api.post("/auth/totp/activation", {"code": _not_a_live_code(totp)}, token=pending)
    assert wrong.status == 422 and wrong.json()["field"] == "code"
    code = totp.now()
    activated = api.post("/auth/totp/activation", {"code": code}, token=pending).json()
    assert len(activated["recovery_codes"]) == 10
    assert api.get("/admin/approvals", token=activated["token"]).status == 200

    # the next login: the code of a step already used is refused; a recovery code works once.
    # The very code activation took: `totp.now()` again would be the next step's once
    # a 30-second boundary passed, which is rightly accepted.
    again = login(api, email, password).json()["token"]
    replay = api.post("/auth/totp/verification", {"code": code}, token=again)
    assert replay.status == 422 and replay.json()["code"] == "totp_invalid"
    recovery = activated["recovery_codes"][0]
    verified = api.post("/auth/totp/verification", {"recovery_code": recovery}, token=again)
    assert verified.status == 200 and api.get("/admin/approvals", token=verified.json()["token"]).status == 200
    assert api.post("/auth/totp/verification", {"recovery_code": recovery}, token=again).status == 422
    assert api.post("/auth/totp/enrolment", token=again).status == 409  # enrolled once; no silent reset

    client_token = register(api, unique_email("c"))["token"]
    assert api.post("/auth/totp/enrolment", token=client_token).json()["code"] == "staff_only"
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    events = api.get(f"/admin/audit?day={day}&actor={email}", token=admin).json()["list"]
    assert {"login.password", "login.mfa_enrolled", "login.mfa_failed", "login.recovery_code"} <= {
        e["action"] for e in events
    }


def _not_a_live_code(totp: pyotp.TOTP) -> str:
    """A code of none of the steps a check accepts now (this one and one either side)."""
    live = {totp.at(time.time() + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(100)) if c not in live)


@pytest.mark.usefixtures("frozen_clock")
def test_twelve_concurrent_totp_codes_check_at_most_five(
    api: ApiClient, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fxcrm.auth import totp as totp_module

    email, password = new_staff(api, admin, "support")
    pending = login(api, email, password).json()["token"]
    secret = api.post("/auth/totp/enrolment", token=pending).json()["secret"]
    totp = pyotp.TOTP(secret)
    assert api.post("/auth/totp/activation", {"code": totp.now()}, token=pending).status == 200
    again = login(api, email, password).json()["token"]
    live = {totp.at(time.time() + drift) for drift in (-30, 0, 30)}
    wrong = [c for c in (f"{n:06d}" for n in range(100)) if c not in live][:12]
    checks = SecretChecks(12)
    monkeypatch.setattr(totp_module, "_matching_step", checks.wrap(totp_module._matching_step))
    statuses = checks.run(lambda i: api.post("/auth/totp/verification", {"code": wrong[i]}, token=again).status)
    assert checks.evaluated == 5
    assert sorted(statuses) == [422] * 5 + [429] * 7
    right = api.post("/auth/totp/verification", {"code": totp.now()}, token=again)
    assert right.status == 429 and right.json()["code"] == "account_locked"
    assert login(api, email, password).status == 429  # wrong codes and passwords share the limit
    assert checks.evaluated == 5


def test_an_admin_resets_a_lost_second_factor(api: ApiClient, admin: str) -> None:
    email, password = new_staff(api, admin, "finance")
    token = staff_token(api, email, password)
    user_id = api.get(f"/admin/users?email={email}", token=admin).json()["list"][0]["id"]
    reset = api.put(f"/admin/users/{user_id}/totp-reset", {"reason": "lost phone"}, token=admin)
    assert reset.status == 200 and reset.json()["totp_enrolled"] is False
    assert api.get("/admin/approvals", token=token).status == 401  # the old session ended
    pending = login(api, email, password).json()["token"]
    assert api.get("/auth/totp", token=pending).json()["enrolled"] is False


def test_an_ip_allow_list_limits_where_staff_work_from(api: ApiClient, admin: str) -> None:
    email, password = new_staff(api, admin, "support", ip_allow=["10.0.0.0/8"])
    token = staff_token(api, email, password)
    outside = api.get("/admin/approvals", token=token)
    assert outside.status == 403 and outside.json()["code"] == "ip_not_allowed"
    assert api.get("/admin/approvals", token=token, source_ip="10.20.30.40").status == 200


def test_clients_found_viewed_disabled_and_enabled_with_an_audit_trail(
    api: ApiClient, admin: str, client: Client
) -> None:
    found = api.get(f"/admin/users?email={client.email}", token=admin).json()
    assert found["total"] == 1 and found["list"][0]["id"] == client.id
    newest = api.get("/admin/users?user_type=client&size=5", token=admin).json()
    assert client.id in [u["id"] for u in newest["list"]]
    detail = api.get(f"/admin/users/{client.id}", token=admin).json()
    assert detail["kyc_status"] == "approved" and len(detail["accounts"]) == 2

    disabled = api.put(f"/admin/users/{client.id}/status", {"status": "disabled", "reason": "chargeback"}, token=admin)
    assert disabled.status == 200 and disabled.json()["status"] == "disabled"
    assert api.get("/trading-accounts", token=client.token).status == 401  # every session ends at once
    assert (
        api.put(f"/admin/users/{client.id}/status", {"status": "active", "reason": "resolved"}, token=admin).status
        == 200
    )
    trail = api.get(f"/admin/users/{client.id}", token=admin).json()["audit"]
    assert [(e["action"], e["after"]["status"]) for e in trail] == [
        ("user.status", "disabled"),
        ("user.status", "active"),
    ]
    support = staff_token(api, *SUPPORT)
    assert (
        api.put(f"/admin/users/{client.id}/status", {"status": "disabled", "reason": "x"}, token=support).status == 403
    )


def test_moving_clients_and_sub_ibs_between_ibs_keeps_history_and_no_cycles(api: ApiClient, admin: str) -> None:
    def new_ib(parent: int | None) -> int:
        return int(create_ib("ib", "Ib-pass-123", 1, parent)["id"])

    top = new_ib(None)
    sub = new_ib(top)
    client_id = int(register(api, unique_email("c"))["user_info"]["id"])
    assert (
        api.put(f"/admin/users/{client_id}/ib", {"ib_id": sub, "reason": "signed via sub"}, token=admin).status == 200
    )
    moved = api.put(f"/admin/users/{client_id}/ib", {"ib_id": top, "reason": "sub left"}, token=admin)
    assert moved.status == 200 and moved.json()["ib_id"] == top
    history = api.get(f"/admin/users/{client_id}", token=admin).json()["ib_history"]
    assert [(h.get("from_ib_id"), h.get("to_ib_id")) for h in history] == [(None, sub), (sub, top)]
    cycle = api.put(f"/admin/users/{top}/ib", {"ib_id": sub, "reason": "swap"}, token=admin)
    assert cycle.status == 422 and cycle.json()["code"] == "ib_cycle"
    not_ib = api.put(f"/admin/users/{sub}/ib", {"ib_id": client_id, "reason": "x"}, token=admin)
    assert not_ib.status == 422 and not_ib.json()["field"] == "ib_id"


def test_the_audit_log_filters_and_exports(api: ApiClient, admin: str) -> None:
    new_staff(api, admin, "support")
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    rows = api.get(f"/admin/audit?day={day}&action=staff.create", token=admin).json()
    assert rows["total"] >= 1 and all(r["action"] == "staff.create" for r in rows["list"])
    exported = api.get(f"/admin/audit/export?day={day}&action=staff.create", token=admin)
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.body.decode())))
    assert len(table) == rows["total"] and table[0]["actor_email"] == "admin@broker.example.com"
    # the seed's time format (the broker's zone, UTC here), in the file as in the list
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", t["at"]) for t in table)
    assert {t["at"] for t in table} == {r["at"] for r in rows["list"]} and table[0]["at"].startswith(day)
    support = staff_token(api, *SUPPORT)
    assert api.get(f"/admin/audit?day={day}", token=support).status == 403
    assert api.get("/admin/audit?day=2026-13-45", token=admin).status == 422


def test_the_audit_export_shows_a_formula_email_as_text(api: ApiClient, admin: str) -> None:
    """A staff login is audited with the email, which may be a valid formula."""
    email = f"=cmd|'/ccalc'!a0+{uuid.uuid4().hex[:6]}@x.example"
    body = {"email": email, "role": "support", "first_name": "F", "last_name": "X", "password": "Staff-pass-1"}
    assert api.post("/admin/staff", body, token=admin).status == 201
    assert login(api, email, "Staff-pass-1").status == 200
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    exported = api.get(f"/admin/audit/export?day={day}&actor={requests.utils.quote(email)}", token=admin)
    assert exported.status == 200, exported.body
    table = list(csv.DictReader(io.StringIO(exported.body.decode())))
    assert table and {r["actor_email"] for r in table} == {"'" + email}
    assert all(not value.startswith(("=", "+", "-", "@")) for r in table for value in r.values())


def test_a_large_withdrawal_needs_two_different_approvers(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    deposit(api, admin, client, account, "9000.00")
    quote = withdrawal_quote(api, client, "6000.00", channel=12)
    body = {
        "international_wire_info": {
            "account_holder_name": "Chen Li",
            "bank_country": "SG",
            "bank_name": "Example Bank",
            "bank_no": "123456789",
            "beneficiary_address": "1 Raffles Place",
            "swift_code": "EXMPSGSG",
        },
        "currency": "USD",
        "email_code": email_code(api, client.email, client.token, "withdrawal"),
        "method": "international_wire_transfer",
        "remittance_id": 12,
        "trading_account_id": account,
        "withdrawal_amount": "6000.00",
    } | {k: quote[k] for k in ("fee", "exchange_rate", "remittance_amount")}
    number = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key()).json()[
        "order_number"
    ]
    order_id = int(number[1:])
    approval_waiting(api, admin, order_id)
    first = decide(api, admin, order_id, "approve")
    assert first.status == 200 and first.json()["status"] == "waiting"
    assert first.json()["first_approved_by_email"] == "admin@broker.example.com"
    same = decide(api, admin, order_id, "approve")
    assert same.status == 409 and same.json()["code"] == "second_approver_required"
    time.sleep(0.2)
    assert order_row(api, client, "withdrawals", number)()["status"] == "auditing"  # nothing paid yet

    finance = staff_token(api, *new_staff(api, admin, "finance"))
    second = decide(api, finance, order_id, "approve")
    assert second.status == 200, second.body
    wait_for(order_row(api, client, "withdrawals", number), "approved")


def test_settings_changes_are_audited_and_account_types_editable(api: ApiClient, admin: str) -> None:
    saved = api.put(
        "/admin/account-types/MT5/live/205",
        {"name": "Pro", "record_type": "normal", "group": "real\\pro", "leverages": [100, 50, 100]},
        token=admin,
    )
    assert saved.status == 200 and [o["value"] for o in saved.json()["leverage_options"]] == [50, 100]
    client_token = register(api, unique_email("c"))["token"]
    listed = api.get("/trading-accounts/types?trading_platform=MT5&is_demo=false", token=client_token).json()
    from fxcrm.dal.table import Table

    Table().delete("ACCTYPE#MT5", "live#205")  # the session's catalogue stays the seeded one for other tests
    assert "Pro" in [t["name"] for t in listed["list"]]
    finance = staff_token(api, *new_staff(api, admin, "finance"))
    assert (
        api.put(
            "/admin/account-types/MT5/live/206", {"name": "X", "group": "g", "leverages": [1]}, token=finance
        ).status
        == 403
    )
    assert api.put("/site/branding", {"support_phone": "+44 20 7946 0001"}, token=admin).status == 200
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    actions = {
        e["action"]
        for e in api.get(f"/admin/audit?day={day}&actor=admin@broker.example.com", token=admin).json()["list"]
    }
    assert {"settings.account_type", "site.branding"} <= actions


# ---------------------------------------------------------------- separation of duties


@pytest.fixture
def controller(api: ApiClient) -> str:
    return staff_token(api, *CONTROLLER)


FUNDING_DEFAULTS = {"transfer_approval_threshold": "1000.00", "two_approvals_above": "5000.00"}


def _large_withdrawal(api: ApiClient, admin: str, client: Client, amount: str) -> int:
    account = client.accounts[0]
    deposit(api, admin, client, account, "9000.00")
    body = withdrawal_body(api, client, account, amount)
    made = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
    assert made.status == 201, made.body
    order_id = int(made.json()["order_number"][1:])
    approval_waiting(api, admin, order_id)
    return order_id


def test_raising_the_threshold_after_submission_does_not_lower_the_approvals_needed(
    api: ApiClient, admin: str, controller: str, client: Client
) -> None:
    order_id = _large_withdrawal(api, admin, client, "6000.00")
    assert api.get(f"/admin/approvals/{order_id}", token=admin).json()["required_approvals"] == 2
    raised = api.put(
        "/admin/funding/settings", FUNDING_DEFAULTS | {"two_approvals_above": "1000000.00"}, token=controller
    )
    try:
        assert raised.status == 200, raised.body
        finance = staff_token(api, *new_staff(api, admin, "finance"))
        first = decide(api, finance, order_id, "approve")
        assert first.status == 200 and first.json()["status"] == "waiting"  # one approval is not enough
        alone = decide(api, finance, order_id, "approve")
        assert alone.status == 409 and alone.json()["code"] == "second_approver_required"
    finally:
        assert api.put("/admin/funding/settings", FUNDING_DEFAULTS, token=controller).status == 200
    assert decide(api, admin, order_id, "approve").status == 200


def test_who_approves_money_cannot_change_its_controls(api: ApiClient, admin: str, controller: str) -> None:
    finance = staff_token(api, *new_staff(api, admin, "finance"))
    raise_limit = FUNDING_DEFAULTS | {"two_approvals_above": "1000000.00"}
    channel = {
        "name": "Bank transfer",
        "method": "bank_transfer",
        "min_amount": "1",
        "max_amount": "999999",
        "fee_fixed": "0",
        "fee_percent": "0",
        "allowed_currencies": ["USD"],
    }
    for token in (finance, admin):  # both decide withdrawals
        for path, body in (
            ("/admin/funding/settings", raise_limit),
            ("/admin/funding/exchange-rates", {"rates": {"USD": "1", "EUR": "9.99"}}),
            ("/admin/funding/channels/withdrawal/11", channel),
        ):
            refused = api.put(path, body, token=token)
            assert refused.status == 403 and refused.json()["code"] == "permission_denied", (path, refused.body)
    # the controller sets controls but decides nothing
    assert api.post("/admin/approvals/1/decision", {"decision": "approve"}, token=controller).status == 403
    assert (
        api.get("/funding/withdrawal-channels", token=register(api, unique_email("c"))["token"]).json()["list"][0][
            "max_amount"
        ]
        == "20000.00"
    )  # nothing changed


def test_a_settings_change_is_audited_with_before_and_after(api: ApiClient, controller: str) -> None:
    changed = api.put(
        "/admin/funding/settings", FUNDING_DEFAULTS | {"transfer_approval_threshold": "1500.00"}, token=controller
    )
    try:
        assert changed.status == 200, changed.body
    finally:
        assert api.put("/admin/funding/settings", FUNDING_DEFAULTS, token=controller).status == 200
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    entries = api.get(
        f"/admin/audit?day={day}&action=funding.setting.funding&target=setting:funding", token=controller
    ).json()["list"]
    raised = next(e for e in entries if e["after"]["transfer_approval_threshold"] == "1500.00")
    assert raised["before"]["transfer_approval_threshold"] == "1000.00" and raised["actor_role"] == "controller"
    restored = next(e for e in entries if e["before"].get("transfer_approval_threshold") == "1500.00")
    assert restored["after"]["transfer_approval_threshold"] == "1000.00"


# ---------------------------------------------------------------- email_code per staff setting


def test_email_code_is_required_by_default_and_optional_when_staff_say_so(
    api: ApiClient, admin: str, controller: str, client: Client
) -> None:
    source, target = client.accounts
    deposit(api, admin, client, source, "500.00")
    withdrawal = withdrawal_body(api, client, source, "100.00")
    code = withdrawal.pop("email_code")
    transfer = {
        "amount": "10.00",
        "remark": "",
        "source_trading_account_id": source,
        "target_trading_account_id": target,
    }

    def post(path: str, body: dict[str, Any]) -> Any:
        return api.post(path, body, token=client.token, headers=idempotency_key())

    for path, body in (("/funding/withdrawals", withdrawal), ("/funding/transfers", transfer)):
        missing = post(path, body)
        assert missing.status == 422 and missing.json()["field"] == "email_code", missing.body
        assert missing.json()["code"] == "email_code_required"
    optional = FUNDING_DEFAULTS | {"withdrawal_email_code_required": False, "transfer_email_code_required": False}
    assert api.put("/admin/funding/settings", optional, token=controller).status == 200
    try:
        wrong = post("/funding/withdrawals", withdrawal | {"email_code": f"{(int(code) + 1) % 1_000_000:06d}"})
        assert wrong.status == 422 and wrong.json()["field"] == "email_code"  # a code sent is still checked
        assert post("/funding/withdrawals", withdrawal).status == 201
        moved = post("/funding/transfers", transfer)
        assert moved.status == 201 and moved.json()["audit_status"] == "approved", moved.body
    finally:
        assert api.put("/admin/funding/settings", FUNDING_DEFAULTS, token=controller).status == 200
    assert post("/funding/transfers", transfer).json()["code"] == "email_code_required"
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    trail = api.get(f"/admin/audit?day={day}&target=setting:funding", token=controller).json()["list"]
    assert any(e["after"].get("withdrawal_email_code_required") is False for e in trail)


# ---------------------------------------------------------------- free text in staff input


def test_staff_free_text_refuses_control_and_bidi_characters(api: ApiClient, admin: str, client: Client) -> None:
    staff = {"email": unique_email("s"), "role": "support", "last_name": "Support", "password": "Staff-pass-1"}
    for name in ("Sam\x00", "Sam\x1b[31m", "Sam\r\nX-Injected: 1", "\u202eSam"):
        refused = api.post("/admin/staff", staff | {"first_name": name}, token=admin)
        assert refused.status == 422 and refused.json()["field"] == "first_name", refused.body
    assert api.get(f"/admin/users?email={staff['email']}", token=admin).json()["total"] == 0
    status = api.put(
        f"/admin/users/{client.id}/status", {"status": "disabled", "reason": "fraud\u2066 ok\u2069"}, token=admin
    )
    assert status.status == 422 and status.json()["field"] == "reason"
    assert api.get(f"/admin/users/{client.id}", token=admin).json()["user"]["status"] == "active"
    order_id = int(deposit_waiting(api, admin, client, "100.00")[1:])
    reject = decide(api, admin, order_id, "reject", "bad receipt\x1b]0;x\x07")
    assert reject.status == 422 and reject.json()["field"] == "reason"
    assert api.get(f"/admin/approvals/{order_id}", token=admin).json()["status"] == "waiting"


def test_an_item_from_before_required_approvals_was_stored_needs_two(
    api: ApiClient, admin: str, client: Client
) -> None:
    from fxcrm.dal.table import Table

    order_id = int(deposit_waiting(api, admin, client, "100.00")[1:])
    Table().update(f"APPROVAL#{order_id}", "APPROVAL", "REMOVE required_approvals")
    assert api.get(f"/admin/approvals/{order_id}", token=admin).json()["required_approvals"] == 2
    first = decide(api, admin, order_id, "approve")
    assert first.status == 200 and first.json()["status"] == "waiting"
    finance = staff_token(api, *new_staff(api, admin, "finance"))
    assert decide(api, finance, order_id, "approve").status == 200
