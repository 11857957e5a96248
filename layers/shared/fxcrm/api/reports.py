"""The report routes, registered from the report descriptors
(`fxcrm.reports.descriptors`): per report, GET <path> (one page) and POST
<path>/export (the file, or a background job when it is too large).

The query parameters are the descriptor's filter model (FastAPI reads a
model as query parameters), so the OpenAPI shows its seed field names, enums
and descriptions; the route names are the descriptor's operation ids."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from fxcrm import clock
from fxcrm.api.errors import error_responses
from fxcrm.auth.accounts import Principal
from fxcrm.reports import descriptors, exports
from fxcrm.reports.descriptors import ReportDescriptor
from fxcrm.reports.schemas import ExportAnswer
from fxcrm.settings import get_settings

READ = error_responses(401, 403)
EXPORT = {202: {"model": ExportAnswer, "description": "Too large to write now: a background job runs"}} | READ


def _anyone(_: Principal) -> None:
    """Scope alone decides (reports.scope): staff everyone, an IB its downline, a client its own."""


def add_report_routes(
    router: APIRouter,
    function: str,
    caller: Callable[..., Principal],
    guard: Callable[[Principal], None] = _anyone,
) -> None:
    """Every report the function serves, on its router (whose prefix the paths start with).
    `caller` is the dependency that authenticates; `guard` may refuse the caller first."""
    for report in descriptors.served_by(function):
        _add(router, report, caller, guard)


def _add(
    router: APIRouter, report: ReportDescriptor, caller: Callable[..., Principal], guard: Callable[[Principal], None]
) -> None:
    filters, body_model = report.filters, report.export

    def report_page(principal: Annotated[Principal, Depends(caller)], query: Annotated[filters, Query()]) -> Any:  # type: ignore[valid-type]
        guard(principal)
        return descriptors.page_for(get_settings(), principal, report, query, clock.now())

    def report_export(principal: Annotated[Principal, Depends(caller)], body: body_model, response: Response) -> Any:  # type: ignore[valid-type]
        guard(principal)
        answer = exports.export_body(get_settings(), principal, report.name, body, clock.now())
        if answer["status"] == "running":
            response.status_code = 202
        return answer

    if not report.path.startswith(f"{router.prefix}/"):
        raise ValueError(f"{report.path} is not under {router.prefix}")
    path = report.path.removeprefix(router.prefix)
    router.add_api_route(
        path,
        report_page,
        methods=["GET"],
        response_model=report.page_model,
        responses=READ,
        summary=report.title,
        description=report.description,
        name=report.page_route,
    )
    router.add_api_route(
        f"{path}/export",
        report_export,
        methods=["POST"],
        response_model=ExportAnswer,
        responses=EXPORT,
        summary=report.export_summary,
        description=report.export_description,
        name=report.export_route,
    )
