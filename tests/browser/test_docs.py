"""Swagger UI at /docs renders in a browser that may reach nothing but the local
cloud, with the page under a strict Content-Security-Policy."""

from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import SCREENSHOTS
from tests.support.http_journeys import RunningCloud

# scripts only from the page's own origin, no inline script
STRICT_CSP = "default-src 'self'; script-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"


def test_swagger_ui_renders_offline_under_a_strict_csp(browser: Any, cloud: RunningCloud) -> None:
    origin = urlsplit(cloud.url).netloc
    elsewhere: list[str] = []
    refused: list[str] = []

    def only_the_cloud(route: Any) -> None:
        url = urlsplit(route.request.url)
        if url.netloc != origin:  # as on a machine without internet
            elsewhere.append(route.request.url)
            route.abort()
        elif url.path == "/docs":
            response = route.fetch()
            route.fulfill(response=response, headers=response.headers | {"content-security-policy": STRICT_CSP})
        else:
            route.continue_()

    page = browser.new_page()
    try:
        page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
        page.route("**/*", only_the_cloud)
        page.goto(f"{cloud.url}/docs")
        page.locator(".opblock").first.wait_for(timeout=30_000)
        assert "fxcrm API" in page.locator(".info .title").inner_text()
        assert page.locator(".opblock").count() > 50  # the combined API's operations
        assert elsewhere == [] and refused == []
        page.screenshot(path=str(SCREENSHOTS / "docs.png"))
    finally:
        page.close()
