"""The staff route of reconciliation findings (served by the Admin function)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from fxcrm import reconciliation
from fxcrm.api.errors import error_responses
from fxcrm.api.security import require_staff
from fxcrm.core.caller import Principal
from fxcrm.reconciliation.schemas import FindingKind, FindingList

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/reconciliation/findings", response_model=FindingList, responses=error_responses(401, 403, 404))
def reconciliation_findings(
    staff: Annotated[Principal, Depends(require_staff("admin.reconciliation.view"))],
    run_id: Annotated[int | None, Query(ge=1, le=2**53, description="A run's id; the newest run by default")] = None,
    kind: FindingKind | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """What a reconciliation run found (ledger against the trading servers, stalled money
    flows, unsettled trades, approvals past their SLA), in the run's order, one page."""
    return reconciliation.list_findings(run_id, kind, page, size)
