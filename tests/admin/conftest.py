"""The console's fixtures: a real server with staff accounts, and Debian's Chromium and Firefox."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from server_sync.server.admin.accounts import add_user
from tests.support.admin import CHROMIUM, CHROMIUM_FLAGS, FIREFOX, PASSWORD, Browserless
from tests.support.server import LiveServer


@pytest.fixture
def staff(server_engine: Engine) -> dict[str, str]:
    """One account per role: name -> role (the password is PASSWORD)."""
    now = dt.datetime.now(dt.UTC)
    accounts = {"an": "admin", "lan": "supervisor", "minh": "it"}
    for name, role in accounts.items():
        add_user(server_engine, name, role, PASSWORD, now)
    return accounts


@pytest.fixture
def console(
    make_server: Callable[..., LiveServer],
    tokens: dict[str, str],
    staff: dict[str, str],
) -> LiveServer:
    return make_server()


@pytest.fixture
def as_staff(console: LiveServer) -> Callable[[str], Browserless]:
    def make(name: str) -> Browserless:
        client = Browserless(console.url)
        answer = client.login(name)
        assert answer.status_code == 303, answer.text
        return client

    return make


def _installed(path: str, package: str) -> None:
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no browser at {path} in CI: .ci/run installs Debian's {package}")
        pytest.skip(f"no browser at {path}: apt-get install {package}")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium_browser(playwright: Any) -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium"):
        path = str(shutil.which("chromium"))
    else:
        _installed(path := CHROMIUM, "chromium")
    browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def firefox_browser(playwright: Any) -> Iterator[Any]:
    _installed(FIREFOX, "firefox-esr")
    browser = playwright.firefox.launch(channel="moz-firefox", executable_path=FIREFOX)
    yield browser
    browser.close()


@pytest.fixture(params=["chromium", "firefox"])
def console_browser(request: pytest.FixtureRequest) -> Any:
    """The console works in both browsers of a hospital PC."""
    return request.getfixturevalue(f"{request.param}_browser")


@pytest.fixture
def browser_page(console_browser: Any) -> Iterator[Any]:
    context = console_browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    yield page
    context.close()
    # A CSP violation or a script error shows up in the console: it is a bug.
    # (A 401 or 429 answer of the login form is a page, not a fault.)
    errors = [m for m in messages if m.startswith("error") and "Failed to load resource" not in m]
    assert not errors, errors
