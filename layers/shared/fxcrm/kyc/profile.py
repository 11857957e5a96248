"""A client's (or IB's) KYC: the form with their answers, saving modules and
questionnaire answers, submitting for review, the review's outcome, and
e-verification attempts.

Statuses: `filling` → (submit) `pending` → `approved` | `disapproved`; a
disapproved KYC can be corrected and submitted again. While pending or once
approved, nothing can be changed."""

import hashlib
import hmac
import uuid
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from fxcrm import audit
from fxcrm.adapters import files
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import ApprovalItem, Kind
from fxcrm.auth import permissions
from fxcrm.core import ids, times
from fxcrm.core.caller import Principal, person_name
from fxcrm.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import ib_index
from fxcrm.dal import kyc as dal
from fxcrm.dal import users as users_dal
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.table import plain
from fxcrm.kyc import documents, everify, forms
from fxcrm.kyc.forms import FormConfig
from fxcrm.mail import sender as mail

KIND: Kind = "kyc"
CHANGEABLE = ("filling", "disapproved")
SECTIONS = ("identity", "kyc", "agreement")
E_VERIFY_FIELDS = ("provider", "reason_code", "reason_msg", "session_id", "status", "verified_at")
# Saved beside a module's documents: the sha256 of each, to find the same document from another user,
# and the S3 version that was checked, the only one staff are shown (never shown to the client).
FINGERPRINTS = "_fingerprints"
VERSIONS = "_versions"
HIDDEN = (FINGERPRINTS, VERSIONS)


# ---------------------------------------------------------------- reading


def _state(user_id: int) -> dict[str, Any]:
    return plain(dal.get_status(user_id) or {}) or {}


def kyc_data(form: FormConfig, modules: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The saved answers in the seed's shape (agreements as the accepted documents)."""
    data: dict[str, Any] = {
        key: {k: v for k, v in (plain(value) or {}).items() if k not in HIDDEN}
        for key, value in modules.items()
        if key in forms.FILLED_BY_FORM
    }
    agreement = form.module("agreement")
    accepted = data.pop("agreement", {}) or {}
    data["agreement"] = [
        {"key": f.key, "name": f.name, "url": f.value}
        for f in (agreement.fields if agreement else [])
        if accepted.get(f.key)
    ]
    data["questionnaire"] = [a for answers in (plain(modules.get("questionnaire")) or {}).values() for a in answers]
    session = state.get("e_verify") or {}
    data["e_verify"] = {k: session.get(k, "") for k in E_VERIFY_FIELDS}
    return data


def _section_status(form: FormConfig, section: str, state: dict[str, Any]) -> str:
    status = state.get("kyc_status", "filling")
    if status != "filling":
        return str(status)
    needed = [m.key for m in form.modules if m.section == section and m.key in form.requirements.live]
    done = set(state.get("completed_module") or [])
    return "completed" if set(needed) <= done else "filling"


def status(settings: Settings, user_id: int, modules: dict[str, Any] | None = None) -> dict[str, Any]:
    form = forms.current()
    state = _state(user_id)
    user = users_dal.get_user(user_id) or {}
    approved_at = state.get("kyc_approved_at")
    return {
        "kyc_status": state.get("kyc_status", "filling"),
        "apply_status": state.get("apply_status", "filling"),
        "identity_status": _section_status(form, "identity", state),
        "agreement_status": _section_status(form, "agreement", state),
        "completed_module": list(state.get("completed_module") or []),
        "kyc_data": kyc_data(form, dal.get_modules(user_id) if modules is None else modules, state),
        "kyc_way": state.get("kyc_way", ""),
        "kyc_approved_at": times.show(int(approved_at), settings.broker_timezone) if approved_at else "",
        "register_datetime": times.show(int(user.get("created_at", 0)), settings.broker_timezone),
    }


DOCUMENT_LINK_SECONDS = 300


# Identity documents are for those who review KYC, not for everyone who may look a client up.
DOCUMENTS_ACTION = "admin.approvals.kyc"


def reviewer_view(settings: Settings, staff: Principal, user_id: int) -> dict[str, Any]:
    """What staff see: the status and data; for KYC reviewers also short-lived
    links to each document (other roles, such as support, get none)."""
    user = users_dal.get_user(user_id)
    if user is None or user.get("user_type") not in ("client", "ib"):
        raise NotFound("no such client or IB", "user_id")
    modules = dal.get_modules(user_id)
    shown = status(settings, user_id, modules)
    if DOCUMENTS_ACTION not in permissions.allowed_actions(staff):
        return shown | {"user_id": user_id, "remark": _state(user_id).get("remark", ""), "document_links": {}}
    # Only the version checked at save: bytes uploaded to the key since are never shown.
    links = {
        f"{module}.{field}": files.presigned_get(
            settings.bucket_name, str(values[field]), DOCUMENT_LINK_SECONDS, version_id=str(version)
        )
        for module, values in ((m, plain(v) or {}) for m, v in modules.items())
        for field, version in (values.get(VERSIONS) or {}).items()
        if str(values.get(field, "")).startswith(documents.prefix(user_id))
    }
    return shown | {"user_id": user_id, "remark": _state(user_id).get("remark", ""), "document_links": links}


def form_view(principal: Principal) -> dict[str, Any]:
    """The form the client fills, each field with the client's saved value."""
    form = forms.current()
    state = _state(principal.user_id)
    saved = dal.get_modules(principal.user_id)
    sections: dict[str, Any] = {s: {"modules": [], "status": _section_status(form, s, state)} for s in SECTIONS}
    for module in form.modules:
        if module.key == "questionnaire":
            fields = forms.questionnaire_fields(form)
            answers = {a["key"]: a["answer"] for qs in (plain(saved.get("questionnaire")) or {}).values() for a in qs}
            for field in fields:
                field["value"] = answers.get(field["key"], "")
        else:
            values = {k: v for k, v in (plain(saved.get(module.key)) or {}).items() if k not in HIDDEN}
            fields = [
                f.model_dump() | ({"value": values[f.key]} if f.key in values and f.type != "agreement" else {})
                for f in sorted(module.fields, key=lambda f: f.sort)
                if f.is_enabled
            ]
        sections[module.section]["modules"].append(
            {"module": {"key": module.key, "name": module.name}, "fields": fields}
        )
    e_verify = state.get("e_verify") or {}
    return {
        **sections,
        "apply_status": state.get("apply_status", "filling"),
        "e_verify": {
            "attempt_times": int(state.get("e_verify_attempts", 0)),
            "retry_times": form.e_verify.retry_times,
            "provider": e_verify.get("provider", ""),
            "status": e_verify.get("status", "not_started" if form.e_verify.enabled else "disabled"),
            "code": e_verify.get("reason_code", ""),
        },
        "remark": state.get("remark", ""),
    }


# ---------------------------------------------------------------- filling in


def _completed(form: FormConfig, state: dict[str, Any], module: str) -> list[str]:
    done = set(state.get("completed_module") or []) | {module}
    return [m for m in forms.MODULES if m in done]


def _name_fields(identity: dict[str, Any] | None, now: int) -> dict[str, Any] | None:
    """The user item's name from the identity module (None if it names nobody:
    a form without name fields leaves the user's name alone)."""
    given = {k: str((identity or {}).get(k) or "") for k in ("first_name", "last_name", "full_name")}
    name = person_name(given["first_name"], given["last_name"], given["full_name"])
    return (name | {"updated_at": now}) if name["full_name"] else None


def _take_name(user_id: int, now: int) -> None:
    """Copy the identity's name onto the user again (at approval: the name
    the review approved is the user's name everywhere)."""
    name = _name_fields(plain(dal.get_modules(user_id).get("identity")), now)
    if name is not None:
        users_dal.set_fields(user_id, name)
        ib_index.name_changed(user_id, name["name_search"])


def _write_module(user_id: int, module: str, data: Any, completed: list[str], now: int) -> None:
    # the identity's name becomes the user's, in the same transaction as the module
    name = _name_fields(data, now) if module == "identity" else None
    try:
        dal.save_module(
            user_id, module, data, completed, now, [users_dal.set_fields_request(user_id, name)] if name else ()
        )
    except ConditionFailed as error:
        raise Conflict(
            "your KYC is under review or approved and cannot be changed", "current_module", "kyc_locked"
        ) from error
    if name:
        ib_index.name_changed(user_id, name["name_search"])  # the IB lists' name filters


def _require_changeable(state: dict[str, Any]) -> None:
    if state.get("kyc_status", "filling") not in CHANGEABLE:
        raise Conflict("your KYC is under review or approved and cannot be changed", "current_module", "kyc_locked")


def save_module(
    settings: Settings, principal: Principal, current_module: str, kyc_data: dict[str, Any], now: int
) -> None:
    """Save one module (or, with `all`, every module given), each checked
    against the form; documents are checked in S3 before they are referenced."""
    form = forms.current()
    state = _state(principal.user_id)
    _require_changeable(state)
    if current_module == "all":
        unknown = [m for m in kyc_data if m not in forms.MODULES or form.module(m) is None]
        if unknown:
            raise InvalidInput("is not a module of the form", f"kyc_data.{unknown[0]}", "unknown_module")
        if not kyc_data:
            raise InvalidInput("name each module to save by its key", "kyc_data")
        wanted = list(kyc_data)
    else:
        if form.module(current_module) is None:
            raise InvalidInput("is not a module of the broker's form", "current_module", "unknown_module")
        other = sorted(set(kyc_data) - {current_module})
        if other:
            # the data is another module's: the module named is the mistake
            raise InvalidInput(f"is {current_module}, but kyc_data holds {other[0]}", "current_module")
        wanted = [current_module]
    cleaned = {key: _clean(settings, principal, form, state, key, kyc_data.get(key)) for key in wanted}
    for key in wanted:
        state["completed_module"] = _completed(form, state, key)
        _write_module(principal.user_id, key, cleaned[key], state["completed_module"], now)


def _clean(
    settings: Settings, principal: Principal, form: FormConfig, state: dict[str, Any], key: str, data: Any
) -> Any:
    """One module's data as it is stored, by the module's own rule."""
    if key == "questionnaire":
        # the questions by key (as the form lists them); stored as the answers endpoint stores them
        answers = forms.answers_by_key(form, data, "kyc_data.questionnaire")
        return {str(questionnaire_id): found for questionnaire_id, found in answers.items()}
    if key == "e_verify":
        return _confirm_e_verification(state, data)
    values = forms.clean_module(form, key, data)
    module = form.module(key)
    checked = {
        field.key: documents.check(settings, principal.user_id, str(values[field.key]), f"kyc_data.{key}.{field.key}")
        for field in (module.fields if module else [])
        if field.type == "file" and values.get(field.key)
    }
    if checked:
        values[FINGERPRINTS] = {name: c.sha256 for name, c in checked.items()}
        values[VERSIONS] = {name: c.version_id for name, c in checked.items()}
    return values


def _confirm_e_verification(state: dict[str, Any], data: Any) -> dict[str, Any]:
    """The e_verify module (电子验证) is the provider's verdict: a client saves
    it only to confirm its own passed session (`session_id` optional), never to
    set the verdict."""
    name = "kyc_data.e_verify"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("must be an object", name)
    unknown = sorted(set(data) - {"session_id"})
    if unknown:
        raise InvalidInput("is written by the verification provider only", f"{name}.{unknown[0]}", "unknown_field")
    session = state.get("e_verify") or {}
    if "session_id" in data and data["session_id"] != session.get("session_id"):
        raise InvalidInput("is not your current e-verification session", f"{name}.session_id", "unknown_session")
    if session.get("status") != "approved":
        raise InvalidInput(
            "the e-verification has not passed (start it with POST /kyc/e-verification)",
            f"{name}.session_id",
            "e_verify_not_passed",
        )
    return {"passed": True}


def save_answers(principal: Principal, questionnaire_id: int, answers: list[dict[str, Any]], now: int) -> None:
    form = forms.current()
    state = _state(principal.user_id)
    _require_changeable(state)
    cleaned = forms.clean_answers(form, questionnaire_id, answers)
    saved = plain(dal.get_modules(principal.user_id).get("questionnaire")) or {}
    saved[str(questionnaire_id)] = cleaned
    answered = {int(q) for q in saved}
    completed = list(state.get("completed_module") or [])
    if all(q.questionnaire_id in answered for q in form.questionnaires):
        completed = _completed(form, state, "questionnaire")
    _write_module(principal.user_id, "questionnaire", saved, completed, now)


def missing_for(form: FormConfig, user_id: int, purpose: str) -> list[str]:
    """Modules the broker requires for `live` (the review) or `demo` that the user has not completed."""
    needed = form.requirements.live if purpose == "live" else form.requirements.demo
    done = set(_state(user_id).get("completed_module") or [])
    return [m for m in needed if m not in done]


def require_for_demo(user_id: int) -> None:
    missing = missing_for(forms.current(), user_id, "demo")
    if missing:
        raise Forbidden(f"complete these KYC modules first: {', '.join(missing)}", "is_demo", "kyc_incomplete")


# ---------------------------------------------------------------- review


def _identity_fingerprint(identity: dict[str, Any]) -> str:
    text = "|".join(str(identity.get(k, "")).strip().lower() for k in ("full_name", "birthday", "country"))
    return "identity#" + hashlib.sha256(text.encode()).hexdigest()


def _duplicates(user_id: int, modules: dict[str, Any], now: int) -> list[dict[str, Any]]:
    """Other users who submitted the same document or the same identity."""
    found = []
    identity = plain(modules.get("identity")) or {}
    if identity:
        others = dal.add_match(_identity_fingerprint(identity), user_id, "identity", now)
        if others:
            found.append({"what": "identity", "field": "identity", "user_ids": others})
    for module in ("authentication", "authentication_accessory"):
        for field, digest in ((plain(modules.get(module)) or {}).get(FINGERPRINTS) or {}).items():
            others = dal.add_match("document#" + str(digest), user_id, f"{module}.{field}", now)
            if others:
                found.append({"what": "document", "field": f"{module}.{field}", "user_ids": others})
    return found


def submit(settings: Settings, principal: Principal, now: int) -> int:
    """Send the completed KYC to staff. Returns the review's id."""
    form = forms.current()
    missing = missing_for(form, principal.user_id, "live")
    if missing:
        raise InvalidInput(f"complete these modules first: {', '.join(missing)}", "completed_module", "kyc_incomplete")
    review_id = ids.new_id()
    try:
        dal.change_status(principal.user_id, "pending", CHANGEABLE, now, {"approval_id": review_id, "remark": ""})
    except ConditionFailed as error:
        raise Conflict("your KYC is already under review or approved", "kyc_status", "kyc_locked") from error
    modules = dal.get_modules(principal.user_id)
    identity = plain(modules.get("identity")) or {}
    authentication = plain(modules.get("authentication")) or {}
    summary = {
        "full_name": identity.get("full_name", ""),
        "birthday": identity.get("birthday", ""),
        "country": identity.get("country", ""),
        "identification_type": authentication.get("identification_type", ""),
        "e_verify": (_state(principal.user_id).get("e_verify") or {}).get("status", ""),
        "duplicates": _duplicates(principal.user_id, modules, now),
    }
    try:
        workflow.submit(settings, KIND, review_id, principal, summary, now)
    except Exception:
        dal.change_status(principal.user_id, "filling", ("pending",), now, {})
        raise
    logger.info("kyc submitted", extra={"review_id": review_id, "duplicates": len(summary["duplicates"])})
    return review_id


def approve(settings: Settings, review_id: int, now: int) -> dict[str, Any]:
    """The review flow's step after staff approve: mark the KYC approved,
    close the review and tell the client. Safe to retry."""
    review = approvals_dal.get_approval(review_id)
    if review is None:
        raise NotFound("no such review", "approval_id")
    user_id = review.user_id
    _take_name(user_id, now)  # before the status, so an approved KYC always shows its name
    with suppress(ConditionFailed):  # already approved by an earlier attempt of this step
        dal.change_status(
            user_id, "approved", ("pending",), now, {"kyc_approved_at": now, "kyc_way": "manual", "remark": ""}
        )
    if workflow.close(review_id, "completed", now) is not None:
        mail.send(settings, review.email, "kyc_approved", {}, user_id=user_id)
    return {"kyc_status": "approved"}


def notify_closed(settings: Settings, review: ApprovalItem) -> None:
    """A review closed without approval (rejected, expired, failed): the KYC
    goes back to the client to correct, with the reason."""
    reasons = {
        "expired": "the review timed out; please submit again",
        "failed": "the review failed; please submit again",
    }
    reason = (review.reason or "") if review.status == "rejected" else reasons.get(review.status, "")
    with suppress(ConditionFailed):  # already sent back by an earlier attempt
        dal.change_status(review.user_id, "disapproved", ("pending",), review.closed_at or 0, {"remark": reason})
    mail.send(
        settings,
        review.email,
        "kyc_returned",
        {"reason": reason},
        user_id=review.user_id,
        outcome=review.status,
    )


# ---------------------------------------------------------------- e-verification


def start_e_verification(
    settings: Settings, principal: Principal, success_url: str, failed_url: str, api_base: str, now: int
) -> dict[str, Any]:
    form = forms.current()
    if not form.e_verify.enabled:
        raise Forbidden("electronic verification is not offered", "e_verify", "e_verify_disabled")
    for field, url in (("success_url", success_url), ("failed_url", failed_url)):
        _require_portal(settings, url, field)
    state = _state(principal.user_id)
    if (state.get("e_verify") or {}).get("status") == "approved":
        raise Conflict("you are already verified electronically", "e_verify", "already_verified")
    _require_changeable(state)
    verifier = everify.verifier_from_settings(settings)
    session_id = uuid.uuid4().hex
    expire_at = now + settings.e_verify_session_seconds
    try:
        dal.start_e_verification(
            principal.user_id,
            {
                "session_id": session_id,
                "provider": verifier.name,
                "status": "pending",
                "reason_code": "",
                "reason_msg": "",
                "verified_at": "",
                "success_url": success_url,
                "failed_url": failed_url,
            },
            form.e_verify.retry_times,
            now,
        )
    except dal.AttemptsExhausted as error:
        raise Conflict(
            f"all {form.e_verify.retry_times} verification attempts are used; contact support",
            "e_verify",
            "e_verify_attempts_exhausted",
        ) from error
    attempt = everify.Attempt(
        principal.user_id, principal.email, session_id, success_url, failed_url, settings.e_verify_session_seconds
    )
    return {
        "session_id": session_id,
        "redirect_url": verifier.start(attempt, api_base),
        "expire_at": times.show(expire_at, settings.broker_timezone),
    }


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.netloc or "").lower()


def _require_portal(settings: Settings, url: str, field: str) -> None:
    """The provider sends the client to these URLs: only back into the broker's
    own portal, so that the API cannot be used as an open redirect."""
    if _origin(url) != _origin(settings.portal_url):
        raise InvalidInput(f"must lead back to the portal ({settings.portal_url})", field, "foreign_redirect")


def record_review(settings: Settings, review: everify.Review, now: int) -> None:
    """A provider's verdict: update e_verify, complete the module on a pass,
    and approve the KYC when the broker lets e-verification decide."""
    state = _state(review.user_id)
    session = state.get("e_verify") or {}
    if not session.get("session_id"):
        logger.warning("verdict for a user without a session", extra={"user_id": review.user_id})
        return
    result = session | {
        "decided_ms": review.decided_ms or now * 1000,
        "status": "approved" if review.passed else "rejected",
        "reason_code": review.reason_code,
        "reason_msg": review.reason_msg,
        "verified_at": times.show(now, settings.broker_timezone) if review.passed else "",
    }
    if dal.record_e_verification(review.user_id, str(session["session_id"]), result, now) is None:
        return
    form = forms.current()
    if review.passed:
        completed = _completed(form, state, "e_verify")
        with suppress(ConditionFailed):  # the KYC is no longer changeable
            dal.save_module(review.user_id, "e_verify", {"passed": True}, completed, now)
        if form.e_verify.auto_approve:
            _take_name(review.user_id, now)
            with suppress(ConditionFailed):  # the KYC is no longer changeable
                dal.change_status(
                    review.user_id, "approved", CHANGEABLE, now, {"kyc_approved_at": now, "kyc_way": "e_verify"}
                )
    user = users_dal.get_user(review.user_id)
    if user is not None:
        action = "kyc.e_verify.passed" if review.passed else "kyc.e_verify.failed"
        audit.security_event(user, action, "provider", now, {"reason_code": review.reason_code})


def _local_session(settings: Settings, session_id: str) -> tuple[int, dict[str, Any]]:
    """The user and unfinished attempt behind a stand-in page; 404 otherwise."""
    if settings.e_verify_provider != "local":
        raise NotFound("no such page", "session_id")
    user_id = dal.get_session_user(session_id)
    session = (_state(user_id).get("e_verify") or {}) if user_id is not None else {}
    if user_id is None or session.get("session_id") != session_id or session.get("status") != "pending":
        raise NotFound("no such verification session, or it is finished", "session_id")
    return user_id, session


def local_page(settings: Settings, session_id: str) -> str:
    """The local stand-in's page (GET): records nothing; answers the form token its buttons post."""
    _local_session(settings, session_id)
    return everify.local_token(settings, session_id)


def local_result(settings: Settings, session_id: str, passed: bool, token: str, now: int) -> str:
    """The local stand-in's verdict (POST from its page): check the page's token,
    record the outcome and answer where to send the client."""
    user_id, session = _local_session(settings, session_id)
    if not hmac.compare_digest(token.encode(), everify.local_token(settings, session_id).encode()):
        raise Forbidden("the verdict must come from the verification page", "token", "bad_token")
    record_review(settings, everify.Review(user_id, passed, "" if passed else "LOCAL_REJECT", ""), now)
    return str(session["success_url"] if passed else session["failed_url"])
