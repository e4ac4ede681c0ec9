"""The console's fixtures: a real server with staff accounts, and Debian's Chromium."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from kiosk.config import Config
from server_sync.server.admin.accounts import add_user
from tests.server_sync.conftest import (  # noqa: F401 - fixtures
    LiveServer,
    live,
    make_server,
    server_config,
    server_engine,
    tokens,
)

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("KIOSK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def staff(server_engine: Engine) -> dict[str, str]:  # noqa: F811
    """One account per role: name -> role (the password is PASSWORD)."""
    now = dt.datetime.now(dt.UTC)
    accounts = {"an": "admin", "lan": "supervisor", "minh": "it"}
    for name, role in accounts.items():
        add_user(server_engine, name, role, PASSWORD, now)
    return accounts


@pytest.fixture
def console(
    make_server: Callable[..., LiveServer],  # noqa: F811
    tokens: dict[str, str],  # noqa: F811
    staff: dict[str, str],
) -> LiveServer:
    return make_server()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browserless:
    """A requests session that logs in like a browser (cookie jar, CSRF from the forms)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(f"{self.base}{path}", timeout=30, allow_redirects=False, **kw)

    def post(self, path: str, data: dict[str, str], **kw: Any) -> requests.Response:
        return self.http.post(
            f"{self.base}{path}", data=data, timeout=30, allow_redirects=False, **kw
        )

    def csrf(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found, page.text
        return found.group(1)

    def login(self, name: str, password: str = PASSWORD) -> requests.Response:
        token = self.csrf("/admin/login")
        return self.post(
            "/admin/login", {"csrf": token, "name": name, "password": password, "next": "/admin"}
        )


@pytest.fixture
def as_staff(console: LiveServer) -> Callable[[str], Browserless]:
    def make(name: str) -> Browserless:
        client = Browserless(console.url)
        answer = client.login(name)
        assert answer.status_code == 303, answer.text
        return client

    return make


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM} in CI: .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    yield page
    context.close()
    # A CSP violation or a script error shows up in the console: it is a bug.
    # (A 401 or 429 answer of the login form is a page, not a fault.)
    errors = [m for m in messages if m.startswith("error") and "Failed to load resource" not in m]
    assert not errors, errors


def login_in_browser(page: Any, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


__all__ = ["Config"]
