"""Ghost taps: a patient's second tap, tremor or "did it work?" tap never chooses anything.

Every tap here is a press, a hold and a release sent as separate events at a point on the
screen, through the window's QWindow as the platform sends them (so Qt picks the widget under
the finger), with the window's clock moved between them; touch events too. Not `mouseClick`:
that hands both events straight to one widget and hides what happens between them.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent, QPointingDevice
from PySide6.QtTest import QTest

from kiosk.queue.service import QueueService
from kiosk.ui.kiosk_window import KioskWindow
from tests.citizen_cards import Card
from tests.support.kiosk import FakePrinter

LEFT = Qt.MouseButton.LeftButton
HOLD_S = 0.08
_touch: list[QPointingDevice] = []


def touch_device() -> QPointingDevice:
    if not _touch:
        _touch.append(QTest.createTouchDevice())
    return _touch[0]


def finger_down(window: KioskWindow, point: QPoint, touch: bool = False) -> None:
    handle = window.windowHandle()
    if touch:
        QTest.touchEvent(handle, touch_device()).press(0, point, handle).commit()
    else:
        QTest.mousePress(handle, LEFT, Qt.KeyboardModifier.NoModifier, point)


def finger_up(window: KioskWindow, point: QPoint, touch: bool = False) -> None:
    handle = window.windowHandle()
    if touch:
        QTest.touchEvent(handle, touch_device()).release(0, point, handle).commit()
    else:
        QTest.mouseRelease(handle, LEFT, Qt.KeyboardModifier.NoModifier, point)


def tap_at(window: KioskWindow, point: QPoint, touch: bool = False) -> None:
    finger_down(window, point, touch)
    window.monotonic.advance(HOLD_S)
    finger_up(window, point, touch)


def centre_of(window: KioskWindow, widget: Any) -> QPoint:
    return widget.mapTo(window, widget.rect().center())


def settle(window: KioskWindow) -> None:
    """The patient looks at the page for as long as its guard lasts, then taps."""
    window.monotonic.advance(window.guard_remaining() + 0.01)


def show_page_of(window: KioskWindow, code: str) -> None:
    grid = window.home.grid
    grid.turn(grid.page_of(code) - grid.page)


def wait_for_the_issue(qtbot: Any, window: KioskWindow) -> None:
    qtbot.waitUntil(
        lambda: not window.worker.is_pending("issue") and window.current_page() != "printing",
        timeout=30_000,
    )


@pytest.mark.parametrize("gap_ms", [50, 150, 600])
@pytest.mark.parametrize(
    ("size", "code"),
    [
        ((1080, 1920), "TIEPDON"),
        ((1080, 1920), "DALIEU"),
        ((1366, 768), "NOI"),
        ((1366, 768), "XN"),
    ],
)
def test_a_double_tap_on_a_department_never_chooses_a_priority(
    qtbot: Any,
    make_window: Any,
    service: QueueService,
    gap_ms: int,
    size: tuple[int, int],
    code: str,
) -> None:
    window = make_window(size=size)
    show_page_of(window, code)
    settle(window)
    point = centre_of(window, window.home.grid.buttons[code])
    tap_at(window, point)
    assert window.current_page() == "priority"
    window.monotonic.advance(gap_ms / 1000)
    tap_at(window, point)
    wait_for_the_issue(qtbot, window)
    tickets = service.tickets_on(service.service_date())
    assert [t.priority for t in tickets if t.priority] == []
    if gap_ms < 500:  # inside the guard: the second tap did nothing at all
        assert tickets == [] and window.current_page() == "priority"
    else:  # after it: the second tap lands on "not in a priority group"
        assert [(t.department, t.priority) for t in tickets] == [(code, None)]
        assert window.current_page() == "ticket"


def test_a_tap_before_the_other_pages_are_built_gives_one_ticket(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    """The window is built with its home page only (the first screen): the department grid is
    painted with its counts, and the first tap builds the rest, lands on the priority step as
    ever, and its ordinary choice, tapped twice, issues one ticket."""
    window = make_window()
    assert not window.pages_built and window.stack.count() == 1
    assert window.home.grid.buttons and not window.grab().isNull()
    settle(window)
    tap_at(window, centre_of(window, window.home.grid.buttons["NOI"]))
    assert window.pages_built and window.stack.count() == len(window.pages) == 8
    assert window.current_page() == "priority"
    settle(window)
    skip = centre_of(window, window.priority.skip)
    tap_at(window, skip)
    window.monotonic.advance(0.05)
    tap_at(window, skip)
    wait_for_the_issue(qtbot, window)
    tickets = service.tickets_on(service.service_date())
    assert [(t.department, t.priority) for t in tickets] == [("NOI", None)]
    assert window.current_page() == "ticket"


@pytest.mark.parametrize("gap_ms", [50, 150, 600])
def test_a_double_touch_never_chooses_a_priority(
    qtbot: Any, make_window: Any, service: QueueService, gap_ms: int
) -> None:
    window = make_window(size=(1366, 768))
    settle(window)
    point = centre_of(window, window.home.grid.buttons["NHI"])
    tap_at(window, point, touch=True)
    assert window.current_page() == "priority"
    window.monotonic.advance(gap_ms / 1000)
    tap_at(window, point, touch=True)
    wait_for_the_issue(qtbot, window)
    tickets = service.tickets_on(service.service_date())
    assert [t.priority for t in tickets] == ([] if gap_ms < 500 else [None])


def test_a_press_begun_inside_the_guard_is_ignored_even_if_held_past_it(
    qtbot: Any, make_window: Any, service: QueueService
) -> None:
    window = make_window(size=(1080, 1920))
    settle(window)
    tap_at(window, centre_of(window, window.home.grid.buttons["NOI"]))
    pregnant = next(b for b in window.priority.buttons if b.reason == "pregnant")
    point = centre_of(window, pregnant)
    window.monotonic.advance(0.1)
    finger_down(window, point)
    window.monotonic.advance(2.0)  # a slow, trembling press that began too early
    finger_up(window, point)
    assert window.current_page() == "priority"
    tap_at(window, point)  # one deliberate tap on a page seen long enough: that counts
    wait_for_the_issue(qtbot, window)
    assert [t.priority for t in service.tickets_on(service.service_date())] == ["pregnant"]


def test_no_priority_sits_under_every_department_tile(qtbot: Any, make_window: Any) -> None:
    window = make_window(size=(1366, 768))
    for size in [(1366, 768), (1280, 800), (768, 1080), (768, 1024), (1080, 1920), (1920, 1080)]:
        window.resize(*size)
        grid = window.home.grid
        for code, tile in grid.buttons.items():
            grid.turn(grid.page_of(code) - grid.page)
            window.go_home()
            point = centre_of(window, tile)
            window.department_tapped(code)
            assert window.current_page() == "priority"
            assert window.childAt(point) is window.priority.skip, (size, code)
            assert window.priority.skip.geometry().height() >= 120


def test_the_finger_that_was_down_when_the_page_changed_must_lift_first(
    qtbot: Any, make_window: Any, fake_printer: FakePrinter
) -> None:
    window = make_window(size=(1080, 1920))
    fake_printer.fail = True
    fake_printer.gate = threading.Event()
    settle(window)
    tap_at(window, centre_of(window, window.home.grid.buttons["NOI"]))
    settle(window)
    tap_at(window, centre_of(window, window.priority.skip))
    qtbot.waitUntil(lambda: window.current_page() == "printing", timeout=30_000)
    settle(window)
    point = centre_of(window, window)
    finger_down(window, point)  # "is it working?": a finger on the screen while it prints
    with qtbot.waitSignal(window.issue_failed, timeout=30_000):
        fake_printer.gate.set()
    assert window.current_page() == "message"
    window.monotonic.advance(5.0)
    finger_up(window, point)  # the page changed under the finger: its lifting does nothing
    assert window.current_page() == "message"
    settle(window)
    tap_at(window, point)
    assert window.current_page() == "home"


def take_a_number(qtbot: Any, window: KioskWindow) -> None:
    settle(window)
    tap_at(window, centre_of(window, window.home.grid.buttons["NOI"]))
    settle(window)
    with qtbot.waitSignal(window.ticket_shown, timeout=30_000):
        tap_at(window, centre_of(window, window.priority.skip))


@pytest.mark.parametrize("size", [(1080, 1920), (800, 1280), (1366, 768)])
def test_a_tap_just_after_the_number_appears_does_not_take_it_away(
    qtbot: Any, make_window: Any, size: tuple[int, int]
) -> None:
    window = make_window(size=size)
    take_a_number(qtbot, window)
    window.monotonic.advance(0.08)
    for target in (window.ticket, window.ticket.code, window.ticket.done_button):
        tap_at(window, centre_of(window, target))
        assert window.current_page() == "ticket"
    window.monotonic.advance(1.0)  # still in the number screen's first seconds
    tap_at(window, centre_of(window, window.ticket.done_button))
    assert window.current_page() == "ticket"
    settle(window)
    for target in (window.ticket.code, window.ticket.ahead, window.ticket.take):
        tap_at(window, centre_of(window, target))  # anywhere but "Done": the number stays
        assert window.current_page() == "ticket"
    tap_at(window, centre_of(window, window.ticket.done_button))
    assert window.current_page() == "home"


def test_the_countdown_counts_down(qtbot: Any, make_window: Any) -> None:
    window = make_window(result_ms=15_000, countdown_ms=5)
    take_a_number(qtbot, window)
    # The countdown reads the window's (fake) monotonic clock, moved by hand below; the real
    # 15 s timer that closes the page is not what this test is about, and on a busy machine the
    # test can take longer than 15 s of wall time: it must not close the page mid-test.
    window.result_timer.stop()
    assert "15" in window.ticket.countdown.text()
    window.monotonic.advance(3.0)
    qtbot.waitUntil(lambda: "12" in window.ticket.countdown.text(), timeout=30_000)
    window.monotonic.advance(10.0)
    qtbot.waitUntil(lambda: " 2 " in window.ticket.countdown.text(), timeout=30_000)


def test_keys_pass_while_touches_are_guarded(qtbot: Any, make_window: Any) -> None:
    """A USB scanner types: its keystrokes are never taken for ghost taps. A card scanned just
    after the page changed (through the window, where the guard sits) is read."""
    window = make_window(size=(1080, 1920))
    settle(window)
    tap_at(window, centre_of(window, window.home.grid.buttons["NOI"]))
    assert window.guard_remaining() > 0
    window.activateWindow()
    handle = window.windowHandle()
    typed = [*Card(dt.date(1944, 2, 3)).text, "\r"]
    with qtbot.waitSignal(window.scanned, timeout=30_000):
        for index, char in enumerate(typed):
            if char == "\r":
                key = int(Qt.Key.Key_Return)
            else:
                key = ord(char.upper()) if char.isascii() else 0
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
                event.setTimestamp(5_000_000 + index * 2)  # 2 ms apart: a scanner
                QCoreApplication.sendEvent(handle, event)
    assert window.flow.scanned == "elderly_75"
    assert window.guard_remaining() > 0  # still inside the guard
