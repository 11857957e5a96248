"""Component tier: moto in process (`mock_aws`), every resource provisioned
from template.yaml, the real handlers called through the template's routes.
The helpers the tests share are in tests/support/journeys.py."""

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.functions import Dispatcher, load_stack
from localcloud.moto_patches import make_dynamodb_atomic
from localcloud.provision import Stack, provision
from tests.support.api import ApiClient
from tests.support.demo import ADMIN
from tests.support.journeys import Client, approved_client, staff_token


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    import os

    make_dynamodb_atomic()  # DynamoDB's write atomicity, which moto lacks under threads
    # State machines run on moto's interpreter; their Lambda invokes reach our handlers.
    config: Any = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config):
        made = provision(boto3.Session())
        os.environ.update(made.environment())
        from fxcrm.adapters import secrets as fx_secrets
        from fxcrm.core.settings import get_settings
        from fxcrm.dal import aws

        get_settings.cache_clear()
        aws.reset_clients()
        fx_secrets.clear_cache()
        from localcloud.seed import seed_demo_data

        seed_demo_data(int(time.time()))
        yield made


@pytest.fixture(scope="session")
def dispatcher(stack: Stack) -> Dispatcher:
    """Every function's handler, each held to its IAM role (`dispatcher.guard`)."""
    loaded, _ = load_stack(stack)
    loaded.install_into_moto()
    return loaded


@pytest.fixture(scope="session")
def api(stack: Stack, dispatcher: Dispatcher) -> ApiClient:
    return ApiClient(stack.resolver.template, stack.functions, dispatcher.handlers)


@pytest.fixture(scope="session")
def admin(api: ApiClient) -> str:
    """The seeded admin's token, past the second factor."""
    return staff_token(api, *ADMIN)


@pytest.fixture
def client(api: ApiClient) -> Client:
    """A new client with approved KYC and two live accounts (a module may define its own `client`)."""
    return approved_client(api)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> int:
    """Every handler reads one `now` for the test: fixed-window limits cannot
    straddle a window's end while the test runs."""
    from fxcrm.core import clock

    now = int(time.time())
    monkeypatch.setattr(clock, "now", lambda: now)
    return now
