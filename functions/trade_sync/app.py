"""TradeSync function: run by its schedule (EventBridge Scheduler) or on demand."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm.adapters import snapstart
from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.core.settings import get_settings
from fxcrm.trading.sync import sync_all

snapstart.install()  # a SnapStart copy refreshes what init cached


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = sync_all(get_settings(), clock.now())
    metrics.add_metric(name="TradeSyncDeals", unit="Count", value=result.deals)
    metrics.add_metric(name="TradeSyncFailedAccounts", unit="Count", value=result.failed_accounts)
    logger.info("trade sync done", extra=asdict(result))
    return asdict(result)
