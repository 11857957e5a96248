"""Settlement function: run by its schedule (hourly), by staff from the back
office (`POST /admin/rebates/settlement`) or on demand; settles IB rebates for
trades closed since the watermark."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.core.settings import get_settings
from fxcrm.rebates import settlement


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    until = event.get("until") if isinstance(event, dict) else None
    return settlement.settle(
        get_settings(),
        clock.now(),
        int(until) if until is not None else None,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,  # stop between chunks in time
    )
