"""Settlement function: run by its schedule (hourly), by staff from the back
office (`POST /admin/rebates/settlement`) or on demand; settles IB rebates for
trades recorded since the watermark. Also the steps of SettlementBacklogFlow
(`action`: plan_backlog, settle_partition, finish_backlog)."""

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm.adapters import snapstart
from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.core.settings import get_settings
from fxcrm.rebates import settlement

snapstart.install()  # a SnapStart copy refreshes what init cached


def _optional_int(event: dict[str, Any], name: str) -> int | None:
    return int(event[name]) if event.get(name) is not None else None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}

    def seconds_left() -> float:  # stop between chunks in time
        return context.get_remaining_time_in_millis() / 1000

    action, now = event.get("action"), clock.now()
    if action == "plan_backlog":
        given = event.get("input") or {}  # the execution's input: until (and max_chunks, for tests)
        plan = settlement.plan_backlog(get_settings(), now, int(given["until"]))
        passed = {"action": "settle_partition"} | (
            {"max_chunks": given["max_chunks"]} if given.get("max_chunks") else {}
        )
        return plan | {"partitions": [p | passed for p in plan["partitions"]]}
    if action == "settle_partition":
        done = settlement.settle_partition(
            get_settings(),
            int(event["start"]),
            int(event["end"]),
            now,
            seconds_left=seconds_left,
            max_chunks=_optional_int(event, "max_chunks"),
        )
        # the partition's earlier invocations' counts, carried to the flow's summary
        for name in ("trades", "details", "chunks"):
            done[name] = int(done[name]) + int(event.get(name) or 0)
        done["credited"] = str(Decimal(done["credited"]) + Decimal(str(event.get("credited") or 0)))
        passed = {"max_chunks": event["max_chunks"]} if event.get("max_chunks") else {}
        return done | passed | {"action": "settle_partition"}
    if action == "finish_backlog":
        return settlement.finish_backlog(
            int(event["since"]), int(event["until"]), now, list(event.get("results") or [])
        )
    return settlement.settle(get_settings(), now, _optional_int(event, "until"), seconds_left=seconds_left)
