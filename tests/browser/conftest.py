"""Browser tier: the back office console in Debian's Chromium (installed by the
Makefile), driven by Playwright, against the local cloud over HTTP."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.http_journeys import ARTIFACTS, RunningCloud, start_cloud, stop_cloud

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="module")
def cloud() -> Iterator[RunningCloud]:
    running = start_cloud("browser")
    yield running
    stop_cloud(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()
