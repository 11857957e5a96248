"""Reconciliation function: run by its schedule (hourly) or on demand; records
what disagrees (docs/operations.md, "Reconciliation")."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm import reconciliation
from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.core.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.clear_metrics()  # only the default dimension (locally, functions share one process)
    return reconciliation.run(get_settings(), clock.now())
