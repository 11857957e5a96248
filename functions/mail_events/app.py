"""MailEvents function: SES's bounce and complaint notifications, delivered by
the configuration set's SNS topic, recorded as suppressions so that no more
mail goes to an address that bounced hard or complained."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fxcrm.core import clock
from fxcrm.core.observability import logger, metrics, tracer
from fxcrm.mail import suppression


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    suppressed: list[str] = []
    for record in event.get("Records", []):
        suppressed += suppression.record(json.loads(record["Sns"]["Message"]), clock.now())
    if suppressed:
        metrics.add_metric(name="MailSuppressed", unit="Count", value=len(suppressed))
    return {"suppressed": len(suppressed)}
