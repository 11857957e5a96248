"""KYC through the real handlers: the form as data, module validation,
documents uploaded with presigned POSTs and checked at save, questionnaire
answers, the review on the real state machine, duplicates flagged to the
reviewer, e-verification (local stand-in and the signed webhook) and the
staff-edited form."""

import json
import re
import secrets
import time
from typing import Any

import pytest
import requests

from tests.support.api import ApiClient
from tests.support.demo import DEMO_ACCOUNT, LIVE_APPLICATION, SUPPORT
from tests.support.journeys import (
    approval_waiting,
    decide,
    login,
    new_staff,
    register,
    staff_token,
    unique_email,
    wait_for,
    wait_for_mail,
)

PDF = b"%PDF-1.4\n" + b"0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 200

IDENTITY = {
    "first_name": "Lena",
    "last_name": "Novak",
    "full_name": "Lena Novak",
    "gender": "female",
    "birthday": "1990-04-12",
    "country": "DE",
}
CONTACT = {
    "contact_phone": "+4930123456",
    "residential_address": "Hauptstr. 1, Berlin",
    "residence_province": "Berlin",
    "postal_code": "10115",
}
ANSWERS = [
    {"question_id": 1, "answer": "1to3"},
    {"question_id": 2, "answer": "yes"},
    {"question_id": 3, "answer": ["forex", "metals"]},
    {"question_id": 4, "answer": "25k_100k"},
]
AGREEMENT = {"client_agreement": True, "risk_disclosure": True, "privacy_policy": True}


def _client(api: ApiClient) -> dict[str, Any]:
    email = unique_email("kyc")
    registered = register(api, email)
    return {"email": email, "token": registered["token"], "id": int(registered["user_info"]["id"])}


@pytest.fixture
def client(api: ApiClient) -> dict[str, Any]:
    return _client(api)


def upload_form(api: ApiClient, token: str, kind: str = "application/pdf") -> dict[str, Any]:
    form = api.post("/kyc/documents", {"content_type": kind}, token=token)
    assert form.status == 201, form.body
    answer = dict(form.json())
    assert answer["key"].startswith("kyc/") and answer["max_bytes"] == 10 * 1024 * 1024
    return answer


def post_form(form: dict[str, Any], content: bytes, kind: str = "application/pdf") -> None:
    """What the browser does with the upload form (again and again, until it expires)."""
    reply = requests.post(form["url"], data=form["fields"], files={"file": ("doc", content, kind)}, timeout=10)
    assert reply.status_code in (200, 201, 204), reply.text


def upload(api: ApiClient, token: str, content: bytes = PDF, kind: str = "application/pdf") -> str:
    form = upload_form(api, token, kind)
    post_form(form, content, kind)
    return str(form["key"])


def save(api: ApiClient, token: str, module: str, data: dict[str, Any]) -> Any:
    return api.put("/kyc/modules", {"current_module": module, "kyc_data": {module: data}}, token=token)


def fill_everything(api: ApiClient, token: str, passport: bytes = PDF, identity: dict[str, Any] = IDENTITY) -> None:
    assert save(api, token, "identity", identity).status == 200
    assert save(api, token, "contact", CONTACT).status == 200
    assert save(api, token, "family", {"marital_status": "single"}).status == 200
    assert save(api, token, "job", {"company_name": "Acme", "industry_attributes": "it"}).status == 200
    assert (
        save(
            api, token, "authentication_accessory", {"address_proof": upload(api, token, PDF + secrets.token_bytes(8))}
        ).status
        == 200
    )
    document = upload(api, token, passport)
    reply = save(api, token, "authentication", {"identification_type": "passport", "passport": document})
    assert reply.status == 200, reply.body
    assert save(api, token, "agreement", AGREEMENT).status == 200
    reply = api.post("/kyc/questionnaire-answers", {"questionnaire_id": 1, "answers": ANSWERS}, token=token)
    assert reply.status == 200, reply.body


def wait_status(api: ApiClient, token: str, status: str) -> dict[str, Any]:
    return wait_for(lambda: api.get("/kyc", token=token).json(), status, key="kyc_status")


# ---------------------------------------------------------------- the form and the data


def test_the_form_lists_every_module_with_its_fields(api: ApiClient, client: dict[str, Any]) -> None:
    form = api.get("/kyc/form", token=client["token"]).json()
    modules = {m["module"]["key"]: m for section in ("identity", "kyc", "agreement") for m in form[section]["modules"]}
    assert set(modules) == {
        "identity",
        "questionnaire",
        "family",
        "contact",
        "job",
        "authentication_accessory",
        "authentication",
        "agreement",
        "e_verify",
    }
    gender = next(f for f in modules["identity"]["fields"] if f["key"] == "gender")
    assert gender["component_type"] == "radio" and {o["value"] for o in gender["options"]} == {"male", "female"}
    assert [f["key"] for f in modules["questionnaire"]["fields"]][:2] == ["experience_years", "understands_leverage"]
    assert form["apply_status"] == "filling" and form["identity"]["status"] == "filling"
    assert form["e_verify"] == {
        "attempt_times": 0,
        "retry_times": 3,
        "provider": "",
        "status": "not_started",
        "code": "",
    }


def test_a_saved_module_comes_back_in_the_status_and_the_form(api: ApiClient, client: dict[str, Any]) -> None:
    token = client["token"]
    assert save(api, token, "identity", IDENTITY).status == 200
    shown = api.get("/kyc", token=token).json()
    assert shown["kyc_data"]["identity"] == IDENTITY
    assert shown["completed_module"] == ["identity"]
    assert shown["identity_status"] == "completed" and shown["kyc_status"] == "filling"
    form = api.get("/kyc/form", token=token).json()
    values = {f["key"]: f["value"] for f in form["identity"]["modules"][0]["fields"]}
    assert values["full_name"] == "Lena Novak"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"first_name": ""}, "kyc_data.identity.first_name", "required"),
        ({"gender": "other"}, "kyc_data.identity.gender", "not_an_option"),
        ({"country": "XX"}, "kyc_data.identity.country", "not_an_option"),
        ({"birthday": "1990-13-01"}, "kyc_data.identity.birthday", "bad_date"),
        ({"birthday": "12/04/1990"}, "kyc_data.identity.birthday", "bad_date"),
        ({"birthday": "2020-01-01"}, "kyc_data.identity.birthday", "too_young"),
        ({"nickname": "x"}, "kyc_data.identity.nickname", "unknown_field"),
        ({"first_name": 42}, "kyc_data.identity.first_name", "validation_error"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    api: ApiClient, client: dict[str, Any], change: dict[str, Any], field: str, code: str
) -> None:
    reply = save(api, client["token"], "identity", IDENTITY | change)
    assert reply.status == 422, reply.body
    assert (reply.json()["field"], reply.json()["code"]) == (field, code)
    assert api.get("/kyc", token=client["token"]).json()["completed_module"] == []


def test_other_modules_check_phones_documents_and_agreements(api: ApiClient, client: dict[str, Any]) -> None:
    token = client["token"]
    reply = save(api, token, "contact", CONTACT | {"contact_phone": "call me"})
    assert reply.json()["field"] == "kyc_data.contact.contact_phone"
    reply = save(
        api, token, "authentication", {"identification_type": "identity_card", "identity_front": upload(api, token)}
    )
    assert (reply.json()["field"], reply.status) == ("kyc_data.authentication.identity_back", 422)
    reply = save(api, token, "agreement", AGREEMENT | {"risk_disclosure": False})
    assert (reply.json()["field"], reply.json()["code"]) == ("kyc_data.agreement.risk_disclosure", "not_accepted")
    # data of another module: the module named is the mistake
    reply = api.put("/kyc/modules", {"current_module": "identity", "kyc_data": {"contact": CONTACT}}, token=token)
    assert (reply.status, reply.json()["field"]) == (422, "current_module")
    reply = api.put("/kyc/modules", {"current_module": "all", "kyc_data": {"contacts": CONTACT}}, token=token)
    assert (reply.status, reply.json()["field"], reply.json()["code"]) == (422, "kyc_data.contacts", "unknown_module")
    # the verdict is the provider's: a client cannot write it
    reply = save(api, token, "e_verify", {"passed": True})
    assert (reply.status, reply.json()["field"], reply.json()["code"]) == (
        422,
        "kyc_data.e_verify.passed",
        "unknown_field",
    )
    assert api.get("/kyc", token=token).json()["completed_module"] == []


def test_all_saves_several_modules_at_once(api: ApiClient, client: dict[str, Any]) -> None:
    reply = api.put(
        "/kyc/modules",
        {"current_module": "all", "kyc_data": {"identity": IDENTITY, "contact": CONTACT}},
        token=client["token"],
    )
    assert reply.status == 200, reply.body
    assert api.get("/kyc", token=client["token"]).json()["completed_module"] == ["identity", "contact"]


def test_questionnaire_answers_are_checked_and_kept(api: ApiClient, client: dict[str, Any]) -> None:
    token = client["token"]
    bad = [a if a["question_id"] != 2 else {"question_id": 2, "answer": "maybe"} for a in ANSWERS]
    reply = api.post("/kyc/questionnaire-answers", {"questionnaire_id": 1, "answers": bad}, token=token)
    assert (reply.status, reply.json()["field"]) == (422, "answers.understands_leverage")
    missing = [a for a in ANSWERS if a["question_id"] != 4]
    reply = api.post("/kyc/questionnaire-answers", {"questionnaire_id": 1, "answers": missing}, token=token)
    assert reply.json()["field"] == "answers.annual_income"
    reply = api.post("/kyc/questionnaire-answers", {"questionnaire_id": 9, "answers": ANSWERS}, token=token)
    assert reply.json()["field"] == "questionnaire_id"
    assert (
        api.post("/kyc/questionnaire-answers", {"questionnaire_id": 1, "answers": ANSWERS}, token=token).status == 200
    )
    shown = api.get("/kyc", token=token).json()
    assert shown["completed_module"] == ["questionnaire"]
    assert {a["key"]: a["answer"] for a in shown["kyc_data"]["questionnaire"]}["instruments"] == ["forex", "metals"]


def test_the_questionnaire_can_be_answered_from_the_form_alone(api: ApiClient, client: dict[str, Any]) -> None:
    """Every id `save questionnaire answers` takes is in the form."""
    token = client["token"]
    form = api.get("/kyc/form", token=token).json()
    module = next(m for m in form["kyc"]["modules"] if m["module"]["key"] == "questionnaire")
    by_questionnaire: dict[int, list[dict[str, Any]]] = {}
    for field in module["fields"]:
        first = field["options"][0]["value"]
        answer = [first] if field["component_type"] == "checkbox" else first
        by_questionnaire.setdefault(field["questionnaire_id"], []).append(
            {"question_id": field["question_id"], "answer": answer}
        )
    assert by_questionnaire  # the default form has a questionnaire
    for questionnaire_id, answers in by_questionnaire.items():
        reply = api.post(
            "/kyc/questionnaire-answers", {"questionnaire_id": questionnaire_id, "answers": answers}, token=token
        )
        assert reply.status == 200, reply.body
    assert api.get("/kyc", token=token).json()["completed_module"] == ["questionnaire"]
    shown = next(
        m for m in api.get("/kyc/form", token=token).json()["kyc"]["modules"] if m["module"]["key"] == "questionnaire"
    )
    assert [f["value"] for f in shown["fields"]] == [
        a["answer"] for answers in by_questionnaire.values() for a in answers
    ]
    assert {f["questionnaire_name"] for f in shown["fields"]} == {"Trading experience"}
    others = [f for m in form["identity"]["modules"] for f in m["fields"]]
    assert {f["question_id"] for f in others} == {None}


def test_save_module_takes_the_questionnaire_by_question_key(api: ApiClient, client: dict[str, Any]) -> None:
    """The seed's `current_module` questionnaire: kyc_data {questionnaire: {question key: answer}}."""
    token = client["token"]
    answers = {"experience_years": "1to3", "understands_leverage": "yes", "annual_income": "gt100k"}
    reply = save(api, token, "questionnaire", answers | {"understands_leverage": "maybe"})
    assert (reply.status, reply.json()["field"]) == (422, "kyc_data.questionnaire.understands_leverage")
    reply = save(api, token, "questionnaire", answers | {"favourite_colour": "red"})
    assert (reply.json()["field"], reply.json()["code"]) == ("kyc_data.questionnaire.favourite_colour", "unknown_field")
    reply = save(api, token, "questionnaire", {k: v for k, v in answers.items() if k != "annual_income"})
    assert (reply.json()["field"], reply.json()["code"]) == ("kyc_data.questionnaire.annual_income", "required")
    assert save(api, token, "questionnaire", answers).status == 200
    shown = api.get("/kyc", token=token).json()
    assert shown["completed_module"] == ["questionnaire"]
    saved = {a["key"]: a for a in shown["kyc_data"]["questionnaire"]}
    assert {k: a["answer"] for k, a in saved.items()} == answers
    assert (saved["annual_income"]["question_id"], saved["annual_income"]["questionnaire_id"]) == (4, 1)
    both = {"identity": IDENTITY, "questionnaire": answers}
    assert api.put("/kyc/modules", {"current_module": "all", "kyc_data": both}, token=token).status == 200
    assert api.get("/kyc", token=token).json()["completed_module"] == ["identity", "questionnaire"]


def test_save_module_e_verify_confirms_a_passed_session_only(api: ApiClient, client: dict[str, Any]) -> None:
    """The seed's `current_module` e_verify (电子验证): the provider decides; saving
    the module confirms the caller's own passed session."""
    token = client["token"]
    reply = save(api, token, "e_verify", {})
    assert (reply.status, reply.json()["field"], reply.json()["code"]) == (
        422,
        "kyc_data.e_verify.session_id",
        "e_verify_not_passed",
    )
    urls = {"success_url": "https://portal.broker.example.com/ok", "failed_url": "https://portal.broker.example.com/no"}
    session = api.post("/kyc/e-verification", urls, token=token).json()["session_id"]
    reply = save(api, token, "e_verify", {"session_id": session})
    assert (reply.status, reply.json()["code"]) == (422, "e_verify_not_passed")  # pending
    path = f"/kyc/e-verification/local/{session}"
    passed = _choose(api, path, "pass", _page_token(api.get(path).body.decode()))  # the provider passes it
    assert passed.status == 303
    reply = save(api, token, "e_verify", {"session_id": "not-" + session})
    assert (reply.status, reply.json()["code"]) == (422, "unknown_session")
    reply = save(api, token, "e_verify", {"session_id": session})
    assert reply.status == 200, reply.body
    assert "e_verify" in api.get("/kyc", token=token).json()["completed_module"]


# ---------------------------------------------------------------- documents


def test_documents_are_checked_when_the_module_is_saved(api: ApiClient, client: dict[str, Any]) -> None:
    token = client["token"]
    refused = {
        "oversized": (upload(api, token, b"%PDF-" + b"0" * (10 * 1024 * 1024)), "document_too_large"),
        "renamed": (upload(api, token, b"MZ this is not a picture", "image/png"), "document_wrong_type"),
        "missing": (f"kyc/{client['id']}/{'0' * 32}", "document_missing"),
        "someone else's": (upload(api, _client(api)["token"]), "foreign_document"),
        "outside the prefix": (f"kyc/{client['id']}/../1/x", "foreign_document"),
    }
    for why, (key, code) in refused.items():
        reply = save(api, token, "authentication", {"identification_type": "passport", "passport": key})
        assert reply.status == 422, why
        assert reply.json()["code"] == code, why
        assert reply.json()["field"] == "kyc_data.authentication.passport"
    assert "authentication" not in api.get("/kyc", token=token).json()["completed_module"]
    reply = save(
        api,
        token,
        "authentication",
        {"identification_type": "passport", "passport": upload(api, token, PNG, "image/png")},
    )
    assert reply.status == 200, reply.body
    assert api.post("/kyc/documents", {"content_type": "text/html"}, token=token).status == 422


# ---------------------------------------------------------------- review


def test_submit_review_approve(api: ApiClient, admin: str, client: dict[str, Any]) -> None:
    token = client["token"]
    reply = api.post("/kyc/submission", token=token)
    assert (reply.status, reply.json()["code"]) == (422, "kyc_incomplete")
    fill_everything(api, token)
    from fxcrm.dal import users

    # an identity saved before names were copied to the user: the approval copies it
    users.set_fields(client["id"], {"first_name": "", "last_name": "", "full_name": "", "name_search": ""})
    live = LIVE_APPLICATION | {"leverage": 200}
    assert api.post("/trading-accounts/applications", live, token=token).json()["code"] == "kyc_not_approved"
    submitted = api.post("/kyc/submission", token=token)
    assert submitted.status == 201, submitted.body
    review_id = submitted.json()["review_id"]
    assert api.get("/kyc", token=token).json()["kyc_status"] == "pending"
    assert save(api, token, "identity", IDENTITY).status == 409  # locked while under review
    assert api.post("/kyc/submission", token=token).status == 409

    item = approval_waiting(api, admin, review_id)
    assert item["kind"] == "kyc" and item["summary"]["full_name"] == "Lena Novak"
    assert "task_token" not in item
    documents = api.get(f"/admin/users/{client['id']}/kyc", token=admin).json()["document_links"]
    assert set(documents) == {"authentication.passport", "authentication_accessory.address_proof"}
    assert requests.get(documents["authentication.passport"], timeout=10).content == PDF

    assert decide(api, admin, review_id, "approve").status == 200
    shown = wait_status(api, token, "approved")
    assert shown["kyc_way"] == "manual" and shown["kyc_approved_at"]
    assert shown["identity_status"] == "approved"
    info = login(api, client["email"], "Secret-pass-1").json()["user_info"]
    assert (info["first_name"], info["last_name"], info["full_name"]) == ("Lena", "Novak", "Lena Novak")
    wait_for_mail(client["email"], subject="approved")
    assert api.post("/trading-accounts/applications", live, token=token).status == 201
    audit = api.get(f"/admin/users/{client['id']}", token=admin).json()
    assert audit["kyc_status"] == "approved"


def test_a_rejected_kyc_goes_back_with_the_reason_and_can_be_resubmitted(
    api: ApiClient, admin: str, client: dict[str, Any]
) -> None:
    token = client["token"]
    fill_everything(api, token)
    review_id = api.post("/kyc/submission", token=token).json()["review_id"]
    approval_waiting(api, admin, review_id)
    assert decide(api, admin, review_id, "reject").status == 422  # a reason is required
    assert decide(api, admin, review_id, "reject", "the passport photo is blurred").status == 200
    shown = wait_status(api, token, "disapproved")
    assert api.get("/kyc/form", token=token).json()["remark"] == "the passport photo is blurred"
    assert shown["apply_status"] == "disapproved"
    wait_for_mail(client["email"], body="blurred")
    assert (
        save(
            api,
            token,
            "authentication",
            {"identification_type": "passport", "passport": upload(api, token, PNG, "image/png")},
        ).status
        == 200
    )
    again = api.post("/kyc/submission", token=token)
    assert again.status == 201 and again.json()["review_id"] != review_id


def test_support_staff_cannot_decide_a_kyc_review(api: ApiClient, client: dict[str, Any]) -> None:
    support = staff_token(api, *SUPPORT)
    fill_everything(api, client["token"])
    review_id = api.post("/kyc/submission", token=client["token"]).json()["review_id"]
    assert decide(api, support, review_id, "approve").status == 403


def _new_staff_token(api: ApiClient, admin: str, role: str) -> str:
    return staff_token(api, *new_staff(api, admin, role))


def test_only_kyc_reviewers_get_links_to_the_documents(api: ApiClient, admin: str, client: dict[str, Any]) -> None:
    fill_everything(api, client["token"])
    path = f"/admin/users/{client['id']}/kyc"
    for role in ("support", "finance"):  # may look clients up, do not review KYC
        shown = api.get(path, token=_new_staff_token(api, admin, role))
        assert shown.status == 200, shown.body
        assert shown.json()["document_links"] == {}
        assert shown.json()["kyc_data"]["identity"]["full_name"] == "Lena Novak"
    support = staff_token(api, *SUPPORT)
    assert api.get(path, token=support).json()["document_links"] == {}
    for token in (admin, _new_staff_token(api, admin, "compliance")):
        links = api.get(path, token=token).json()["document_links"]
        assert set(links) == {"authentication.passport", "authentication_accessory.address_proof"}
        assert requests.get(links["authentication.passport"], timeout=10).content == PDF


def test_the_same_document_or_identity_from_another_user_is_flagged(api: ApiClient, admin: str) -> None:
    passport = b"%PDF-1.4 passport " + secrets.token_bytes(32)
    identity = IDENTITY | {"full_name": f"Twin {secrets.token_hex(3)}"}
    first, second = _client(api), _client(api)
    fill_everything(api, first["token"], passport, identity)
    first_review = api.post("/kyc/submission", token=first["token"]).json()["review_id"]
    fill_everything(api, second["token"], passport, identity)
    second_review = api.post("/kyc/submission", token=second["token"]).json()["review_id"]
    assert approval_waiting(api, admin, first_review)["summary"]["duplicates"] == []
    flagged = approval_waiting(api, admin, second_review)["summary"]["duplicates"]
    assert {"what": "identity", "field": "identity", "user_ids": [first["id"]]} in flagged
    assert {"what": "document", "field": "authentication.passport", "user_ids": [first["id"]]} in flagged


def _passport_with(api: ApiClient, token: str, form: dict[str, Any]) -> None:
    reply = save(api, token, "authentication", {"identification_type": "passport", "passport": form["key"]})
    assert reply.status == 200, reply.body


def _submit_and_wait(api: ApiClient, admin: str, token: str) -> dict[str, Any]:
    review_id = api.post("/kyc/submission", token=token).json()["review_id"]
    return approval_waiting(api, admin, review_id)


def _shown_passport(api: ApiClient, admin: str, user_id: int) -> bytes:
    links = api.get(f"/admin/users/{user_id}/kyc", token=admin).json()["document_links"]
    return bytes(requests.get(links["authentication.passport"], timeout=10).content)


def test_bytes_uploaded_after_the_save_are_neither_shown_nor_fingerprinted(api: ApiClient, admin: str) -> None:
    """The upload form works until it expires: after saving a harmless passport the
    client uploads someone else's to the same key. Staff still see the one that
    was checked, and the duplicate check is about those same bytes."""
    theirs = b"%PDF-1.4 someone else's passport " + secrets.token_bytes(32)
    mine = b"%PDF-1.4 my own passport " + secrets.token_bytes(32)
    victim, attacker, later = _client(api), _client(api), _client(api)
    fill_everything(api, victim["token"], theirs, IDENTITY | {"full_name": f"Victim {secrets.token_hex(3)}"})
    _submit_and_wait(api, admin, victim["token"])

    fill_everything(api, attacker["token"], identity=IDENTITY | {"full_name": f"Attacker {secrets.token_hex(3)}"})
    form = upload_form(api, attacker["token"])
    post_form(form, mine)
    _passport_with(api, attacker["token"], form)
    post_form(form, theirs)  # the same form, after the check
    review = _submit_and_wait(api, admin, attacker["token"])
    assert _shown_passport(api, admin, attacker["id"]) == mine
    assert review["summary"]["duplicates"] == []  # true of what staff are shown

    # The fingerprint kept is of `mine`: a later user with those bytes is flagged as the attacker's twin.
    fill_everything(api, later["token"], mine, IDENTITY | {"full_name": f"Later {secrets.token_hex(3)}"})
    flagged = _submit_and_wait(api, admin, later["token"])["summary"]["duplicates"]
    assert {"what": "document", "field": "authentication.passport", "user_ids": [attacker["id"]]} in flagged


def test_bytes_swapped_in_while_the_save_checks_them_are_not_the_ones_kept(api: ApiClient, admin: str) -> None:
    """An upload racing the check (after the first bytes were looked at, before
    the fingerprint is read) is not what staff see or what is fingerprinted."""
    from fxcrm.dal import aws

    checked = b"%PDF-1.4 checked " + secrets.token_bytes(32)
    swapped = b"MZ\x90\x00 an executable, not a PDF " + secrets.token_bytes(32)
    person, later = _client(api), _client(api)
    fill_everything(api, person["token"], identity=IDENTITY | {"full_name": f"Racer {secrets.token_hex(3)}"})
    form = upload_form(api, person["token"])
    post_form(form, checked)
    raced: list[bool] = []

    def race(model: Any, **_: Any) -> None:
        if model.name == "GetObject" and not raced:  # the check's first read of the document
            raced.append(True)
            post_form(form, swapped)

    events = aws.client("s3").meta.events
    events.register("after-call.s3.GetObject", race, unique_id="kyc-race")
    try:
        _passport_with(api, person["token"], form)
    finally:
        events.unregister("after-call.s3.GetObject", unique_id="kyc-race")
    assert raced
    _submit_and_wait(api, admin, person["token"])
    assert _shown_passport(api, admin, person["id"]) == checked

    fill_everything(api, later["token"], checked, IDENTITY | {"full_name": f"Later {secrets.token_hex(3)}"})
    flagged = _submit_and_wait(api, admin, later["token"])["summary"]["duplicates"]
    assert {"what": "document", "field": "authentication.passport", "user_ids": [person["id"]]} in flagged


# ---------------------------------------------------------------- e-verification


def _webhook(api: ApiClient, event: dict[str, Any], secret: str | None = None) -> Any:
    from fxcrm.adapters.secrets import get_secret_json
    from fxcrm.core.settings import get_settings
    from fxcrm.kyc.everify import sign_webhook

    key = secret or get_secret_json(get_settings().e_verify_secret_name, 0)["webhook_secret"]
    headers = sign_webhook(key, json.dumps(event).encode())
    return api.post("/kyc/e-verification/webhook", event, headers=headers)


def _page_token(page_html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{64})"', page_html)
    assert match, page_html
    return match.group(1)


def _choose(api: ApiClient, path: str, outcome: str, token: str) -> Any:
    """What the stand-in page's buttons send: a form-encoded POST."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return api.request("POST", path, headers=form, body=f"outcome={outcome}&token={token}".encode())


def test_local_e_verification_redirects_and_records_the_outcome(api: ApiClient, client: dict[str, Any]) -> None:
    token = client["token"]
    urls = {
        "success_url": "https://portal.broker.example.com/ok",
        "failed_url": "https://portal.broker.example.com/failed",
    }
    started = api.post("/kyc/e-verification", urls, token=token)
    assert started.status == 201, started.body
    session = started.json()
    assert session["redirect_url"].endswith(f"/kyc/e-verification/local/{session['session_id']}")
    path = "/kyc/e-verification/local/" + session["session_id"]
    page = api.get(path)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 'method="post"' in page.body.decode()
    chosen = _choose(api, path, "fail", _page_token(page.body.decode()))
    assert (chosen.status, chosen.headers["location"]) == (303, urls["failed_url"])
    assert api.get(path).status == 404  # a finished session cannot be replayed
    assert _choose(api, path, "pass", _page_token(page.body.decode())).status == 404
    shown = api.get("/kyc", token=token).json()
    assert shown["kyc_data"]["e_verify"]["status"] == "rejected"
    assert shown["kyc_data"]["e_verify"]["reason_code"] == "LOCAL_REJECT"

    second = api.post("/kyc/e-verification", urls, token=token).json()
    path = "/kyc/e-verification/local/" + second["session_id"]
    chosen = _choose(api, path, "pass", _page_token(api.get(path).body.decode()))
    assert (chosen.status, chosen.headers["location"]) == (303, urls["success_url"])
    shown = api.get("/kyc", token=token).json()
    assert shown["kyc_data"]["e_verify"]["status"] == "approved" and "e_verify" in shown["completed_module"]
    assert shown["kyc_status"] == "filling"  # the broker's default: staff still review
    reply = api.post("/kyc/e-verification", urls, token=token)
    assert (reply.status, reply.json()["code"]) == (409, "already_verified")


def test_local_e_verification_decides_only_on_a_post_from_its_own_page(api: ApiClient, client: dict[str, Any]) -> None:
    """The attack: open the link with ?outcome=pass (or have a victim's browser
    load it), or post a verdict without the page's token."""
    urls = {
        "success_url": "https://portal.broker.example.com/ok",
        "failed_url": "https://portal.broker.example.com/failed",
    }
    session = api.post("/kyc/e-verification", urls, token=client["token"]).json()
    path = "/kyc/e-verification/local/" + session["session_id"]
    assert api.get(path + "?outcome=pass").status == 200  # only the page; nothing recorded
    forged = _choose(api, path, "pass", "0" * 64)
    assert (forged.status, forged.json()["code"], forged.json()["field"]) == (403, "bad_token", "token")
    first_token = _page_token(api.get(path).body.decode())
    other = api.post("/kyc/e-verification", urls, token=client["token"]).json()
    path = "/kyc/e-verification/local/" + other["session_id"]
    borrowed = _choose(api, path, "pass", first_token)  # the token is bound to its own attempt
    assert (borrowed.status, borrowed.json()["code"]) == (403, "bad_token")
    other_token = _page_token(api.get(path).body.decode())
    missing = api.request(
        "POST", path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"outcome=pass"
    )
    assert (missing.status, missing.json()["field"]) == (422, "token")
    bad = _choose(api, path, "maybe", other_token)
    assert (bad.status, bad.json()["field"]) == (422, "outcome")
    assert api.get("/kyc", token=client["token"]).json()["kyc_data"]["e_verify"]["status"] == "pending"


def test_e_verification_attempts_are_limited(api: ApiClient, client: dict[str, Any]) -> None:
    urls = {
        "success_url": "https://portal.broker.example.com/ok",
        "failed_url": "https://portal.broker.example.com/failed",
    }
    for _ in range(3):
        assert api.post("/kyc/e-verification", urls, token=client["token"]).status == 201
    reply = api.post("/kyc/e-verification", urls, token=client["token"])
    assert (reply.status, reply.json()["code"]) == (409, "e_verify_attempts_exhausted")
    assert api.get("/kyc/form", token=client["token"]).json()["e_verify"]["attempt_times"] == 3
    bad = api.post(
        "/kyc/e-verification",
        {"success_url": "javascript:alert(1)", "failed_url": urls["failed_url"]},
        token=client["token"],
    )
    assert (bad.status, bad.json()["field"]) == (422, "success_url")
    elsewhere = api.post(
        "/kyc/e-verification",
        {"success_url": urls["success_url"], "failed_url": "https://evil.example.net/phish"},
        token=client["token"],
    )
    assert (elsewhere.status, elsewhere.json()["code"]) == (422, "foreign_redirect")


def test_the_webhook_needs_a_valid_signature(api: ApiClient, client: dict[str, Any]) -> None:
    urls = {
        "success_url": "https://portal.broker.example.com/ok",
        "failed_url": "https://portal.broker.example.com/failed",
    }
    assert api.post("/kyc/e-verification", urls, token=client["token"]).status == 201
    event = {
        "type": "applicantReviewed",
        "externalUserId": f"fxcrm-user-{client['id']}",
        "reviewResult": {"reviewAnswer": "RED", "rejectLabels": ["FORGERY"], "moderationComment": "forged document"},
    }
    forged = _webhook(api, event, secret="not-the-secret")
    assert (forged.status, forged.json()["code"]) == (401, "bad_signature")
    unsigned = api.post("/kyc/e-verification/webhook", event)
    assert unsigned.status == 401
    assert api.get("/kyc", token=client["token"]).json()["kyc_data"]["e_verify"]["status"] == "pending"
    assert _webhook(api, {"type": "applicantPending", "externalUserId": event["externalUserId"]}).status == 200
    assert _webhook(api, event).status == 200
    e_verify = api.get("/kyc", token=client["token"]).json()["kyc_data"]["e_verify"]
    assert (e_verify["status"], e_verify["reason_code"], e_verify["reason_msg"]) == (
        "rejected",
        "FORGERY",
        "forged document",
    )
    # an older verdict arriving late does not replace the newer one
    stale = event | {"reviewResult": {"reviewAnswer": "GREEN"}, "createdAtMs": 1}
    assert _webhook(api, stale).status == 200
    assert api.get("/kyc", token=client["token"]).json()["kyc_data"]["e_verify"]["status"] == "rejected"


# ---------------------------------------------------------------- the form as staff edit it


def test_staff_edit_the_form_and_its_requirements(api: ApiClient, admin: str, client: dict[str, Any]) -> None:
    support = staff_token(api, *SUPPORT)
    assert api.get("/admin/kyc/form", token=support).status == 403
    original = api.get("/admin/kyc/form", token=admin).json()
    changed = json.loads(json.dumps(original))
    changed["requirements"]["demo"] = ["identity"]
    job = next(m for m in changed["modules"] if m["key"] == "job")
    next(f for f in job["fields"] if f["key"] == "company_name")["is_required"] = True
    bad = json.loads(json.dumps(changed))
    bad["requirements"]["live"].append("nonsense")
    assert api.put("/admin/kyc/form", bad, token=admin).status == 422
    try:
        assert api.put("/admin/kyc/form", changed, token=admin).status == 200
        demo = DEMO_ACCOUNT | {"password": "Demo-Pass1"}
        refused = api.post("/trading-accounts", demo, token=client["token"])
        assert (refused.status, refused.json()["code"]) == (403, "kyc_incomplete")
        assert save(api, client["token"], "job", {"position": "analyst"}).json()["field"] == "kyc_data.job.company_name"
        assert save(api, client["token"], "identity", IDENTITY).status == 200
        assert api.post("/trading-accounts", demo, token=client["token"]).status == 201
        day = time.strftime("%Y-%m-%d", time.gmtime())
        trail = api.get(f"/admin/audit?day={day}&action=settings.kyc_form", token=admin).json()["list"]
        assert trail and trail[0]["after"]["requirements"]["demo"] == ["identity"]
    finally:
        assert api.put("/admin/kyc/form", original, token=admin).status == 200


# ---------------------------------------------------------------- free text: no control or bidi characters


@pytest.mark.parametrize(
    ("module", "values", "field"),
    [
        ("identity", IDENTITY | {"first_name": "Le\x00na"}, "kyc_data.identity.first_name"),
        ("identity", IDENTITY | {"last_name": "\x1b[2J\x1b[31mNovak"}, "kyc_data.identity.last_name"),
        ("identity", IDENTITY | {"full_name": "Lena\r\nNovak"}, "kyc_data.identity.full_name"),
        ("identity", IDENTITY | {"full_name": "Lena Novak\n"}, "kyc_data.identity.full_name"),
        (
            "contact",
            CONTACT | {"residential_address": "Hauptstr. 1\u202e nilreB"},
            "kyc_data.contact.residential_address",
        ),
        ("contact", CONTACT | {"residence_province": "\u2066Berlin\u2069"}, "kyc_data.contact.residence_province"),
    ],
)
def test_kyc_text_with_control_or_bidi_characters_is_refused(
    api: ApiClient, client: dict[str, Any], module: str, values: dict[str, Any], field: str
) -> None:
    reply = save(api, client["token"], module, values)
    assert reply.status == 422, reply.body
    assert reply.json()["field"] == field
    assert api.get("/kyc", token=client["token"]).json()["kyc_data"].get(module) in (None, {})


def test_kyc_text_in_any_script_is_kept_as_written(api: ApiClient, client: dict[str, Any]) -> None:
    names = {"first_name": "Łucja", "last_name": "O'Brien-محمد", "full_name": "Łucja 陈 O'Brien-محمد"}
    assert save(api, client["token"], "identity", IDENTITY | names).status == 200
    assert api.get("/kyc", token=client["token"]).json()["kyc_data"]["identity"] == IDENTITY | names
