"""Wire models of a file upload straight to storage (a presigned POST): what a
client asks for and what it is handed. KYC documents and deposit receipts use
them; each names its own `key`'s use."""

from typing import Literal

from pydantic import BaseModel

from fxcrm.core.types import Strict

UploadType = Literal["image/jpeg", "image/png", "application/pdf"]


class UploadRequest(Strict):
    content_type: UploadType


class PresignedUpload(BaseModel):
    url: str
    fields: dict[str, str]
    key: str
    expires_in: int
    max_bytes: int
    content_types: list[str]
