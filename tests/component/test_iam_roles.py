"""Each function runs with its role: an AWS call its template policies do not
allow is refused locally as on AWS (`localcloud.iam`), which is what keeps
tests/template/test_iam.py's list honest. Here, the attacks a broad role would
let through: a scan of the table, another prefix of the bucket, another
function, from the functions an attacker can reach."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.functions import Dispatcher
from tests.support.api import ApiClient
from tests.support.journeys import login, register, unique_email


def _as(dispatcher: Dispatcher, function: str, call: Callable[[], Any]) -> Any:
    """Run `call` as if inside `function`'s handler."""
    return dispatcher.guard.wrap(function, lambda _event, _context: call())({}, None)


def _denied(dispatcher: Dispatcher, function: str, call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        _as(dispatcher, function, call)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    return str(refused.value)


def test_no_function_can_scan_the_table(dispatcher: Dispatcher) -> None:
    from fxcrm.dal.table import Table

    table = Table()
    for function in ("ClientApiFunction", "AuthFunction", "FundingFunction", "AdminFunction"):
        message = _denied(dispatcher, function, lambda: table.client.scan(TableName=table.name, Limit=1))
        assert f"{function}Role is not authorized to perform: dynamodb:Scan" in message
    # what the role does allow goes through
    assert _as(dispatcher, "ClientApiFunction", lambda: table.get("NO#SUCH", "ITEM")) is None


def test_the_client_api_cannot_delete_or_batch_write(dispatcher: Dispatcher) -> None:
    from fxcrm.dal.table import Table

    table = Table()
    _denied(dispatcher, "ClientApiFunction", lambda: table.delete("USER#1", "PROFILE"))
    _denied(dispatcher, "ClientApiFunction", lambda: table.batch_put([{"pk": "X#1", "sk": "X"}]))
    # a transaction is authorised item by item: a Put inside one needs PutItem, a Delete DeleteItem
    delete_in_transaction = {
        "Delete": {"TableName": table.name, "Key": {"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}}}
    }
    message = _denied(
        dispatcher,
        "ClientApiFunction",
        lambda: table.client.transact_write_items(TransactItems=[delete_in_transaction]),
    )
    assert "dynamodb:DeleteItem" in message


def test_files_are_reachable_only_under_each_function_s_prefixes(dispatcher: Dispatcher) -> None:
    from fxcrm.adapters import files
    from fxcrm.core.settings import get_settings

    bucket = get_settings().bucket_name
    # the IB portal makes QR codes, but may not sign links to clients' KYC documents or receipts
    assert "qr/7/abc.png" in _as(dispatcher, "PartnerFunction", lambda: files.presigned_get(bucket, "qr/7/abc.png", 60))
    for key in ("kyc/7/passport", "receipts/7/D1/receipt"):
        message = _denied(dispatcher, "PartnerFunction", lambda key=key: files.presigned_get(bucket, key, 60))
        assert f"s3:GetObject on resource: arn:aws:s3:::{bucket}/{key}" in message
    # a deposit receipt upload may not be aimed at the KYC prefix (presigned POSTs are checked by key)
    upload = lambda: files.presigned_post(bucket, "kyc/7/doc", "image/png", 100, 60)  # noqa: E731
    assert "s3:PutObject" in _denied(dispatcher, "FundingFunction", upload)
    assert _as(dispatcher, "KycFunction", upload)["fields"]["key"] == "kyc/7/doc"
    # staff read receipts and KYC documents; nobody reads another prefix's files through a broad grant
    _denied(dispatcher, "AdminFunction", lambda: files.read(bucket, "exports/7/job/report.csv", "v1"))


def test_functions_invoke_only_the_functions_named_in_their_role(dispatcher: Dispatcher) -> None:
    from fxcrm.core.settings import get_settings
    from fxcrm.dal import aws

    settings = get_settings()

    def invoke(name: str) -> Callable[[], Any]:
        return lambda: aws.client("lambda").invoke(FunctionName=name, InvocationType="DryRun", Payload=json.dumps({}))

    _denied(dispatcher, "PartnerFunction", invoke(settings.settlement_function_name))
    _denied(dispatcher, "ReportsFunction", invoke(settings.settlement_function_name))
    _denied(dispatcher, "PartnerFunction", invoke(settings.reports_function_name + "-copy"))  # not <name>*


def test_requests_run_under_their_function_s_role(api: ApiClient, dispatcher: Dispatcher) -> None:
    email = unique_email()
    register(api, email)
    before = dispatcher.guard.calls.copy()
    assert login(api, email, "Secret-pass-1").status == 200
    checked = dispatcher.guard.calls - before
    assert checked and {function for function, _, _ in checked} == {"AuthFunction"}
    assert any(action == "dynamodb:GetItem" for _, action, _ in checked)


def test_a_missing_file_is_forbidden_unless_the_role_may_list_the_bucket(dispatcher: Dispatcher) -> None:
    """As on S3: a check of an upload that never arrived must see 404 (answered as
    "nothing was uploaded"), which needs s3:ListBucket; without it S3 answers 403."""
    from fxcrm.adapters import files
    from fxcrm.core.settings import get_settings

    bucket = get_settings().bucket_name
    assert _as(dispatcher, "PartnerFunction", lambda: files.inspect(bucket, "qr/0/missing.png")) is None
    assert _as(dispatcher, "FundingFunction", lambda: files.inspect(bucket, "receipts/0/D0/missing")) is None
    assert _as(dispatcher, "KycFunction", lambda: files.inspect(bucket, "kyc/0/missing")) is None
    with pytest.raises(ClientError) as forbidden:
        _as(dispatcher, "AdminFunction", lambda: files.inspect(bucket, "receipts/0/D0/missing"))
    assert forbidden.value.response["Error"]["Code"] == "403"
