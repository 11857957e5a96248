"""Whose rows a caller may see, taken from the token and never from a
parameter: staff everyone's, an IB its own and its whole downline's (clients
and sub-IBs, at every level), a client its own."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.dal import ib_index
from fxcrm.dal import users as users_dal


@dataclass(frozen=True)
class Scope:
    everyone: bool
    own_ids: frozenset[int] = frozenset()
    caller: int = 0  # whose own records (an IB's commissions) the scope means
    ib: bool = False  # an IB's: itself and its downline, from its index entries

    @cached_property
    def user_ids(self) -> frozenset[int]:
        """Every user in scope (for an IB read from the tree: the reports that
        still go user by user; the IB's own index serves the others)."""
        return frozenset(downline(self.caller) | {self.caller}) if self.ib else self.own_ids

    def allows(self, user_id: int) -> bool:
        if self.everyone or user_id in self.own_ids:
            return True
        return self.ib and ib_index.get_user_entry(self.caller, user_id) is not None


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
        return Scope(False, frozenset({principal.user_id}), principal.user_id, ib=True)
    return Scope(False, frozenset({principal.user_id}), principal.user_id)
