"""Files in S3: uploads straight to S3 through presigned POSTs and checks of
what arrived, links, and the writes of files fxcrm makes itself (exports in
multipart uploads, QR codes).

A presigned POST's conditions (size range, content type) are enforced by S3,
but the server checks the object again before using it: size, declared type
and the first bytes (magic numbers), so a renamed file is caught.

A presigned POST stays usable until it expires, so the client can upload
other bytes to the same key after the check. The bucket is versioned: the
check pins the version it looked at, and every later read or link names
that version, never the key's current bytes."""

from dataclasses import dataclass
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from fxcrm.dal import aws

MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    head: bytes
    version_id: str


def presigned_post(bucket: str, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
    post = aws.client("s3").generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
    return {"url": post["url"], "fields": dict(post["fields"])}


def inspect(bucket: str, key: str) -> StoredObject | None:
    """The key's current version, and its first bytes read from that same version."""
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    version = str(head.get("VersionId") or "")
    if version in ("", "null"):  # unversioned: a later upload would replace what was checked
        raise RuntimeError(f"the bucket {bucket} must have versioning enabled")
    first = s3.get_object(Bucket=bucket, Key=key, VersionId=version, Range="bytes=0-15")["Body"].read()
    return StoredObject(int(head["ContentLength"]), str(head.get("ContentType", "")), bytes(first), version)


def check_upload(bucket: str, key: str, max_bytes: int, field: str, kind: str) -> StoredObject:
    """An upload the client says it made: present, within the size, a JPEG, PNG or PDF
    that starts as one. Refusals name `field`, with codes `<kind>_missing`,
    `<kind>_too_large` and `<kind>_wrong_type`."""
    from fxcrm.core.errors import InvalidInput

    stored = inspect(bucket, key)
    if stored is None:
        raise InvalidInput("nothing was uploaded there", field, f"{kind}_missing")
    if stored.size > max_bytes:
        raise InvalidInput(f"is larger than {max_bytes} bytes", field, f"{kind}_too_large")
    if stored.content_type not in MAGIC or not looks_like(stored.content_type, stored.head):
        raise InvalidInput("must be a JPEG, PNG or PDF file", field, f"{kind}_wrong_type")
    return stored


def looks_like(content_type: str, head: bytes) -> bool:
    return any(head.startswith(magic) for magic in MAGIC.get(content_type, ()))


def presigned_get(
    bucket: str, key: str, expires_in: int, disposition: str | None = None, version_id: str | None = None
) -> str:
    """A link to the object; with `version_id` to that version only (what was checked)."""
    params = {"Bucket": bucket, "Key": key} | ({"ResponseContentDisposition": disposition} if disposition else {})
    if version_id:
        params["VersionId"] = version_id
    return str(aws.client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))


def read(bucket: str, key: str, version_id: str) -> bytes:
    """A whole (size-checked) object, in the version that was checked."""
    return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read())


def put(bucket: str, key: str, body: bytes, content_type: str) -> None:
    """A small file fxcrm makes (a QR code), in one request."""
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def upload_file(bucket: str, key: str, path: str, content_type: str, part_bytes: int) -> None:
    """A local file into S3, in parts of `part_bytes` on this thread (a Lambda has few cores)."""
    aws.client("s3").upload_file(
        path,
        bucket,
        key,
        ExtraArgs={"ContentType": content_type},
        Config=TransferConfig(multipart_threshold=part_bytes, multipart_chunksize=part_bytes, use_threads=False),
    )


class MultipartWriter:
    """Bytes into one S3 object through a multipart upload, a part at a time."""

    def __init__(self, bucket: str, key: str, content_type: str) -> None:
        self._s3 = aws.client("s3")
        self._bucket, self._key = bucket, key
        self._upload_id = self._s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
        self._parts: list[dict[str, Any]] = []

    def write_part(self, data: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self, last: bytes) -> None:
        if last or not self._parts:
            self.write_part(last)
        self._s3.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
