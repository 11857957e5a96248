"""Reports function: /reports/* (deposit, withdrawal, transfer, history-order,
position and pending-order reports, their CSV/XLSX exports, and the status of
background exports). The caller's scope comes from the token: staff see
everyone, an IB its downline, a client its own rows.

Invoked with `{"export_job": <id>}` (asynchronously, by itself) it runs a
background export instead of serving HTTP."""

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, Path, Query, Response

from fxcrm.api.app import create_app, lambda_handler
from fxcrm.api.errors import error_responses
from fxcrm.api.security import AnyPortal
from fxcrm.core import clock
from fxcrm.core.settings import get_settings
from fxcrm.reports import catalog, exports
from fxcrm.reports.schemas import (
    DepositExport,
    DepositFilters,
    ExportAnswer,
    Filters,
    HistoryExport,
    HistoryFilters,
    HistoryReport,
    MoneyReport,
    PendingExport,
    PendingFilters,
    PendingReport,
    PositionExport,
    PositionFilters,
    PositionReport,
    TransferExport,
    TransferFilters,
    TransferReport,
    WithdrawalExport,
    WithdrawalFilters,
)

router = APIRouter(prefix="/reports", tags=["reports"])
READ = error_responses(401, 403)
EXPORT = {202: {"model": ExportAnswer, "description": "Too large to write now: a background job runs"}} | READ


def _page(name: str, principal: Any, filters: Filters) -> Any:
    return catalog.page_for(get_settings(), principal, name, filters, clock.now())


def _export(name: str, principal: Any, body: Any, response: Response) -> Any:
    answer = exports.export_body(get_settings(), principal, name, body, clock.now())
    if answer["status"] == "running":
        response.status_code = 202
    return answer


def add_report(path: str, name: str, filters: type, export: type, answer: type, title: str) -> None:
    """GET /reports/<path> (one page) and POST /reports/<path>/export (the file)."""

    def report_page(principal: AnyPortal, query: Annotated[filters, Query()]) -> Any:  # type: ignore[valid-type]
        return _page(name, principal, query)

    def report_export(principal: AnyPortal, body: export, response: Response) -> Any:  # type: ignore[valid-type]
        return _export(name, principal, body, response)

    router.add_api_route(
        f"/{path}",
        report_page,
        methods=["GET"],
        response_model=answer,
        responses=READ,
        summary=title,
        description=f"{title}, newest first: one page and the total.",
        name=f"{name}_report",
    )
    router.add_api_route(
        f"/{path}/export",
        report_export,
        methods=["POST"],
        response_model=ExportAnswer,
        responses=EXPORT,
        summary=f"Export the {name} report",
        description=f"{title} as a CSV or XLSX file.",
        name=f"export_{name}_report",
    )


add_report("deposits", "deposit", DepositFilters, DepositExport, MoneyReport, "Deposits")
add_report("withdrawals", "withdrawal", WithdrawalFilters, WithdrawalExport, MoneyReport, "Withdrawals")
add_report(
    "transfers", "transfer", TransferFilters, TransferExport, TransferReport, "Transfers between trading accounts"
)
add_report("history-orders", "history-order", HistoryFilters, HistoryExport, HistoryReport, "Closed trades")
add_report("positions", "position", PositionFilters, PositionExport, PositionReport, "Open positions at the last sync")
add_report(
    "pending-orders", "pending-order", PendingFilters, PendingExport, PendingReport, "Pending orders at the last sync"
)


@router.get("/exports/{job_id}", response_model=ExportAnswer, responses=error_responses(401, 403, 404))
def export_status(principal: AnyPortal, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> Any:
    """A background export's status, and its link once done."""
    return exports.status(get_settings(), principal, job_id)


app = create_app("fxcrm reports", [router], "Reports and their exports, scoped by the caller")
api_handler = lambda_handler(app, "reports")


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "export_job" in event:
        return exports.run_job(get_settings(), str(event["export_job"]), clock.now())
    return api_handler(event, context)
