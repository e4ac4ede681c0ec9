"""The patient's status page on a cheap phone's screen (360×740) in real Chromium.

A counter calls; the open page turns to "Sắp đến lượt" and then to "Mời vào …" without a
reload. KIOSK_SCREENSHOT_DIR=docs/images keeps the screenshots for the README.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.queue.service import QueueService
from tests.support.server import Api, LiveServer

PHONE = {"width": 360, "height": 740}


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A page test, not a database test: SQLite only."""
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def phone(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"error: {error}"))
    yield page
    context.close()
    # A CSP violation or a script error shows up in the console: it is a bug.
    errors = [m for m in messages if m.startswith("error")]
    assert not errors, errors


def shots() -> Path:
    return Path(os.environ.get("KIOSK_SCREENSHOT_DIR") or tempfile.mkdtemp())


def no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page overflows 360 px by {overflow} px"


def test_near_then_called_without_a_reload(
    live: LiveServer,
    tokens: dict[str, str],
    server_service: QueueService,
    phone: Any,
    record_property: Callable[[str, object], None],
) -> None:
    target = shots()
    tickets = [server_service.issue("NOI").ticket for _ in range(5)]
    mine = tickets[-1]
    page = phone
    page.goto(f"{live.url}/t/{mine.id}")
    page.locator("#live[data-state='waiting']").wait_for(timeout=30_000)
    page.evaluate("window.notReloaded = true")
    no_sideways_scroll(page)
    # One tap turns on vibration, sound and (where the browser has them) notifications.
    page.locator("#alerts").tap()
    assert page.locator("#alerts").is_disabled()
    page.screenshot(path=str(target / "status-page-waiting-vi.png"))

    counter = Api(live.url, tokens["counter"])
    called_at = time.monotonic()
    assert counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"}).ok
    page.locator("#live[data-state='near']").wait_for(timeout=30_000)
    near_after = time.monotonic() - called_at
    assert "Sắp đến lượt" in page.inner_text("#live")
    assert page.inner_text("#ahead") == "3"
    no_sideways_scroll(page)
    page.screenshot(path=str(target / "status-page-near-vi.png"))

    for _ in range(4):
        assert counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"}).ok
    called_at = time.monotonic()
    assert counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"}).ok
    page.locator("#live[data-state='called']").wait_for(timeout=30_000)
    called_after = time.monotonic() - called_at
    text = page.inner_text("#live")
    assert "Mời vào Phòng khám 101" in text and mine.code in text
    assert page.title().startswith(mine.code)
    no_sideways_scroll(page)
    page.screenshot(path=str(target / "status-page-called-vi.png"))
    assert page.evaluate("window.notReloaded") is True  # the same document all along
    # The figures for the README (a functional test asserts no latency).
    record_property("near_shown_ms", round(near_after * 1000))
    record_property("called_shown_ms", round(called_after * 1000))
    logging.getLogger(__name__).info(
        "near shown after %.0f ms, called after %.0f ms", near_after * 1000, called_after * 1000
    )

    page.locator("nav.top a").tap()
    page.wait_for_url(f"{live.url}/t/{mine.id}?lang=en")
    assert "Please go to" in page.inner_text("#live")
    page.screenshot(path=str(target / "status-page-called-en.png"))


def test_without_script_the_page_refreshes_itself(
    live: LiveServer,
    server_service: QueueService,
    chromium_browser: Any,
) -> None:
    ticket = server_service.issue("NOI").ticket
    for script in (False, True):
        context = chromium_browser.new_context(viewport=PHONE, java_script_enabled=script)
        page = context.new_page()
        page.goto(f"{live.url}/t/{ticket.id}")
        # noscript's meta refresh is parsed only where script is off.
        assert page.locator("meta[http-equiv='refresh']").count() == (0 if script else 1)
        assert page.locator("#alerts").is_visible() is script
        context.close()
