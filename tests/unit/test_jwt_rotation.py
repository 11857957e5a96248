"""Rotating the JWT signing key without logging everyone out: while the secret carries
`previous_signing_key`, tokens signed with it stay valid until they expire; new tokens
are signed with `signing_key` only (docs/operations.md, Secrets and rotation)."""

import time
from typing import Any

import pytest

from fxcrm.auth import tokens
from fxcrm.core.errors import NotAuthenticated
from fxcrm.core.settings import Settings

OLD, NEW = "old-key-" + "a" * 32, "new-key-" + "b" * 32


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    value: dict[str, Any] = {"signing_key": OLD}
    monkeypatch.setattr(tokens, "get_secret_json", lambda name, max_age: dict(value))
    return value


def _issue(settings: Settings) -> str:
    return tokens.issue(settings, 7, "client", "client", 1, int(time.time()))


def test_a_token_of_the_previous_key_stays_valid_during_the_rotation(secret: dict[str, Any]) -> None:
    settings = Settings()
    before = _issue(settings)
    secret.update(signing_key=NEW, previous_signing_key=OLD)
    assert tokens.verify(settings, before).user_id == 7
    after = _issue(settings)
    assert tokens.verify(settings, after).user_id == 7
    secret.pop("previous_signing_key")  # the rotation ends: only tokens of the new key
    assert tokens.verify(settings, after).user_id == 7
    with pytest.raises(NotAuthenticated):
        tokens.verify(settings, before)


def test_without_a_previous_key_a_rotation_revokes_every_token(secret: dict[str, Any]) -> None:
    settings = Settings()
    before = _issue(settings)
    secret.update(signing_key=NEW)
    with pytest.raises(NotAuthenticated):
        tokens.verify(settings, before)


def test_a_token_of_an_unknown_key_is_refused_during_the_rotation(secret: dict[str, Any]) -> None:
    settings = Settings()
    secret.update(signing_key="other-" + "c" * 32)
    stranger = _issue(settings)
    secret.update(signing_key=NEW, previous_signing_key=OLD)
    with pytest.raises(NotAuthenticated):
        tokens.verify(settings, stranger)
