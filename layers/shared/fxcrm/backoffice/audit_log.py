"""Reading and exporting the audit log (it is written by `fxcrm.audit`)."""

import io
import json
from datetime import date
from typing import Any

from fxcrm.auth import permissions
from fxcrm.core import spreadsheets, times
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput
from fxcrm.dal import audit as dal
from fxcrm.dal import listing
from fxcrm.dal.table import Table, plain

COLUMNS = ("at", "actor_email", "actor_role", "action", "target", "source_ip", "before", "after")


def _checked(staff: Principal, day: str) -> None:
    permissions.require(staff, "admin.audit.view")
    try:
        date.fromisoformat(day)
    except ValueError as error:
        raise InvalidInput("must be a date such as 2026-11-21", "day") from error


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    return times.wire_row({k: plain(v) for k, v in entry.items() if k not in KEYS})


KEYS = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")


def _entries(
    staff: Principal, day: str, actor: str | None, action: str | None, target: str | None
) -> list[dict[str, Any]]:
    """Every matching entry of the day, oldest first (the export)."""
    _checked(staff, day)
    part = dal.day_part(day, actor.lower() if actor else None, action, target)
    return [_shown(e) for e in listing.merged(Table(), [part], order=lambda e: str(e["sk"]), newest_first=False)]


def entries(
    staff: Principal, day: str, actor: str | None, action: str | None, target: str | None, page: int, size: int
) -> dict[str, Any]:
    """One page of the day's matching entries, newest first, and their total."""
    _checked(staff, day)
    actor = actor.lower() if actor else None
    rows = [_shown(e) for e in dal.day_page(day, actor, action, target, page, size)]
    return {"list": rows, "total": dal.day_total(day, actor, action, target)}


def export_csv(staff: Principal, day: str, actor: str | None, action: str | None, target: str | None) -> str:
    out = io.StringIO()
    writer = spreadsheets.csv_writer(out)  # emails, targets and IPs as text, never as formulas
    writer.writerow(COLUMNS)
    for row in _entries(staff, day, actor, action, target):
        writer.writerow(
            [json.dumps(row.get(c), sort_keys=True) if c in ("before", "after") else row.get(c, "") for c in COLUMNS]
        )
    return out.getvalue()
