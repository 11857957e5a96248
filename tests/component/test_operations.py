"""What the alarms watch, produced by the real handlers: the login-failure
metric as the Auth function emits it, and an asynchronous invoke that fails
ending in the on-failure queue (the template's EventInvokeConfig)."""

import json
import time
from typing import Any

import boto3
import pytest

from localcloud.provision import Stack
from tests.component.test_reconciliation import emf
from tests.support.api import ApiClient
from tests.support.journeys import login, unique_email


def test_a_failed_login_is_counted_with_the_dimensions_the_alarm_watches(
    api: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    refused = login(api, unique_email("nobody"), "Not-the-password-1")
    assert refused.status == 401
    emitted = emf(capsys.readouterr().out)
    assert emitted["LoginFailed"] == [1.0]
    # Its dimensions (function=auth, service=fxcrm) are the alarm's (tests/template/test_operations.py).
    # Not asserted here: locally every function shares one Metrics object, so a flow's task
    # flushing on another thread may clear the request's dimensions; on Lambda each has its own.


def _failures(queue_url: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The on-failure records in the queue, polled within `timeout` seconds."""
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + timeout
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if messages:
            for message in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            return [json.loads(m["Body"]) for m in messages]
        assert time.monotonic() < deadline, "no failure reached the queue"
        time.sleep(0.1)


def test_an_asynchronous_invoke_that_fails_is_kept_in_the_failure_queue(stack: Stack, api: ApiClient) -> None:
    queue_url = str(stack.resolver.ref("AsyncFailureQueue"))
    from fxcrm.core.settings import get_settings

    function = get_settings().settlement_function_name  # its alias, as staff start a run
    assert function.endswith(":live")
    boto3.client("lambda").invoke(
        FunctionName=function, InvocationType="Event", Payload=json.dumps({"until": "not a time"}).encode()
    )
    (record,) = _failures(queue_url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert (
        record["requestContext"]["functionArn"].endswith(function.split(":")[0])
        or function in record["requestContext"]["functionArn"]
    )
    assert record["requestPayload"] == {"until": "not a time"}
    assert record["responsePayload"]["errorType"] == "ValueError"
