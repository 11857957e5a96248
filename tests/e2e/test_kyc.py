"""KYC over HTTP on the local cloud: a new client fills every module,
uploads documents straight to S3 with presigned POSTs, answers the
questionnaire, passes the local e-verification stand-in and submits; staff
approve and the status is approved. Oversized, wrongly typed and foreign
documents are refused at save; a forged webhook is refused."""

import re
import secrets

import httpx

from tests.support.demo import ADMIN
from tests.support.http_journeys import (
    RunningCloud,
    bearer,
    post_to_form,
    register,
    save_kyc_module,
    upload_kyc_document,
    wait_for,
)

PDF = b"%PDF-1.4\n% passport scan\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def _register(cloud: RunningCloud, http: httpx.Client) -> dict[str, str]:
    return bearer(register(cloud, http, "kyc", "Kyc-pass-2026")["token"])


def test_fill_upload_verify_submit_and_approve(cloud: RunningCloud) -> None:
    staff = cloud.staff_headers(*ADMIN)
    with cloud.client() as http:
        user = _register(cloud, http)
        other = _register(cloud, http)
        form = http.get("/kyc/form", headers=user).json()
        assert [m["module"]["key"] for m in form["identity"]["modules"]] == ["identity"]

        # documents that must not be referenced
        oversized = upload_kyc_document(http, user, b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")
        renamed = upload_kyc_document(http, user, b"<html>not an image</html>", "image/jpeg")
        foreign = upload_kyc_document(http, other, PDF, "application/pdf")
        for key, code in (
            (oversized, "document_too_large"),
            (renamed, "document_wrong_type"),
            (foreign, "foreign_document"),
        ):
            refused = save_kyc_module(
                http, user, "authentication", {"identification_type": "passport", "passport": key}
            )
            assert (refused.status_code, refused.json()["code"]) == (422, code)
            assert refused.json()["field"] == "kyc_data.authentication.passport"

        modules = {
            "identity": {
                "first_name": "Ada",
                "last_name": "Moreno",
                "full_name": f"Ada Moreno {secrets.token_hex(2)}",
                "gender": "female",
                "birthday": "1988-02-29",
                "country": "CY",
            },
            "family": {"marital_status": "married", "home_phone": "+35722123456"},
            "contact": {
                "contact_phone": "+35799123456",
                "residential_address": "1 Makariou Ave, Limassol",
                "residence_province": "Limassol",
                "postal_code": "3030",
            },
            "job": {"company_name": "Moreno Ltd", "position": "Director", "industry_attributes": "trade"},
            "authentication_accessory": {
                "address_proof": upload_kyc_document(http, user, JPEG + secrets.token_bytes(8), "image/jpeg")
            },
            "authentication": {
                "identification_type": "passport",
                "passport": upload_kyc_document(http, user, PDF + secrets.token_bytes(8), "application/pdf"),
            },
            "agreement": {"client_agreement": True, "risk_disclosure": True, "privacy_policy": True},
        }
        for module, data in modules.items():
            saved = save_kyc_module(http, user, module, data)
            assert saved.status_code == 200, (module, saved.text)
        answers = [
            {"question_id": 1, "answer": "gt3"},
            {"question_id": 2, "answer": "yes"},
            {"question_id": 4, "answer": "gt100k"},
        ]
        assert (
            http.post(
                "/kyc/questionnaire-answers", json={"questionnaire_id": 1, "answers": answers}, headers=user
            ).status_code
            == 200
        )

        # e-verification through the local stand-in, which redirects back to the portal
        urls = {
            "success_url": "https://portal.broker.example.com/kyc/done",
            "failed_url": "https://portal.broker.example.com/kyc/failed",
        }
        session = http.post("/kyc/e-verification", json=urls, headers=user).json()
        assert session["redirect_url"].startswith(cloud.url)
        page = httpx.get(session["redirect_url"] + "?outcome=pass", follow_redirects=False, timeout=30)
        assert page.status_code == 200  # a GET only shows the page: its buttons post the verdict
        token = re.search(r'name="token" value="([0-9a-f]{64})"', page.text)
        assert token, page.text
        chosen = httpx.post(
            session["redirect_url"],
            data={"outcome": "pass", "token": token.group(1)},
            follow_redirects=False,
            timeout=30,
        )
        assert (chosen.status_code, chosen.headers["location"]) == (303, urls["success_url"])

        forged = http.post(
            "/kyc/e-verification/webhook",
            content=b'{"type":"applicantReviewed","externalUserId":"fxcrm-user-1","reviewResult":{"reviewAnswer":"GREEN"}}',
            headers={
                "X-Payload-Digest": "0" * 64,
                "X-Payload-Digest-Alg": "HMAC_SHA256_HEX",
                "Content-Type": "application/json",
            },
        )
        assert (forged.status_code, forged.json()["code"]) == (401, "bad_signature")

        shown = http.get("/kyc", headers=user).json()
        assert set(shown["completed_module"]) == {*modules, "questionnaire", "e_verify"}
        assert shown["kyc_data"]["e_verify"]["status"] == "approved"

        submitted = http.post("/kyc/submission", headers=user)
        assert submitted.status_code == 201, submitted.text
        review_id = submitted.json()["review_id"]
        wait_for(lambda: http.get(f"/admin/approvals/{review_id}", headers=staff).json(), "waiting")
        links = http.get(f"/admin/users/{review_user(http, staff, review_id)}/kyc", headers=staff).json()[
            "document_links"
        ]
        assert httpx.get(links["authentication.passport"], timeout=30).content.startswith(PDF)
        assert (
            http.post(f"/admin/approvals/{review_id}/decision", json={"decision": "approve"}, headers=staff).status_code
            == 200
        )
        status = wait_for(lambda: http.get("/kyc", headers=user).json(), "approved", key="kyc_status")
        assert status["kyc_way"] == "manual" and status["kyc_approved_at"]


def test_staff_see_the_document_that_was_checked_not_one_uploaded_later(cloud: RunningCloud) -> None:
    """The upload form works until it expires: bytes posted with it after the
    save are not what the reviewer's link shows."""
    staff = cloud.staff_headers(*ADMIN)
    with cloud.client() as http:
        registered = register(cloud, http, "kyc", "Kyc-pass-2026")
        user, user_id = bearer(registered["token"]), registered["user_info"]["id"]
        form = http.post("/kyc/documents", json={"content_type": "application/pdf"}, headers=user).json()
        checked = PDF + secrets.token_bytes(16)

        post_to_form(form, checked, "application/pdf", "scan")
        saved = save_kyc_module(
            http, user, "authentication", {"identification_type": "passport", "passport": form["key"]}
        )
        assert saved.status_code == 200, saved.text
        post_to_form(form, b"%PDF-1.4\n% somebody else's passport\n%%EOF\n", "application/pdf", "scan")
        links = http.get(f"/admin/users/{user_id}/kyc", headers=staff).json()["document_links"]
        assert httpx.get(links["authentication.passport"], timeout=30).content == checked


def review_user(http: httpx.Client, staff: dict[str, str], review_id: int) -> int:
    return int(http.get(f"/admin/approvals/{review_id}", headers=staff).json()["user_id"])
