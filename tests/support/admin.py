"""The staff console's test parts: a session that logs in like a browser, the browsers and
Chromium's flags, the password.
"""

from __future__ import annotations

import os
import re
from typing import Any

import requests

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("KIOSK_TEST_CHROMIUM", "/usr/bin/chromium")
# Debian's Firefox ESR, driven over WebDriver BiDi (Playwright's "moz-firefox" channel).
FIREFOX = os.environ.get("KIOSK_TEST_FIREFOX", "/usr/bin/firefox-esr")


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


def login_in_browser(page: Any, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
