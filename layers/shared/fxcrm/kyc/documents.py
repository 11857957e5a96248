"""KYC documents: uploaded by the client straight to S3 through a presigned
POST under their own prefix, and checked by the server when the module that
references them is saved (owner, presence, size, type and magic bytes).
The version checked then is the one kept: reviewers' links and the
duplicate check's fingerprint are of those bytes, whatever the client
uploads to the key later."""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from fxcrm.adapters import files
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput
from fxcrm.core.settings import Settings

CONTENT_TYPES = tuple(files.MAGIC)  # JPEG, PNG, PDF


def prefix(user_id: int) -> str:
    return f"kyc/{user_id}/"


def upload(settings: Settings, principal: Principal, content_type: str) -> dict[str, Any]:
    """Where to POST one document: a fresh key under the caller's own prefix."""
    if content_type not in CONTENT_TYPES:
        raise InvalidInput(f"must be one of {list(CONTENT_TYPES)}", "content_type", "wrong_type")
    key = prefix(principal.user_id) + uuid.uuid4().hex
    post = files.presigned_post(
        settings.bucket_name, key, content_type, settings.kyc_document_max_bytes, settings.upload_expires_seconds
    )
    return {
        **post,
        "key": key,
        "max_bytes": settings.kyc_document_max_bytes,
        "content_types": list(CONTENT_TYPES),
        "expires_in": settings.upload_expires_seconds,
    }


@dataclass(frozen=True)
class Checked:
    version_id: str  # the S3 version that was checked
    sha256: str  # of that version's bytes, to find the same document from another user


def check(settings: Settings, user_id: int, key: str, field: str) -> Checked:
    """Check an uploaded document before it is referenced, pinning the version checked."""
    if not key.startswith(prefix(user_id)) or ".." in key or "/" in key.removeprefix(prefix(user_id)):
        raise InvalidInput("is not one of your uploads", field, "foreign_document")
    stored = files.check_upload(settings.bucket_name, key, settings.kyc_document_max_bytes, field, "document")
    content = files.read(settings.bucket_name, key, stored.version_id)
    return Checked(stored.version_id, hashlib.sha256(content).hexdigest())
