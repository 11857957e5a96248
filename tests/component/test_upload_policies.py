"""The policy of every presigned POST the system issues, decoded from the
returned form: moto does not enforce a POST policy's conditions, so a broken
one (no size cap, any key, any type, a long life) would pass every local run
unnoticed. S3 enforces exactly what the policy says; the server's own check
of what arrived (tests/component/test_funding.py, test_kyc.py) stays too."""

import ast
import base64
import json
import time
from calendar import timegm
from typing import Any

import pytest

from localcloud.template import ROOT
from tests.support.api import ApiClient
from tests.support.journeys import Client, draft_deposit, register, unique_email

# The signature's own fields, which boto3 adds to every policy.
SIGNING = {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token", "AWSAccessKeyId"}
# Every function that issues a presigned POST, and so must be covered below.
ISSUERS = {
    ("layers/shared/fxcrm/funding/deposits.py", "receipt_upload"),
    ("layers/shared/fxcrm/kyc/documents.py", "upload"),
}


def _policy(form: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(form["fields"]["policy"])))


def _conditions(policy: dict[str, Any]) -> dict[str, Any]:
    """{name: value} for the equality conditions, and `content-length-range` as (min, max);
    fails on anything looser (`starts-with`) or unexpected."""
    found: dict[str, Any] = {}
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
        elif condition[0] == "content-length-range":
            name, value = condition[0], tuple(condition[1:])
        else:
            assert condition[0] == "eq", f"a loose condition: {condition}"
            name, value = str(condition[1]).lstrip("$"), condition[2]
        assert name not in found, f"{name} twice"
        found[name] = value
    return found


def _check(form: dict[str, Any], issued: tuple[int, int], prefix: str, content_type: str, max_bytes: int) -> None:
    from fxcrm.core.settings import get_settings

    settings = get_settings()
    policy = _policy(form)
    conditions = _conditions(policy)
    signing = {name for name in conditions if name in SIGNING}
    assert set(conditions) - signing == {"bucket", "key", "Content-Type", "content-length-range"}
    assert conditions["bucket"] == settings.bucket_name
    # One exact key, under the caller's own prefix: not a prefix the client could write anywhere under.
    assert conditions["key"] == form["key"] == form["fields"]["key"] and form["key"].startswith(prefix)
    assert form["key"].removeprefix(prefix) and "/" not in form["key"].removeprefix(prefix)
    assert conditions["Content-Type"] == content_type == form["fields"]["Content-Type"]
    assert conditions["content-length-range"] == (1, max_bytes) and form["max_bytes"] == max_bytes
    # The expiry: the form's own `expires_in` after it was issued (boto3 drops the fraction of a second).
    expires = timegm(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ"))
    assert form["expires_in"] == settings.upload_expires_seconds == 300
    assert issued[0] + form["expires_in"] <= expires <= issued[1] + form["expires_in"]


def _issue(post: Any) -> tuple[dict[str, Any], tuple[int, int]]:
    before = int(time.time())
    reply = post()
    after = int(time.time()) + 1
    assert reply.status in (200, 201), reply.body
    return dict(reply.json()), (before, after)


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "application/pdf"])
def test_a_deposit_receipts_policy(api: ApiClient, client: Client, content_type: str) -> None:
    number = draft_deposit(api, client, "100")
    form, issued = _issue(
        lambda: api.post(
            f"/funding/deposits/{number}/receipt-upload", {"content_type": content_type}, token=client.token
        )
    )
    _check(form, issued, f"receipts/{client.id}/{number}/", content_type, 5 * 1024 * 1024)


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "application/pdf"])
def test_a_kyc_documents_policy(api: ApiClient, content_type: str) -> None:
    registered = register(api, unique_email("policy"))
    user_id, token = int(registered["user_info"]["id"]), registered["token"]
    form, issued = _issue(lambda: api.post("/kyc/documents", {"content_type": content_type}, token=token))
    _check(form, issued, f"kyc/{user_id}/", content_type, 10 * 1024 * 1024)


def test_every_presigned_post_is_one_of_those_above() -> None:
    """A new upload must add its policy test here: find every caller of a presigned POST."""
    callers = set()
    for path in [*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                called = node.func if isinstance(node, ast.Call) else None
                name = getattr(called, "attr", getattr(called, "id", ""))
                if name in ("presigned_post", "generate_presigned_post"):
                    callers.add((path.relative_to(ROOT).as_posix(), function.name))
    assert callers - {("layers/shared/fxcrm/adapters/files.py", "presigned_post")} == ISSUERS
