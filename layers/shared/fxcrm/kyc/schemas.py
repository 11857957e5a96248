"""Request and response models of the KYC endpoints (the seed's field names)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from fxcrm.core.types import Strict
from fxcrm.core.uploads import PresignedUpload, UploadRequest
from fxcrm.kyc.forms import FieldConfig, ModuleKey

KycStatus = Literal["filling", "pending", "approved", "disapproved"]
# a module of the form, or all of them at once
SaveModuleName = Literal[ModuleKey, "all"]


class KycStatusResponse(BaseModel):
    kyc_status: KycStatus
    apply_status: KycStatus
    identity_status: str = Field(description="filling | completed, or the KYC status once submitted")
    agreement_status: str = Field(description="filling | completed, or the KYC status once submitted")
    completed_module: list[str]
    kyc_data: dict[str, Any] = Field(description="Saved answers by module (documents as their upload keys)")
    kyc_way: str = Field(description="manual (staff review) or e_verify (approved by e-verification)")
    kyc_approved_at: str
    register_datetime: str


class FormField(FieldConfig):
    value: Any = Field(default="", description="The client's saved value, a default, or an agreement's URL")
    # A questionnaire's question carries what `save questionnaire answers` takes (null elsewhere).
    question_id: int | None = Field(default=None, description="Questionnaire questions: the answer's `question_id`")
    questionnaire_id: int | None = Field(
        default=None, description="Questionnaire questions: the answers' `questionnaire_id`"
    )
    questionnaire_name: str | None = Field(default=None, description="Questionnaire questions: its questionnaire")


class FormModuleName(BaseModel):
    key: str
    name: str


class FormModule(BaseModel):
    module: FormModuleName
    fields: list[FormField]


class FormSection(BaseModel):
    modules: list[FormModule]
    status: str


class EVerifyState(BaseModel):
    attempt_times: int = Field(description="Attempts started")
    retry_times: int = Field(description="Attempts allowed")
    provider: str
    status: str = Field(description="not_started | pending | approved | rejected | disabled")
    code: str = Field(description="The provider's reason code after a rejection")


class KycFormResponse(BaseModel):
    identity: FormSection
    kyc: FormSection
    agreement: FormSection
    apply_status: KycStatus
    e_verify: EVerifyState
    remark: str = Field(description="Why the last review was not approved")


class SaveModuleRequest(Strict):
    current_module: SaveModuleName
    kyc_data: dict[str, dict[str, Any]] = Field(
        description="{module_key: {field_key: value}}; documents as the `key` of their upload, agreements as true"
    )


class Answer(BaseModel):
    question_id: int = Field(ge=1, le=2**31)
    answer: Any = None
    component_type: str | None = None
    key: str | None = None
    question: str | None = None
    questionnaire_id: int | None = None
    questionnaire_name: str | None = None


class AnswersRequest(Strict):
    questionnaire_id: int = Field(ge=1, le=2**31)
    answers: list[Answer] = Field(max_length=200)


class DocumentUploadRequest(UploadRequest): ...


class DocumentUpload(PresignedUpload):
    key: str = Field(description="Put this key in the module's document field when saving it")


class SubmissionResponse(BaseModel):
    kyc_status: KycStatus
    review_id: int


class EVerifyRequest(Strict):
    success_url: str = Field(pattern=r"^https?://", max_length=1000)
    failed_url: str = Field(pattern=r"^https?://", max_length=1000)


class EVerifyResponse(BaseModel):
    session_id: str
    redirect_url: str
    expire_at: str


class WebhookAnswer(BaseModel):
    ok: bool


class ReviewerKyc(KycStatusResponse):
    user_id: int
    remark: str
    document_links: dict[str, str] = Field(description="field → a 5-minute link to look at the document")
