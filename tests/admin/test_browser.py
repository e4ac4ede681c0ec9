"""The console in a real browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import PASSWORD
from tests.server_sync.conftest import LiveServer


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The browser tests test pages, not databases: SQLite only."""
    return str(request.getfixturevalue("sqlite_url"))


def test_log_in_and_out_in_chromium(console: LiveServer, browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{console.url}/admin/audit")
    assert page.url.startswith(f"{console.url}/admin/login?next=")
    page.fill("input[name=name]", "an")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.alert")
    assert "Sai tên đăng nhập" in page.inner_text("p.alert")
    page.fill("input[name=name]", "an")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console.url}/admin/audit")
    assert "login.failed" in page.inner_text("#audit")
    page.click("#language")
    page.wait_for_selector("h1:has-text('Audit log')")
    page.click("text=Log out")
    page.wait_for_url(f"{console.url}/admin/login")
