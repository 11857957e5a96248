"""Swagger UI at /docs renders in a browser that may reach nothing but the local cloud."""

from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import SCREENSHOTS
from tests.e2e.conftest import RunningCloud


def test_swagger_ui_renders_offline(browser: Any, cloud: RunningCloud) -> None:
    origin = urlsplit(cloud.url).netloc
    elsewhere: list[str] = []

    def only_the_cloud(route: Any) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:  # as on a machine without internet
            elsewhere.append(route.request.url)
            route.abort()

    page = browser.new_page()
    try:
        page.route("**/*", only_the_cloud)
        page.goto(f"{cloud.url}/docs")
        page.locator(".opblock").first.wait_for(timeout=30_000)
        assert "fxcrm API" in page.locator(".info .title").inner_text()
        assert page.locator(".opblock").count() > 50  # the combined API's operations
        assert elsewhere == []
        page.screenshot(path=str(SCREENSHOTS / "docs.png"))
    finally:
        page.close()
