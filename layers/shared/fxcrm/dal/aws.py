"""One cached boto3 client per service and process.

Every AWS call of fxcrm goes through a client made here, so tests can hook
botocore events on all of them (see `tests/support/aws_calls.py`). The
endpoint comes from the standard `AWS_ENDPOINT_URL` variable, which the local
cloud sets; on AWS it is unset.
"""

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from fxcrm.dal import contention

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_client_hooks: list[Callable[[Any], None]] = []

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=10)


def client(service: str) -> Any:
    """Return this process's client for `service`, creating it on first use."""
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            made = boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]
            if service == "dynamodb":
                contention.install(made)  # write conflicts are retried here, for every caller
            for hook in _client_hooks:
                hook(made)
            _clients[service] = made
        return _clients[service]


def on_client(hook: Callable[[Any], None]) -> Callable[[], None]:
    """Call `hook` with every client, existing and future; returns an undo."""
    with _lock:
        _client_hooks.append(hook)
        existing = list(_clients.values())
    for made in existing:
        hook(made)
    return lambda: _client_hooks.remove(hook)


def reset_clients() -> None:
    """Drop cached clients (after a SnapStart restore, or between test setups)."""
    with _lock:
        _clients.clear()
