"""End-to-end tier: `python -m localcloud` in a subprocess, used over HTTP.
The cloud and the helpers the tests share are in tests/support/http_journeys.py."""

from collections.abc import Iterator

import pytest

from tests.support.http_journeys import RunningCloud, start_cloud, stop_cloud


@pytest.fixture(scope="session")
def cloud() -> Iterator[RunningCloud]:
    running = start_cloud("e2e")
    yield running
    stop_cloud(running)
