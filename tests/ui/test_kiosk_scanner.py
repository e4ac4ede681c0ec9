"""A USB scanner typing a citizen ID card's QR into the kiosk window, as a keyboard does."""

from __future__ import annotations

import datetime as dt
import logging
from itertools import count
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.config import parse_config
from kiosk.queue.service import QueueService
from kiosk.ui.kiosk_window import KioskWindow
from tests.citizen_cards import Card
from tests.support.kiosk import FakePrinter, make_config
from tests.support.kiosk_screen import tap

# The window's clock: 09:00 on 28 November 2026 in Hanoi (tests/conftest.py).
TODAY = dt.date(2026, 11, 28)
ELDER = Card(dt.date(1944, 2, 3), name="Nguyễn Thị Ẩn")
CHILD = Card(dt.date(2022, 8, 9), name="Lò Văn Đức", sex="Nam")
ADULT = Card(dt.date(1980, 1, 2))


_clock = count(1_000_000)


def key_events(target: QWidget, text: str, gap_ms: int = 2) -> None:
    """Press and release a key per character, then Enter, `gap_ms` apart by their input
    timestamps: 2 ms is a scanner in keyboard mode. (QTest's keyClicks takes ASCII only; a
    card's name is not.)"""
    start = next(_clock) * 1000
    keys = [(ord(c.upper()) if c.isascii() else 0, c) for c in text]
    keys.append((Qt.Key.Key_Return, "\r"))
    for index, (code, char) in enumerate(keys):
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, code, Qt.KeyboardModifier.NoModifier, char)
            event.setTimestamp(start + index * gap_ms)
            QApplication.sendEvent(target, event)


def scan(qtbot: Any, window: KioskWindow, text: str, target: QWidget | None = None) -> str:
    """Type `text` and Enter the way a keyboard-mode scanner does into whatever page is
    showing; returns what the kiosk made of it."""
    target = target or window.stack.currentWidget()
    with qtbot.waitSignal(window.scanned, timeout=30_000) as blocker:
        key_events(target, text)
    return str(blocker.args[0])


def rect_in_window(window: KioskWindow, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def test_a_card_scanned_at_home_preselects_elderly_then_one_tap_issues_it(
    qtbot: Any, make_window: Any, service: QueueService, fake_printer: FakePrinter
) -> None:
    window = make_window()
    assert scan(qtbot, window, ELDER.text) == "held"
    assert "Người từ 75 tuổi" in window.home.banner.text()
    tap(qtbot, window.home.grid.buttons["NOI"])
    assert window.current_page() == "scanned_priority"
    confirm = window.scanned_priority.confirm
    assert confirm.text().replace("\n", " ") == "Ưu tiên: Người từ 75 tuổi"
    assert confirm.font().pixelSize() >= 48  # large type
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000) as blocker:
        tap(qtbot, confirm)
    ticket = service.get(blocker.args[0].ticket_id)
    assert ticket.priority == "elderly_75"
    assert window.flow.scanned is None
    assert "Người từ 75 tuổi" in window.ticket.priority.text()


def test_scanned_on_the_priority_step_and_declined(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    window = make_window()
    tap(qtbot, window.home.grid.buttons["NHI"])
    assert window.current_page() == "priority"
    # The page has just changed: the tap guard is on, and the scanner's keys still count.
    assert window.guard_remaining() > 0
    assert scan(qtbot, window, CHILD.text) == "preselected"
    assert window.current_page() == "scanned_priority"
    assert window.scanned_priority.confirm.accessibleName() == "Ưu tiên: Trẻ em dưới 6 tuổi"
    tap(qtbot, window.scanned_priority.decline)
    assert window.current_page() == "priority" and window.flow.scanned is None
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000) as blocker:
        tap(qtbot, window.priority.skip)
    assert service.get(blocker.args[0].ticket_id).priority is None


def test_a_scanned_priority_is_forgotten_when_the_kiosk_goes_home(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window()
    tap(qtbot, window.home.grid.buttons["NOI"])
    scan(qtbot, window, ELDER.text)
    tap(qtbot, window.scanned_priority.back_button)
    assert window.current_page() == "home" and window.flow.scanned is None
    tap(qtbot, window.home.grid.buttons["NOI"])
    assert window.current_page() == "priority"  # the ordinary choice: nothing pre-selected


@pytest.mark.parametrize(
    "text",
    [
        "8934563138165",  # a product's barcode
        ELDER.text[:30],  # half a scan
        Card(TODAY + dt.timedelta(days=2)).text,  # born after today
        "Zq7|x" * 40,  # 200 characters of noise
    ],
)
def test_what_is_not_a_card_gets_a_short_friendly_message(
    qtbot: Any, make_window: Any, text: str
) -> None:
    window = make_window()
    assert scan(qtbot, window, text) == "not_a_card"
    assert window.current_page() == "home" and window.flow.scanned is None
    assert "thẻ căn cước" in window.home.banner.text()
    assert window.home.banner.isVisible()


def test_a_card_without_an_age_priority_says_so_and_preselects_nothing(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window()
    assert scan(qtbot, window, ADULT.text) == "no_priority"
    assert window.flow.scanned is None
    tap(qtbot, window.home.grid.buttons["NOI"])
    assert window.current_page() == "priority"


def test_a_hospital_without_the_group_preselects_nothing(qtbot: Any, make_window: Any) -> None:
    config = parse_config({"queue": {"priority_reasons": ["emergency", "pregnant"]}})
    window = make_window(config)
    assert scan(qtbot, window, ELDER.text) == "no_priority"


def test_keys_typed_by_a_person_are_not_a_scan(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    outcomes: list[str] = []
    window.scanned.connect(outcomes.append)
    key_events(window.home, ELDER.text, gap_ms=200)  # 200 ms between keys: a person
    key_events(window.home, "12345", gap_ms=90)  # a fast typist
    assert outcomes == [] and window.flow.scanned is None
    assert window.current_page() == "home"


def test_a_scan_on_the_number_screen_is_for_the_next_patient(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    tap(qtbot, window.home.grid.buttons["NOI"])
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000):
        tap(qtbot, window.priority.skip)
    assert window.current_page() == "ticket"
    assert scan(qtbot, window, ELDER.text) == "held"
    assert window.current_page() == "home" and window.flow.scanned == "elderly_75"


def test_scans_on_the_staff_pin_page_are_not_read(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.show_page(window.pin)
    outcomes: list[str] = []
    window.scanned.connect(outcomes.append)
    key_events(window.pin, ELDER.text)
    assert outcomes == [] and window.flow.scanned is None


@pytest.mark.parametrize(
    "size", [(1080, 1920), (1920, 1080), (768, 1024), (1024, 768), (1366, 768), (3840, 2160)]
)
def test_the_confirm_tile_never_sits_under_a_department_tile(
    qtbot: Any, make_window: Any, size: tuple[int, int]
) -> None:
    window = make_window(make_config(), size=size)
    qtbot.waitUntil(lambda: window.home.grid.buttons["NOI"].width() > 0, timeout=30_000)
    tiles = [rect_in_window(window, b) for b in window.home.grid.buttons.values()]
    viewport = rect_in_window(window, window.home.grid)
    scan(qtbot, window, ELDER.text)  # the banner it shows moves the grid down
    tiles += [rect_in_window(window, b) for b in window.home.grid.buttons.values()]
    tap(qtbot, window.home.grid.buttons["NOI"])
    assert window.current_page() == "scanned_priority"
    confirm = rect_in_window(window, window.scanned_priority.confirm)
    assert confirm.height() >= 120  # touch-sized
    for tile in [*tiles, viewport]:
        assert not confirm.intersects(tile), (size, confirm, tile)
    assert confirm.bottom() < viewport.top()
    # The group is never cut: one line, or two on a narrow screen.
    for language in ("vi", "en"):
        window.set_language(language)
        button = window.scanned_priority.confirm
        metrics = button.fontMetrics()
        widest = max(metrics.horizontalAdvance(row) for row in button.text().split("\n"))
        assert widest <= button.width() - 48, (size, language, button.text())


def test_nothing_of_the_card_reaches_the_log_or_the_printer(
    qtbot: Any,
    make_window: Any,
    fake_printer: FakePrinter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    window = make_window()
    scan(qtbot, window, ELDER.text)
    tap(qtbot, window.home.grid.buttons["NOI"])
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000):
        tap(qtbot, window.scanned_priority.confirm)
    printed = repr(fake_printer.printed)
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    for form in ELDER.forms():
        assert form not in printed and form not in logged, form
