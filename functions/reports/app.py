"""Reports function: /reports/* (deposit, withdrawal, transfer, history-order,
position and pending-order reports, their CSV/XLSX exports, and the status of
background exports). The caller's scope comes from the token: staff see
everyone, an IB its downline, a client its own rows.

Invoked with `{"export_job": <id>}` (asynchronously, by itself) it runs a
background export instead of serving HTTP; given Lambda's on-failure record of
such an invocation (an on-failure destination) it marks that job failed."""

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, Path

from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.reports import add_report_routes
from fxcrm.api.security import AnyPortal, any_portal
from fxcrm.core import clock
from fxcrm.core.settings import get_settings
from fxcrm.reports import exports
from fxcrm.reports.schemas import ExportAnswer

router = APIRouter(prefix="/reports", tags=["reports"])
# GET /reports/<path> and POST /reports/<path>/export per report (reports/descriptors.py)
add_report_routes(router, "reports", any_portal)


@router.get("/exports/{job_id}", response_model=ExportAnswer, responses=error_responses(401, 403, 404))
def export_status(principal: AnyPortal, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> Any:
    """A background export's status, and its link once done."""
    return exports.status(get_settings(), principal, job_id, clock.now())


app = create_app("fxcrm reports", [router], "Reports and their exports, scoped by the caller")
api_handler = lambda_handler(app, "reports")


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "export_job" in event:
        seconds_left = context.get_remaining_time_in_millis() // 1000
        return exports.run_job(get_settings(), str(event["export_job"]), clock.now(), seconds_left)
    if "export_job" in event.get("requestPayload", {}):  # the on-failure destination's record
        return exports.worker_failed(event)
    return api_handler(event, context)
