"""SnapStart: each restored copy of a snapshot refreshes what init cached
(fxcrm.adapters.snapstart), and the hook is registered with the runtime's."""

import random
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest


def test_after_restore_gives_new_clients_fresh_secrets_and_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.adapters import secrets, snapstart
    from fxcrm.dal import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    before = aws.client("dynamodb")
    assert aws.client("dynamodb") is before  # one client per process, made at first use
    cleared: list[bool] = []
    monkeypatch.setattr(secrets, "clear_cache", lambda: cleared.append(True))
    random.seed(7)
    snapshot_draws = [random.random() for _ in range(3)]
    random.seed(7)  # every copy of the snapshot holds this state
    snapstart.after_restore()
    assert [random.random() for _ in range(3)] != snapshot_draws
    assert aws.client("dynamodb") is not before
    assert cleared == [True]


def test_install_registers_the_hook_where_the_runtime_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from fxcrm.adapters import snapstart

    assert snapstart.install() is False  # no SnapStart runtime here
    registered: list[Callable[..., Any]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.install() is True
    assert registered == [snapstart.after_restore]
