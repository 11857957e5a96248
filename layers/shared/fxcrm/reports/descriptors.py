"""One descriptor per report: its path, filters, export body, row, data
source and the function that serves it, declared once.

The Reports and Partner routes (`fxcrm.api.reports`), their OpenAPI, the
export job and the template's route test all read `REPORTS`; a new report is
one entry here (docs/architecture.md, "Where a newcomer adds a report")."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from pydantic import BaseModel

from fxcrm.core.caller import Principal
from fxcrm.core.pages import Page, row_of
from fxcrm.core.settings import Settings
from fxcrm.reports import catalog, schemas
from fxcrm.reports.catalog import Run
from fxcrm.reports.scope import scope_for

NAMES_PER_BATCH = 100  # BatchGetItem's limit


@dataclass(frozen=True)
class ReportDescriptor:
    """GET `path` answers one page (`page_model`), POST `path`/export the
    file. The route names are the operation ids generated clients call; the
    defaults are the Reports function's, the IB reports keep their own."""

    name: str  # in export file names and export jobs
    function: Literal["reports", "partner"]  # template.yaml: ReportsFunction, PartnerFunction
    path: str
    title: str  # the page's summary
    filters: type[schemas.Filters]
    export: type[schemas.Export]  # the export body: the filters without paging, and `format`
    page_model: type[Page[Any]]  # `{list, total}` of the rows; its name is the OpenAPI schema's
    source: Callable[[Run], Iterable[dict[str, Any]]]  # stored items, newest first
    row: Callable[[Run, dict[str, Any]], dict[str, Any]]  # one item as a row of the page
    # one page's items and the total, read as a page (None: page the source instead)
    paged: Callable[[Run, int, int], tuple[list[dict[str, Any]], int] | None] | None = None
    description: str = ""
    export_summary: str = ""
    export_description: str = ""
    page_route: str = ""
    export_route: str = ""

    def __post_init__(self) -> None:
        defaults = {
            "description": f"{self.title}, newest first: one page and the total.",
            "export_summary": f"Export the {self.name} report",
            "export_description": f"{self.title} as a CSV or XLSX file.",
            "page_route": f"{self.name}_report",
            "export_route": f"export_{self.name}_report",
        }
        for key, value in defaults.items():
            if not getattr(self, key):
                object.__setattr__(self, key, value)  # frozen: set once, here

    @property
    def export_path(self) -> str:
        return f"{self.path}/export"

    @property
    def row_model(self) -> type[BaseModel]:
        """The row's model: its fields are the export's columns."""
        row: type[BaseModel] = row_of(self.page_model)
        return row

    def page(self, run: Run) -> dict[str, Any]:
        """One page and the total; only the page's rows are formatted. A source
        with its own pages (`paged`) answers both; otherwise the source is read up
        to the page's last row, and the total comes from the count the source left
        in `run.extra` (kept ahead), else from reading on."""
        size, number = run.filters.size, run.filters.page
        found = self.paged(run, number, size) if self.paged is not None else None
        if found is not None:
            page_items, total = found
            return {"list": [self.row(run, i) for i in page_items], "total": total}
        stream = iter(self.source(run))
        before = sum(1 for _ in islice(stream, (number - 1) * size))
        items = list(islice(stream, size))
        count = run.extra.get("count")
        total = count() if count is not None else before + len(items) + sum(1 for _ in stream)
        return {"list": [self.row(run, i) for i in items], "total": total}

    def rows(self, run: Run) -> Iterator[dict[str, Any]]:
        """Every row, formatted as it streams (exports): the source's items in
        chunks of a BatchGetItem, the chunk's user names read at once."""
        items = iter(self.source(run))
        while chunk := list(islice(items, NAMES_PER_BATCH)):
            run.names.prefetch(u for item in chunk for u in catalog.named_users(item))
            for item in chunk:
                yield self.row(run, item)


def _ib_report(
    name: str,
    path: str,
    description: str,
    filters: type[schemas.Filters],
    export: type[schemas.Export],
    page_model: type[Page[Any]],
    source: Callable[[Run], Iterable[dict[str, Any]]],
    row: Callable[[Run, dict[str, Any]], dict[str, Any]],
) -> ReportDescriptor:
    """An IB portal report, with the route names (`commissions`, `commissions_export`)
    and summaries its operations were first published with."""
    route = path.rsplit("/", 1)[1].replace("-", "_")
    title = route.replace("_", " ").title()
    return ReportDescriptor(
        name,
        "partner",
        path,
        title,
        filters,
        export,
        page_model,
        source,
        row,
        description=description,
        export_summary=f"{title} Export",
        export_description=f"The {name} report as a CSV or XLSX file.",
        page_route=route,
        export_route=f"{route}_export",
    )


REPORTS: dict[str, ReportDescriptor] = {
    report.name: report
    for report in (
        ReportDescriptor(
            "deposit",
            "reports",
            "/reports/deposits",
            "Deposits",
            schemas.DepositFilters,
            schemas.DepositExport,
            schemas.MoneyReport,
            catalog.orders("deposit"),
            catalog.money_row,
            paged=catalog.order_page("deposit"),
        ),
        ReportDescriptor(
            "withdrawal",
            "reports",
            "/reports/withdrawals",
            "Withdrawals",
            schemas.WithdrawalFilters,
            schemas.WithdrawalExport,
            schemas.MoneyReport,
            catalog.orders("withdrawal"),
            catalog.money_row,
            paged=catalog.order_page("withdrawal"),
        ),
        ReportDescriptor(
            "transfer",
            "reports",
            "/reports/transfers",
            "Transfers between trading accounts",
            schemas.TransferFilters,
            schemas.TransferExport,
            schemas.TransferReport,
            catalog.orders("transfer"),
            catalog.transfer_row,
            paged=catalog.order_page("transfer"),
        ),
        ReportDescriptor(
            "history-order",
            "reports",
            "/reports/history-orders",
            "Closed trades",
            schemas.HistoryFilters,
            schemas.HistoryExport,
            schemas.HistoryReport,
            catalog.history,
            catalog.history_row,
        ),
        ReportDescriptor(
            "position",
            "reports",
            "/reports/positions",
            "Open positions at the last sync",
            schemas.PositionFilters,
            schemas.PositionExport,
            schemas.PositionReport,
            catalog.positions,
            catalog.position_row,
        ),
        ReportDescriptor(
            "pending-order",
            "reports",
            "/reports/pending-orders",
            "Pending orders at the last sync",
            schemas.PendingFilters,
            schemas.PendingExport,
            schemas.PendingReport,
            catalog.pending,
            catalog.pending_row,
        ),
        _ib_report(
            "commission",
            "/ib/commissions",
            "The IB's commission records (one per settlement run), newest first.",
            schemas.CommissionFilters,
            schemas.CommissionExport,
            schemas.CommissionReport,
            catalog.commissions,
            catalog.commission_row,
        ),
        _ib_report(
            "commission-detail",
            "/ib/commission-details",
            "Each trade and level the IB earned on, and how the amount came about.",
            schemas.CommissionDetailFilters,
            schemas.CommissionDetailExport,
            schemas.CommissionDetailReport,
            catalog.commission_details,
            catalog.commission_detail_row,
        ),
    )
}


def served_by(function: str) -> list[ReportDescriptor]:
    return [report for report in REPORTS.values() if report.function == function]


def page_for(
    settings: Settings, principal: Principal, report: ReportDescriptor, filters: Any, now: int
) -> dict[str, Any]:
    """One page of a report, in the caller's scope."""
    return report.page(catalog.start(settings, scope_for(principal), filters, now))
