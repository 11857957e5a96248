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

from tests.component.conftest import login, register, staff_token, unique_email
from tests.component.test_funding import (
    Client,
    _approval_waiting,
    _code,
    _deposit,
    _order,
    _quote,
    _wait,
    client,
)
from tests.support.api import ApiClient

__all__ = ["client"]


@pytest.fixture(scope="module")
def admin(api: ApiClient) -> str:
    return staff_token(api, "admin@broker.example.com", "Admin-demo-2026")


def _new_staff(api: ApiClient, admin: str, role: str, **extra: Any) -> tuple[str, str]:
    email = unique_email(role)
    body = {"email": email, "role": role, "first_name": "New", "last_name": role.title(), "password": "Staff-pass-1"}
    created = api.post("/admin/staff", body | extra, token=admin)
    assert created.status == 201, created.body
    return email, "Staff-pass-1"


def test_staff_must_pass_totp_before_the_back_office(api: ApiClient, admin: str) -> None:
    email, password = _new_staff(api, admin, "compliance")
    pending = login(api, email, password).json()["token"]
    refused = api.get("/admin/approvals", token=pending)
    assert refused.status == 403 and refused.json()["code"] == "mfa_required"
    assert api.get("/auth/totp", token=pending).json() == {"enrolled": False, "mfa": False}

    enrolment = api.post("/auth/totp/enrolment", token=pending).json()
    assert (
        enrolment["qr_svg"].startswith("data:image/svg+xml") and email.replace("@", "%40") in enrolment["otpauth_uri"]
    )
    wrong = api.post("/auth/totp/activation", {"code": "000000"}, token=pending)
    assert wrong.status == 422 and wrong.json()["field"] == "code"
    totp = pyotp.TOTP(enrolment["secret"])
    activated = api.post("/auth/totp/activation", {"code": totp.now()}, token=pending).json()
    assert len(activated["recovery_codes"]) == 10
    assert api.get("/admin/approvals", token=activated["token"]).status == 200

    # the next login: the code of a step already used is refused; a recovery code works once
    again = login(api, email, password).json()["token"]
    replay = api.post("/auth/totp/verification", {"code": totp.now()}, token=again)
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


def test_an_admin_resets_a_lost_second_factor(api: ApiClient, admin: str) -> None:
    email, password = _new_staff(api, admin, "finance")
    token = staff_token(api, email, password)
    user_id = api.get(f"/admin/users?email={email}", token=admin).json()["list"][0]["id"]
    reset = api.put(f"/admin/users/{user_id}/totp-reset", {"reason": "lost phone"}, token=admin)
    assert reset.status == 200 and reset.json()["totp_enrolled"] is False
    assert api.get("/admin/approvals", token=token).status == 401  # the old session ended
    pending = login(api, email, password).json()["token"]
    assert api.get("/auth/totp", token=pending).json()["enrolled"] is False


def test_an_ip_allow_list_limits_where_staff_work_from(api: ApiClient, admin: str) -> None:
    email, password = _new_staff(api, admin, "support", ip_allow=["10.0.0.0/8"])
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
    support = staff_token(api, "support@broker.example.com", "Support-demo-2026")
    assert (
        api.put(f"/admin/users/{client.id}/status", {"status": "disabled", "reason": "x"}, token=support).status == 403
    )


def test_moving_clients_and_sub_ibs_between_ibs_keeps_history_and_no_cycles(api: ApiClient, admin: str) -> None:
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import users

    def new_ib(parent: int | None) -> int:
        user = new_user(
            unique_email("ib"), "Ib-pass-123", "ib", "ib", 1, referral_code=uuid.uuid4().hex[:8], ib_id=parent
        )
        users.create_user(user)
        return int(user["id"])

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
    _new_staff(api, admin, "support")
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
    support = staff_token(api, "support@broker.example.com", "Support-demo-2026")
    assert api.get(f"/admin/audit?day={day}", token=support).status == 403
    assert api.get("/admin/audit?day=2026-13-45", token=admin).status == 422


def test_a_large_withdrawal_needs_two_different_approvers(api: ApiClient, admin: str, client: Client) -> None:
    account = client.accounts[0]
    _deposit(api, admin, client, account, "9000.00")
    quote = _quote(api, client, "6000.00", channel=12)
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
        "email_code": _code(api, client, "withdrawal"),
        "method": "international_wire_transfer",
        "remittance_id": 12,
        "trading_account_id": account,
        "withdrawal_amount": "6000.00",
    } | {k: quote[k] for k in ("fee", "exchange_rate", "remittance_amount")}
    number = api.post(
        "/funding/withdrawals", body, token=client.token, headers={"Idempotency-Key": str(uuid.uuid4())}
    ).json()["order_number"]
    order_id = int(number[1:])
    _approval_waiting(api, admin, order_id)
    first = api.post(f"/admin/approvals/{order_id}/decision", {"decision": "approve"}, token=admin)
    assert first.status == 200 and first.json()["status"] == "waiting"
    assert first.json()["first_approved_by_email"] == "admin@broker.example.com"
    same = api.post(f"/admin/approvals/{order_id}/decision", {"decision": "approve"}, token=admin)
    assert same.status == 409 and same.json()["code"] == "second_approver_required"
    time.sleep(0.2)
    assert _order(api, client, "withdrawals", number)()["status"] == "auditing"  # nothing paid yet

    finance = staff_token(api, *_new_staff(api, admin, "finance"))
    second = api.post(f"/admin/approvals/{order_id}/decision", {"decision": "approve"}, token=finance)
    assert second.status == 200, second.body
    _wait(_order(api, client, "withdrawals", number), "approved")


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
    finance = staff_token(api, *_new_staff(api, admin, "finance"))
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
