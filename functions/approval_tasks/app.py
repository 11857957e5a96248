"""ApprovalTasks function: the task steps the approval state machines invoke.

Each event names its `task`. An exception ends the step with the exception's
class name as the Step Functions error (e.g. `ProviderUnavailable`, which the
flows retry)."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm.adapters import snapstart
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import ApprovalItem
from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.core.settings import get_settings
from fxcrm.funding import deposits, transfers, withdrawals
from fxcrm.kyc import profile as kyc
from fxcrm.trading import applications

snapstart.install()  # a SnapStart copy refreshes what init cached

# What to tell the owner when an item of a kind closes without success.
ON_CLOSED: dict[str, Callable[[ApprovalItem], None]] = {
    applications.KIND: lambda approval: applications.notify_closed(get_settings(), approval),
    kyc.KIND: lambda review: kyc.notify_closed(get_settings(), review),
}


def await_decision(event: dict[str, Any]) -> dict[str, Any]:
    workflow.await_decision(int(event["approval_id"]), str(event["task_token"]), clock.now())
    return {}


def close(event: dict[str, Any]) -> dict[str, Any]:
    closed = workflow.close(int(event["approval_id"]), str(event["outcome"]), clock.now())
    if closed is not None:
        if "error" in event:
            logger.warning("approval flow failed", extra={"approval_id": closed.id, "error": event["error"]})
        ON_CLOSED[closed.kind](closed)
    return {"status": closed.status if closed else "already closed"}


def open_account(event: dict[str, Any]) -> dict[str, Any]:
    return applications.open_approved(get_settings(), int(event["approval_id"]), clock.now())


def step(run: Callable[[Any, int, int], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A money flow's forward step: (settings, order id, now)."""
    return lambda event: run(get_settings(), int(event["approval_id"]), clock.now())


def compensation(run: Callable[..., dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A money flow's compensation: undo what happened, with the outcome and the error that led here."""

    def task(event: dict[str, Any]) -> dict[str, Any]:
        error = event.get("error") or {}
        if error and event.get("outcome") == "failed":
            logger.warning("money flow failed", extra={"approval_id": event["approval_id"], "error": error})
        detail = _failure_detail(error) if event.get("outcome") == "failed" else ""
        return run(get_settings(), int(event["approval_id"]), str(event["outcome"]), detail, clock.now())

    return task


def needs_attention(event: dict[str, Any]) -> dict[str, Any]:
    """A money flow is about to end in NeedsAttention (a step could neither finish
    nor be undone): count it in the metric the NeedsAttention alarm watches."""
    logger.error(
        "money flow needs attention",
        extra={"flow": event.get("flow"), "approval_id": event.get("approval_id"), "error": event.get("error")},
    )
    metrics.add_metric(name="NeedsAttention", unit="Count", value=1)
    metrics.add_metadata(key="approval_id", value=str(event.get("approval_id")))
    return {}


def _failure_detail(error: dict[str, Any]) -> str:
    """What the client is told when a step failed: a refusal of the trading
    server says so; anything else stays generic (details are in the logs)."""
    if error.get("Error") == "PlatformRefused":
        return "the trading server refused it (for example, not enough free balance)"
    return ""


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "await_decision": await_decision,
    "close": close,
    "account_opening.open": open_account,
    "kyc.approve": step(kyc.approve),
    "deposit.credit": step(deposits.credit),
    "deposit.compensate": compensation(lambda s, i, o, d, n: deposits.compensate(s, i, o, n)),
    "withdrawal.hold": step(withdrawals.hold),
    "withdrawal.pay_out": step(withdrawals.pay_out),
    "withdrawal.post": step(withdrawals.post),
    "withdrawal.compensate": compensation(withdrawals.compensate),
    "transfer.hold": step(transfers.hold),
    "transfer.post": step(transfers.post),
    "transfer.compensate": compensation(transfers.compensate),
    "needs_attention": needs_attention,
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
