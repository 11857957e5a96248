"""TradeSync function: the steps of TradeSyncFlow (plan the shards, sync one
shard from its cursor, add the shards' results up), or, given any other event
(EventBridge's, on demand), a whole run in this one invocation."""

from dataclasses import asdict, fields
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm.adapters import snapstart
from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.core.settings import get_settings
from fxcrm.trading.sync import SyncResult, plan, sync_all, sync_shard

COUNTS = [f.name for f in fields(SyncResult)]


def _counts(event: dict[str, Any]) -> SyncResult:
    return SyncResult(**{name: int(event.get(name) or 0) for name in COUNTS})


snapstart.install()  # a SnapStart copy refreshes what init cached


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = event if isinstance(event, dict) else {}
    now = clock.now()
    if event.get("action") == "plan":
        return {"shards": plan(now)}
    if event.get("action") == "total":
        total = SyncResult()
        for one in event.get("results") or []:
            total.add(_counts(one))
        metrics.add_metric(name="TradeSyncDeals", unit="Count", value=total.deals)
        metrics.add_metric(name="TradeSyncFailedAccounts", unit="Count", value=total.failed_accounts)
        logger.info("trade sync done", extra=asdict(total))
        return asdict(total)
    if "server" in event and "shard" in event:
        server, shard = str(event["server"]), int(event["shard"])
        run = sync_shard(
            get_settings(),
            server,
            shard,
            now,
            max_accounts=int(event["max_accounts"]) if event.get("max_accounts") else None,
            seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
        )
        carried = _counts(event)  # what this shard's earlier invocations of the run did
        carried.add(run.result)
        passed = {"max_accounts": event["max_accounts"]} if event.get("max_accounts") else {}
        return {"server": server, "shard": shard, "done": run.done, **asdict(carried), **passed}
    result = sync_all(get_settings(), now)
    metrics.add_metric(name="TradeSyncDeals", unit="Count", value=result.deals)
    metrics.add_metric(name="TradeSyncFailedAccounts", unit="Count", value=result.failed_accounts)
    logger.info("trade sync done", extra=asdict(result))
    return asdict(result)
