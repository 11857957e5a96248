"""Reading and exporting the audit log (it is written by `fxcrm.audit`)."""

import io
import json
from datetime import date
from typing import Any

from fxcrm.auth import permissions
from fxcrm.core import spreadsheets, times
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput
from fxcrm.core.paging import page_of
from fxcrm.dal import audit as dal
from fxcrm.dal.table import plain

COLUMNS = ("at", "actor_email", "actor_role", "action", "target", "source_ip", "before", "after")


def _entries(
    staff: Principal, day: str, actor: str | None, action: str | None, target: str | None
) -> list[dict[str, Any]]:
    permissions.require(staff, "admin.audit.view")
    try:
        date.fromisoformat(day)
    except ValueError as error:
        raise InvalidInput("must be a date such as 2026-11-21", "day") from error
    rows = [
        times.wire_row({k: plain(v) for k, v in e.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")})
        for e in dal.day(day)
    ]
    return [
        r
        for r in rows
        if (not actor or r.get("actor_email") == actor.lower())
        and (not action or str(r.get("action", "")).startswith(action))
        and (not target or r.get("target") == target)
    ]


def entries(
    staff: Principal, day: str, actor: str | None, action: str | None, target: str | None, page: int, size: int
) -> dict[str, Any]:
    rows = _entries(staff, day, actor, action, target)
    rows.reverse()  # newest first
    return {"list": page_of(rows, page, size), "total": len(rows)}


def export_csv(staff: Principal, day: str, actor: str | None, action: str | None, target: str | None) -> str:
    out = io.StringIO()
    writer = spreadsheets.csv_writer(out)  # emails, targets and IPs as text, never as formulas
    writer.writerow(COLUMNS)
    for row in _entries(staff, day, actor, action, target):
        writer.writerow(
            [json.dumps(row.get(c), sort_keys=True) if c in ("before", "after") else row.get(c, "") for c in COLUMNS]
        )
    return out.getvalue()
