"""The broker's KYC form, as data: modules and their fields, the
questionnaires, which modules live and demo accounts require, and the
e-verification policy. A default ships in `default_form.json`; staff replace it
through the back office (validated by `FormConfig`, audited).

Field values are checked here against the form: required fields, option
values, types (date, phone, email, file), one error naming each bad field."""

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from fxcrm import audit
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput
from fxcrm.core.text import FreeText, check_free_text
from fxcrm.dal import settings_items

ModuleKey = Literal[
    "identity",
    "questionnaire",
    "family",
    "contact",
    "job",
    "authentication_accessory",
    "authentication",
    "agreement",
    "e_verify",
]
MODULES: tuple[str, ...] = ModuleKey.__args__  # type: ignore[attr-defined]
# Modules of plain field values. The questionnaire's answers (saved by `save
# module` by question key, or by its own endpoint) and e-verification (whose
# verdict only the provider writes) have rules of their own (profile.py).
FILLED_BY_FORM = ("identity", "family", "contact", "job", "authentication_accessory", "authentication", "agreement")
SETTING = "kyc_form"
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The documents each identification type needs in the `authentication` module.
DOCUMENTS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "passport": ("passport",),
    "identity_card": ("identity_front", "identity_back"),
    "driver_license": ("driver_license_front", "driver_license_back"),
    "residence_permit": ("residence_permit_front", "residence_permit_back"),
    "permanent_card": ("permanent_card_front", "permanent_card_back"),
    "medical_insurance_card": ("medical_insurance_card",),
}


class Option(BaseModel):
    label: FreeText = Field(max_length=200)
    value: FreeText = Field(max_length=100)


class FieldConfig(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    name: FreeText = Field(max_length=200)
    component_type: Literal["input", "textarea", "select", "radio", "checkbox", "date", "upload"]
    type: Literal["string", "date", "phone", "email", "file", "agreement"] = "string"
    is_required: bool = False
    is_enabled: bool = True
    options: list[Option] = []
    sort: int = 0
    description: FreeText = Field(default="", max_length=500)
    value: FreeText = Field(default="", max_length=500, description="A default, or an agreement's document URL")

    @model_validator(mode="after")
    def choices_have_options(self) -> "FieldConfig":
        if self.component_type in ("select", "radio") and not self.options:
            raise ValueError(f"field {self.key!r} is a {self.component_type} without options")
        return self


class ModuleConfig(BaseModel):
    key: ModuleKey
    name: FreeText = Field(max_length=200)
    section: Literal["identity", "kyc", "agreement"]
    fields: list[FieldConfig] = []


class Question(BaseModel):
    question_id: int = Field(ge=1)
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    question: FreeText = Field(max_length=500)
    component_type: Literal["input", "textarea", "select", "radio", "checkbox"]
    is_required: bool = True
    options: list[Option] = []


class Questionnaire(BaseModel):
    questionnaire_id: int = Field(ge=1)
    questionnaire_name: FreeText = Field(max_length=200)
    questions: list[Question]


class Requirements(BaseModel):
    live: list[ModuleKey] = Field(description="Modules to complete before submitting for review (live accounts)")
    demo: list[ModuleKey] = Field(default=[], description="Modules to complete before opening a demo account")


class EVerifyPolicy(BaseModel):
    enabled: bool = True
    retry_times: int = Field(default=3, ge=1, le=20, description="Attempts a client may start")
    auto_approve: bool = Field(default=False, description="A passed e-verification approves the KYC")


class FormConfig(BaseModel):
    modules: list[ModuleConfig]
    questionnaires: list[Questionnaire] = []
    requirements: Requirements
    e_verify: EVerifyPolicy = EVerifyPolicy()
    minimum_age: int = Field(default=18, ge=0, le=100)

    @model_validator(mode="after")
    def consistent(self) -> "FormConfig":
        keys = [m.key for m in self.modules]
        if len(set(keys)) != len(keys):
            raise ValueError("a module is listed twice")
        missing = set(self.requirements.live + self.requirements.demo) - set(keys)
        if missing:
            raise ValueError(f"required modules not in the form: {sorted(missing)}")
        return self

    def module(self, key: str) -> ModuleConfig | None:
        return next((m for m in self.modules if m.key == key), None)


@cache
def default_form() -> FormConfig:
    return FormConfig.model_validate(json.loads((Path(__file__).parent / "default_form.json").read_text()))


def current() -> FormConfig:
    stored = settings_items.get_setting(SETTING)
    return FormConfig.model_validate(stored) if stored else default_form()


def save(staff: Principal, body: dict[str, Any], source_ip: str, now: int) -> FormConfig:
    """Replace the form (staff, audited). Answers already saved stay; they are
    checked against the new form when their module is saved again."""
    try:
        form = FormConfig.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "form"
        raise InvalidInput(first["msg"], field) from error
    before = current().model_dump()
    settings_items.put_setting(SETTING, form.model_dump(), staff.user_id, now)
    audit.record(staff, "settings.kyc_form", "setting:kyc_form", source_ip, now, before=before, after=form.model_dump())
    return form


# ---------------------------------------------------------------- validation


def clean_module(form: FormConfig, module_key: str, data: Any) -> dict[str, Any]:
    """The module's values checked against the form, keeping only its enabled
    fields. Raises InvalidInput naming the first bad field as
    `kyc_data.<module>.<field>`."""
    module = form.module(module_key)
    if module is None or module_key not in FILLED_BY_FORM:
        raise InvalidInput("this module is not part of the form, or is not filled here", "current_module")
    if not isinstance(data, dict):
        raise InvalidInput("must be an object of field values", f"kyc_data.{module_key}")
    known = {f.key for f in module.fields if f.is_enabled}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput("is not a field of this module", f"kyc_data.{module_key}.{unknown[0]}", "unknown_field")
    cleaned: dict[str, Any] = {}
    for field in sorted((f for f in module.fields if f.is_enabled), key=lambda f: f.sort):
        name = f"kyc_data.{module_key}.{field.key}"
        value = data.get(field.key)
        if value is None or value == "" or value == []:
            if field.is_required:
                raise InvalidInput("is required", name, "required")
            continue
        cleaned[field.key] = _clean_value(form, field, value, name)
    if module_key == "authentication":
        needed = DOCUMENTS_FOR_TYPE.get(str(cleaned.get("identification_type", "")), ())
        for document in needed:
            if document in known and not cleaned.get(document):
                raise InvalidInput(
                    "is required for this document type", f"kyc_data.authentication.{document}", "required"
                )
    return cleaned


def _clean_value(form: FormConfig, field: FieldConfig, value: Any, name: str) -> Any:
    allowed = {o.value for o in field.options}
    if field.type == "agreement":
        if value is not True:
            raise InvalidInput("must be accepted (true)", name, "not_accepted")
        return True
    if field.component_type == "checkbox":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput("must be a list of option values", name)
        for choice in value:
            _free_text(choice, name)
        if allowed and not set(value) <= allowed:
            raise InvalidInput(f"must be chosen from {sorted(allowed)}", name, "not_an_option")
        return value
    if not isinstance(value, str):
        raise InvalidInput("must be text", name)
    _free_text(value, name)  # before strip(): a trailing CR/LF is refused, not trimmed away
    value = value.strip()
    if len(value) > 500:
        raise InvalidInput("is longer than 500 characters", name)
    if field.component_type in ("select", "radio") and value not in allowed:
        raise InvalidInput(f"must be one of {sorted(allowed)}", name, "not_an_option")
    if field.type == "date" or field.component_type == "date":
        _check_date(form, field, value, name)
    elif field.type == "phone" and not PHONE.match(value):
        raise InvalidInput("is not a phone number (digits, optionally starting with +)", name)
    elif field.type == "email" and not EMAIL.match(value):
        raise InvalidInput("is not an email address", name)
    return value


def _free_text(value: str, name: str) -> None:
    """The shared free-text rule (fxcrm.core.text), as a 422 naming the field."""
    try:
        check_free_text(value)
    except ValueError as error:
        raise InvalidInput(str(error), name) from error


def _check_date(form: FormConfig, field: FieldConfig, value: str, name: str) -> None:
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput("must be a date as YYYY-MM-DD", name, "bad_date") from error
    if len(value) != 10:
        raise InvalidInput("must be a date as YYYY-MM-DD", name, "bad_date")
    today = date.today()
    if day > today:
        raise InvalidInput("is in the future", name, "bad_date")
    if field.key == "birthday":
        age = today.year - day.year - ((today.month, today.day) < (day.month, day.day))
        if age < form.minimum_age:
            raise InvalidInput(f"you must be at least {form.minimum_age} years old", name, "too_young")
        if age > 120:
            raise InvalidInput("is not a plausible date of birth", name, "bad_date")


def clean_answers(
    form: FormConfig, questionnaire_id: int, answers: list[dict[str, Any]], prefix: str = "answers"
) -> list[dict[str, Any]]:
    """Questionnaire answers checked against its questions; every required
    question answered, each answer among the options. A bad answer is named
    `<prefix>.<question key>`."""
    questionnaire = next((q for q in form.questionnaires if q.questionnaire_id == questionnaire_id), None)
    if questionnaire is None:
        raise InvalidInput("no such questionnaire", "questionnaire_id")
    by_id = {q.question_id: q for q in questionnaire.questions}
    given: dict[int, Any] = {}
    for i, answer in enumerate(answers):
        question = by_id.get(int(answer.get("question_id") or 0))
        if question is None:
            raise InvalidInput("is not a question of this questionnaire", f"answers.{i}.question_id")
        given[question.question_id] = answer.get("answer")
    cleaned = []
    for question in questionnaire.questions:
        value = given.get(question.question_id)
        name = f"{prefix}.{question.key}"
        if value is None or value == "" or value == []:
            if question.is_required:
                raise InvalidInput("is required", name, "required")
            continue
        as_field = FieldConfig(
            key=question.key, name=question.question, component_type=question.component_type, options=question.options
        )
        cleaned.append(
            {
                "question_id": question.question_id,
                "questionnaire_id": questionnaire.questionnaire_id,
                "questionnaire_name": questionnaire.questionnaire_name,
                "key": question.key,
                "question": question.question,
                "component_type": question.component_type,
                "answer": _clean_value(form, as_field, value, name),
            }
        )
    return cleaned


def questionnaire_fields(form: FormConfig) -> list[dict[str, Any]]:
    """The questionnaire module's questions shown as form fields, each with
    the ids that `save questionnaire answers` takes."""
    return [
        {
            "key": q.key,
            "name": q.question,
            "component_type": q.component_type,
            "type": "string",
            "is_required": q.is_required,
            "is_enabled": True,
            "options": [o.model_dump() for o in q.options],
            "sort": q.question_id,
            "description": questionnaire.questionnaire_name,
            "value": "",
            "question_id": q.question_id,
            "questionnaire_id": questionnaire.questionnaire_id,
            "questionnaire_name": questionnaire.questionnaire_name,
        }
        for questionnaire in form.questionnaires
        for q in questionnaire.questions
    ]


def answers_by_key(form: FormConfig, data: Any, prefix: str) -> dict[int, list[dict[str, Any]]]:
    """The questionnaire module saved as {question key: answer} (the seed's
    `kyc_data.questionnaire`), checked per questionnaire, by questionnaire id."""
    if not isinstance(data, dict):
        raise InvalidInput("must be an object of answers by question key", prefix)
    keys = {q.key for questionnaire in form.questionnaires for q in questionnaire.questions}
    unknown = sorted(set(data) - keys)
    if unknown:
        raise InvalidInput("is not a question of the form", f"{prefix}.{unknown[0]}", "unknown_field")
    return {
        questionnaire.questionnaire_id: clean_answers(
            form,
            questionnaire.questionnaire_id,
            [{"question_id": q.question_id, "answer": data[q.key]} for q in questionnaire.questions if q.key in data],
            prefix,
        )
        for questionnaire in form.questionnaires
    }
