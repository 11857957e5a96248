"""Kyc function: /kyc/* (status and data, the form, saving modules and
questionnaire answers, document uploads, submission for review,
e-verification and its provider's callback)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fxcrm.api import standin
from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import CurrentPrincipal
from fxcrm.auth import permissions
from fxcrm.auth.schemas import EmptyResponse
from fxcrm.core import clock
from fxcrm.core.errors import Forbidden
from fxcrm.core.observability import logger
from fxcrm.core.settings import get_settings
from fxcrm.kyc import documents, everify, profile
from fxcrm.kyc.schemas import (
    AnswersRequest,
    DocumentUpload,
    DocumentUploadRequest,
    EVerifyRequest,
    EVerifyResponse,
    KycFormResponse,
    KycStatusResponse,
    SaveModuleRequest,
    SubmissionResponse,
    WebhookAnswer,
)

router = APIRouter(prefix="/kyc", tags=["kyc"])


def _viewer(principal: CurrentPrincipal) -> int:
    permissions.require(principal, "kyc.view")
    return principal.user_id


@router.get("", response_model=KycStatusResponse, responses=error_responses(401, 403))
def kyc_status(principal: CurrentPrincipal) -> Any:
    """The caller's KYC status and saved data (client portal)."""
    return profile.status(get_settings(), _viewer(principal))


@router.get("/ib", response_model=KycStatusResponse, responses=error_responses(401, 403))
def ib_kyc_status(principal: CurrentPrincipal) -> Any:
    """The caller's KYC status and saved data (IB portal)."""
    if principal.user_type != "ib":
        raise Forbidden("for introducing brokers only", code="ib_only")
    return profile.status(get_settings(), _viewer(principal))


@router.get("/form", response_model=KycFormResponse, responses=error_responses(401, 403))
def kyc_form(principal: CurrentPrincipal) -> Any:
    """The broker's KYC form, each field with the caller's saved value."""
    _viewer(principal)
    return profile.form_view(principal)


@router.put("/modules", response_model=EmptyResponse, responses=error_responses(401, 403, 409))
def save_module(body: SaveModuleRequest, principal: CurrentPrincipal) -> Any:
    """Save one module (or `all` of those given), checked against the form;
    a 422 names each bad field as `kyc_data.<module>.<field>`."""
    permissions.require(principal, "kyc.submit")
    profile.save_module(get_settings(), principal, body.current_module, body.kyc_data, clock.now())
    return {}


@router.post("/questionnaire-answers", response_model=EmptyResponse, responses=error_responses(401, 403, 409))
def save_answers(body: AnswersRequest, principal: CurrentPrincipal) -> Any:
    """Save the answers to one questionnaire."""
    permissions.require(principal, "kyc.submit")
    answers = [a.model_dump() for a in body.answers]
    profile.save_answers(principal, body.questionnaire_id, answers, clock.now())
    return {}


@router.post("/documents", response_model=DocumentUpload, status_code=201, responses=error_responses(401, 403))
def document_upload(body: DocumentUploadRequest, principal: CurrentPrincipal) -> Any:
    """Where to upload one document (a presigned POST: JPEG, PNG or PDF, at most 10 MB, 5 minutes)."""
    permissions.require(principal, "kyc.submit")
    return documents.upload(get_settings(), principal, body.content_type)


@router.post(
    "/submission", response_model=SubmissionResponse, status_code=201, responses=error_responses(401, 403, 409, 503)
)
def submit_kyc(principal: CurrentPrincipal) -> Any:
    """Send the completed KYC to staff for review."""
    permissions.require(principal, "kyc.submit")
    review_id = profile.submit(get_settings(), principal, clock.now())
    return {"kyc_status": "pending", "review_id": review_id}


@router.post(
    "/e-verification", response_model=EVerifyResponse, status_code=201, responses=error_responses(401, 403, 409, 503)
)
def start_e_verification(body: EVerifyRequest, principal: CurrentPrincipal, request: Request) -> Any:
    """Start an e-verification attempt; send the client to `redirect_url`."""
    permissions.require(principal, "kyc.submit")
    api_base = str(request.base_url)
    return profile.start_e_verification(
        get_settings(), principal, body.success_url, body.failed_url, api_base, clock.now()
    )


@router.post("/e-verification/webhook", response_model=WebhookAnswer, responses=error_responses(401))
async def e_verification_webhook(request: Request) -> Any:
    """The provider's callback (Sumsub `applicantReviewed`), signed with `X-Payload-Digest`."""
    settings = get_settings()
    body = await request.body()
    review = everify.parse_webhook(settings, body, {k.lower(): v for k, v in request.headers.items()})
    if review is not None:
        profile.record_review(settings, review, clock.now())
    else:
        logger.info("e-verification event without a verdict ignored")
    return {"ok": True}


_SessionId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get(
    "/e-verification/local/{session_id}",
    responses=standin.page_responses("The stand-in's page: pass and fail buttons that POST"),
)
def local_e_verification_page(session_id: _SessionId) -> HTMLResponse:
    """The local stand-in for the provider's page. A GET records nothing (links,
    prefetchers and images cannot verify anyone): its buttons POST the verdict."""
    token = profile.local_page(get_settings(), session_id)
    # relative: the form posts back to this very page, wherever the API is mounted
    return standin.page(
        "e-verification",
        ["This stand-in replaces the verification provider on a development stack. Choose the verdict."],
        session_id,
        token,
        {"pass": "Pass", "fail": "Fail"},
    )


@router.post(
    "/e-verification/local/{session_id}",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "To `success_url` or `failed_url`"}, **error_responses(403, 404)},
)
async def local_e_verification(session_id: _SessionId, request: Request) -> RedirectResponse:
    """The stand-in page's form (`outcome` pass|fail and its `token`, form-encoded):
    record the verdict and go back to the portal."""
    outcome, token = await standin.choice(request, ("pass", "fail"), "must be pass or fail")
    target = profile.local_result(get_settings(), session_id, outcome == "pass", token, clock.now())
    return RedirectResponse(target, status_code=303)


app = create_app("fxcrm kyc", [router], "Identity verification: the form, documents, e-verification and review")
handler = lambda_handler(app, "kyc")
