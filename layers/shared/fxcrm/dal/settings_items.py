"""Broker settings that staff can change (branding, login pages, ...).

SETTING#<name> / CURRENT   the current value as a map, with who changed it and when
"""

from typing import Any

from fxcrm.dal.table import Table


def get_setting(name: str, table: Table | None = None) -> dict[str, Any] | None:
    found = (table or Table()).get(f"SETTING#{name}", "CURRENT", consistent=False)
    return found.get("value") if found else None


def setting_item(name: str, value: dict[str, Any], changed_by: int, changed_at: int) -> dict[str, Any]:
    return {
        "pk": f"SETTING#{name}",
        "sk": "CURRENT",
        "value": value,
        "changed_by": changed_by,
        "changed_at": changed_at,
    }


def put_setting(name: str, value: dict[str, Any], changed_by: int, changed_at: int, table: Table | None = None) -> None:
    (table or Table()).put(setting_item(name, value, changed_by, changed_at))
