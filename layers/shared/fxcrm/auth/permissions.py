"""Actions and menus per user type and staff role, from the packaged catalogue
(`permissions.json`). A menu shows when its action is allowed; a menu without
an action shows when at least one of its children does."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fxcrm.core.caller import Principal
from fxcrm.core.errors import Forbidden

PORTALS = ("client", "ib", "admin")


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Any]:
    return dict(json.loads((Path(__file__).parent / "permissions.json").read_text()))


def allowed_actions(principal: Principal) -> set[str]:
    return set(_catalogue()["roles"].get(principal.role, []))


def require(principal: Principal, action: str) -> None:
    if action not in allowed_actions(principal):
        raise Forbidden("your role may not do this", code="permission_denied")


# Separation of duties: whoever may approve money may not set the controls
# on it (thresholds, limits, fees, rates), and the other way round.
MONEY_DECISIONS = ("admin.approvals.deposit", "admin.approvals.withdrawal", "admin.approvals.transfer")
MONEY_CONTROLS = "admin.funding.settings"


def require_money_controls(principal: Principal) -> None:
    """The money-control settings: their action, held by a role that decides no money."""
    require(principal, MONEY_CONTROLS)
    if allowed_actions(principal) & set(MONEY_DECISIONS):
        raise Forbidden("a role that approves money may not change its controls", code="separation_of_duties")


def home_portal(principal: Principal) -> str:
    return {"client": "client", "ib": "ib", "staff": "admin"}[principal.user_type]


def may_use_portal(principal: Principal, portal: str) -> bool:
    return principal.user_type in _catalogue()["portals"].get(portal, [])


def menu_tree(principal: Principal, portal: str) -> list[dict[str, Any]]:
    allowed = allowed_actions(principal)
    rows = [m for m in _catalogue()["menus"] if m["portal"] == portal]
    by_parent: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_parent.setdefault(row["parent_id"], []).append(row)

    def build(parent_id: int) -> list[dict[str, Any]]:
        out = []
        for row in sorted(by_parent.get(parent_id, []), key=lambda r: r["sort_order"]):
            children = build(row["id"])
            # An action-less leaf (the dashboard) always shows; an action-less group
            # shows only when one of its children does.
            visible = row["action"] in allowed if row["action"] else bool(children) or row["id"] not in by_parent
            if not visible:
                continue
            item = {k: v for k, v in row.items() if k != "portal"}
            out.append({**item, "status": 1, "user_type": principal.user_type, "children": children})
        return out

    return build(0)


def permissions(principal: Principal, portal: str) -> dict[str, Any]:
    if not may_use_portal(principal, portal):
        raise Forbidden(f"your account has no access to the {portal} portal", "portal", "portal_denied")
    catalogue = _catalogue()["actions"]
    actions = {key: catalogue[key] for key in sorted(allowed_actions(principal))}
    return {"actions": actions, "menus": menu_tree(principal, portal)}


def summary() -> dict[str, int]:
    """What the packaged catalogue holds (the bootstrap reports it; it is not stored)."""
    catalogue = _catalogue()
    return {"actions": len(catalogue["actions"]), "roles": len(catalogue["roles"]), "menus": len(catalogue["menus"])}
