"""`/docs` in real Chromium and Firefox with no internet: the page draws the API from the
server's own files, under a policy that allows exactly those (a CSP violation or a
script error in the console fails the test, see `browser_page`)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.server import LiveServer


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A page test, not a database test: SQLite only."""
    return str(request.getfixturevalue("sqlite_url"))


def _no_outside_requests(page: Any, live: LiveServer) -> list[str]:
    """Every request the page makes beyond the server is refused and noted (a hospital LAN
    has no internet: a CDN link would leave the page blank there)."""
    outside: list[str] = []

    def route(route: Any, request: Any) -> None:
        if request.url.startswith(live.url):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    page.route("**/*", route)
    return outside


def test_swagger_ui_draws_every_operation_from_the_servers_own_files(
    live: LiveServer, browser_page: Any
) -> None:
    outside = _no_outside_requests(browser_page, live)
    browser_page.goto(f"{live.url}/docs")
    browser_page.wait_for_selector(".opblock", timeout=30_000)
    spec = requests.get(f"{live.url}/openapi.json", timeout=30).json()
    operations = sum(len(methods) for methods in spec["paths"].values())
    drawn = browser_page.locator(".opblock").count()
    assert drawn == operations, (drawn, operations)
    assert outside == []
