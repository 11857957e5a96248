"""Separation of duties in the role catalogue: no role both approves money and
sets the controls on it."""

from typing import Any

import pytest

from fxcrm.auth import permissions
from fxcrm.core.caller import Principal
from fxcrm.core.errors import Forbidden


def test_no_role_both_approves_money_and_sets_its_controls() -> None:
    roles: dict[str, list[str]] = permissions._catalogue()["roles"]
    setters = {role for role, actions in roles.items() if permissions.MONEY_CONTROLS in actions}
    assert setters == {"controller"}
    for role in setters:
        assert not set(roles[role]) & set(permissions.MONEY_DECISIONS), role


def test_a_catalogue_that_grants_both_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    both: dict[str, Any] = {"roles": {"finance": [permissions.MONEY_CONTROLS, "admin.approvals.withdrawal"]}}
    monkeypatch.setattr(permissions, "_catalogue", lambda: both)
    finance = Principal(1, "staff", "finance", "f@example.com", mfa=True)
    with pytest.raises(Forbidden) as refused:
        permissions.require_money_controls(finance)
    assert refused.value.code == "separation_of_duties"
    controller = Principal(2, "staff", "controller", "c@example.com", mfa=True)
    with pytest.raises(Forbidden) as not_granted:
        permissions.require_money_controls(controller)
    assert not_granted.value.code == "permission_denied"
