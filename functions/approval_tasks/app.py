"""ApprovalTasks function: the task steps the approval state machines invoke.

Each event names its `task`. An exception ends the step with the exception's
class name as the Step Functions error (e.g. `ProviderUnavailable`, which the
flows retry)."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm import clock
from fxcrm.approvals import workflow
from fxcrm.observability import logger, metrics, tracer
from fxcrm.settings import get_settings
from fxcrm.trading import applications

# What to tell the owner when an item of a kind closes without success.
ON_CLOSED: dict[str, Callable[[dict[str, Any]], None]] = {
    applications.KIND: lambda approval: applications.notify_closed(get_settings(), approval),
}


def await_decision(event: dict[str, Any]) -> dict[str, Any]:
    workflow.await_decision(int(event["approval_id"]), str(event["task_token"]), clock.now())
    return {}


def close(event: dict[str, Any]) -> dict[str, Any]:
    closed = workflow.close(int(event["approval_id"]), str(event["outcome"]), clock.now())
    if closed is not None:
        if "error" in event:
            logger.warning("approval flow failed", extra={"approval_id": closed["id"], "error": event["error"]})
        ON_CLOSED[closed["kind"]](closed)
    return {"status": closed["status"] if closed else "already closed"}


def open_account(event: dict[str, Any]) -> dict[str, Any]:
    return applications.open_approved(get_settings(), int(event["approval_id"]), clock.now())


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "await_decision": await_decision,
    "close": close,
    "account_opening.open": open_account,
}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TASKS.get(str(event.get("task")))
    if task is None:
        raise ValueError(f"unknown task {event.get('task')!r}")
    logger.append_keys(task=event["task"], approval_id=event.get("approval_id"))
    return task(event)
