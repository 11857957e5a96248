"""Settings for every tier: fake credentials, no X-Ray daemon, one region; and the
HTTP tiers' empty local cloud (no demo data, as a fresh deploy) for the bootstrap tests."""

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "fxcrm-test",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)  # component tests use moto in process


@pytest.fixture(scope="module")
def empty_cloud(request: pytest.FixtureRequest) -> Iterator[Any]:
    """`python -m localcloud --no-seed` for this module (its log named after the module)."""
    from tests.support.http_journeys import start_cloud, stop_cloud

    running = start_cloud(request.module.__name__.rsplit(".", 1)[-1], seed=False)
    yield running
    stop_cloud(running)
