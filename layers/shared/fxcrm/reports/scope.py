"""Whose rows a caller may see, taken from the token and never from a
parameter: staff everyone's, an IB its own and its whole downline's (clients
and sub-IBs, at every level), a client its own."""

from dataclasses import dataclass
from typing import Any

from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.dal import users as users_dal


@dataclass(frozen=True)
class Scope:
    everyone: bool
    user_ids: frozenset[int] = frozenset()
    caller: int = 0  # whose own records (an IB's commissions) the scope means

    def allows(self, user_id: int) -> bool:
        return self.everyone or user_id in self.user_ids


def downline_users(ib_id: int) -> list[dict[str, Any]]:
    """Every user under an IB, level by level (one Query per IB in the tree),
    each with `via`: the IB directly above it."""
    found: dict[int, dict[str, Any]] = {}
    waiting = [ib_id]
    while waiting:
        parent = waiting.pop()
        for user in users_dal.direct_downline(parent):
            user_id = int(user["id"])
            if user_id in found or user_id == ib_id:
                continue  # a cycle cannot be made through the back office; stay safe anyway
            found[user_id] = dict(user) | {"via": parent}
            if user.get("user_type") == "ib":
                waiting.append(user_id)
    return list(found.values())


def downline(ib_id: int) -> set[int]:
    return {int(u["id"]) for u in downline_users(ib_id)}


def scope_for(principal: Principal) -> Scope:
    """Staff callers are checked for their second factor and address by the route."""
    if principal.is_staff:
        permissions.require(principal, "admin.reports")
        return Scope(True, caller=principal.user_id)
    permissions.require(principal, "reports.view")
    if principal.user_type == "ib":
        return Scope(False, frozenset(downline(principal.user_id) | {principal.user_id}), principal.user_id)
    return Scope(False, frozenset({principal.user_id}), principal.user_id)
