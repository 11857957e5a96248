"""Step Functions: start a flow, and answer a waiting task with its token."""

import json
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import aws


class ExecutionExists(Exception):
    """A flow with this name was started before (names are order numbers)."""


class TaskGone(Exception):
    """The waiting task no longer accepts an answer (timed out, or answered)."""


def start(state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
    try:
        response = aws.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            raise ExecutionExists(name) from error
        raise
    return str(response["executionArn"])


def execution_status(state_machine_arn: str, name: str) -> str:
    """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; MISSING if it was never started."""
    arn = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    try:
        return str(aws.client("stepfunctions").describe_execution(executionArn=arn)["status"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return "MISSING"
        raise


def _answer(call: str, **kwargs: Any) -> None:
    try:
        getattr(aws.client("stepfunctions"), call)(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
            raise TaskGone(str(error)) from error
        raise


def succeed(task_token: str, output: dict[str, Any]) -> None:
    _answer("send_task_success", taskToken=task_token, output=json.dumps(output))


def fail(task_token: str, error: str, cause: str) -> None:
    _answer("send_task_failure", taskToken=task_token, error=error, cause=cause)
