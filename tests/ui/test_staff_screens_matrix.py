"""The counter and the board at the sizes hospitals use, checked by their geometry.

For 4, 12 and 24 departments, in Vietnamese and English, every screen (the counter's main page
and its transfer page, the board) at every size of `SIZES` is measured on the real widgets
(`tests/ui/geometry.py`): no two siblings overlap, no widget leaves its parent, no text is cut
in either axis (the ink of stacked Vietnamese accents included), and on the board the newest
call's code is the largest text on screen. One server and one pair of windows per department
count keeps the matrix quick (the windows are resized and switched, not rebuilt).

Set KIOSK_SCREENSHOT_DIR to keep the PNGs (to look at them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.app.counter import Action
from kiosk.ui.board_window import BoardTimings, BoardWindow
from kiosk.ui.counter_window import CounterTimings, CounterWindow
from kiosk.ui.staff_common import ScreenText
from kiosk.ui.style import apply_style, load_fonts
from tests.support.hospital import Hospital, set_department_count
from tests.ui import geometry

# The demo's windows on a 1920x1080 desktop, the usual monitors and TVs, a 4K TV, portrait.
COUNTER_SIZES = [(1152, 540), (1280, 800), (1366, 768), (1920, 1080), (1080, 1920)]
BOARD_SIZES = [(1152, 540), (1366, 768), (1920, 1080), (3840, 2160), (1080, 1920)]
LANGUAGES = ("vi", "en")
FAST = CounterTimings(feed_wait=1.0, reconnect_base=0.05, reconnect_cap=0.3)


def show_at(window: QWidget, size: tuple[int, int]) -> None:
    app = QApplication.instance()
    assert app is not None
    window.resize(*size)
    window.show()
    for _ in range(4):  # layouts settle, fitted labels choose their sizes
        app.processEvents()


def keep_png(window: QWidget, name: str) -> None:
    directory = os.environ.get("KIOSK_SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(directory) / f"{name}.png"))


@pytest.fixture
def staff_screens(qtbot: Any, hospital: Hospital) -> Iterator[tuple[Hospital, Any]]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    family = load_fonts()
    apply_style(app, family)
    made: list[Any] = []

    def make(language: str) -> tuple[CounterWindow, BoardWindow]:
        counter = CounterWindow(
            hospital.config,
            hospital.client("counter"),
            department="NOI",
            room="101",
            family=family,
            language=language,
            timings=FAST,
        )
        board = BoardWindow(
            hospital.config,
            hospital.client("board"),
            family=family,
            timings=BoardTimings(feed_wait=1.0, reconnect_base=0.05, reconnect_cap=0.3),
        )
        for window in (counter, board):
            qtbot.addWidget(window)
            made.append(window)
        return counter, board

    yield hospital, make
    for window in made:
        window.shutdown()


def morning(hospital: Hospital, departments: list[str]) -> None:
    """Tickets in every department, priority ones among them, calls to named rooms."""
    service = hospital.server_service()
    for index, code in enumerate(departments):
        service.issue(code, "pregnant" if index % 5 == 1 else None)
    for _ in range(9):
        service.issue("NOI")
    service.issue("NOI", "child_under_6")
    counter = hospital.client("counter")
    try:
        for code in departments[:6]:
            if code == "NOI":
                continue
            rooms = next(d for d in counter.departments() if d.code == code).rooms
            counter.call_next(code, rooms[-1], f"matrix-{code}")
    finally:
        counter.close()


def problems_of(window: QWidget, where: str) -> list[str]:
    return [f"{where}: {p}" for p in geometry.check_screen(window)]


@pytest.mark.parametrize("count", [4, 12, 24])
def test_counter_screens_hold_at_every_size(
    qtbot: Any, staff_screens: tuple[Hospital, Any], count: int
) -> None:
    hospital, make = staff_screens
    departments = set_department_count(hospital.engine, count)
    morning(hospital, departments)
    counter, _board = make("vi")
    counter.start()
    qtbot.waitUntil(lambda: counter.online is True and len(counter.waiting) >= 10, timeout=30_000)
    counter.trigger(Action.CALL_NEXT)
    qtbot.waitUntil(lambda: counter.current is not None and not counter.busy, timeout=30_000)
    counter.trigger(Action.RECALL)
    qtbot.waitUntil(lambda: counter.current is not None and counter.current.recalls == 1)
    qtbot.waitUntil(lambda: not counter.busy and not counter.worker.busy)
    found: list[str] = []
    for language in LANGUAGES:
        counter.text = ScreenText(language)
        counter.retranslate()
        counter.redraw()
        for size in COUNTER_SIZES:
            name = f"counter-{count}-{language}-{size[0]}x{size[1]}"
            counter.close_transfer()
            show_at(counter, size)
            found += problems_of(counter, name)
            keep_png(counter, name)
            counter.open_transfer()
            pages = counter.transfer_page.pages()
            assert pages == -(-(count - 1) // 9)
            for page in range(pages):
                show_at(counter, size)
                found += problems_of(counter, f"{name} transfer page {page + 1}")
                keep_png(counter, f"{name}-transfer-{page + 1}")
                counter.transfer_page.turn(1)
            counter.close_transfer()
    assert not found, "\n".join(found)


def text_sizes(root: QWidget) -> list[tuple[float, str]]:
    """Every text on screen with its pixel size: labels and self-painted texts."""
    from PySide6.QtWidgets import QLabel

    sizes: list[tuple[float, str]] = []
    for widget in geometry.shown_widgets(root):
        if isinstance(widget, QLabel) and widget.text().strip():
            widget.ensurePolished()
            sizes.append((float(widget.font().pixelSize()), geometry.widget_name(widget)))
        for painted in getattr(widget, "painted_texts", lambda: ())():
            label = f"{geometry.widget_name(widget)} {painted.lines[0]!r}"
            sizes.append((float(painted.font.pixelSize()), label))
    return sizes


def board_problems(board: BoardWindow, where: str) -> list[str]:
    found = problems_of(board, where)
    newest = board.newest.code_px()
    if board.calls and not newest:
        found.append(f"{where}: the newest call is not drawn")
    codes = [t.code_px() for t in (board.newest, *board.history) if t.isVisible() and t.call]
    notice = [p.font.pixelSize() for p in board.ticker.painted_texts()]
    if notice and codes and max(notice) >= min(codes):
        found.append(f"{where}: the notice ({max(notice)} px) is not smaller than every call")
    code = board.calls[0].code if board.calls else ""
    for px, what in text_sizes(board):
        if board.calls and px >= newest and f"{code!r}" not in what:
            found.append(f"{where}: {what} at {px:.0f} px is not smaller than the newest code")
    return found


@pytest.mark.parametrize("count", [4, 12, 24])
def test_board_holds_at_every_size_with_the_newest_code_largest(
    qtbot: Any, staff_screens: tuple[Hospital, Any], count: int
) -> None:
    hospital, make = staff_screens
    departments = set_department_count(hospital.engine, count)
    morning(hospital, departments)
    _counter, board = make("vi")
    board.board = board.board.model_copy(update={"notice": "Xin giữ trật tự trong phòng chờ"})
    board.start()
    qtbot.waitUntil(lambda: board.online is True and len(board.calls) >= 3, timeout=30_000)
    found: list[str] = []
    for language in LANGUAGES:
        board.text = ScreenText(language)
        board.redraw()
        for size in BOARD_SIZES:
            name = f"board-{count}-{language}-{size[0]}x{size[1]}"
            show_at(board, size)
            board.render_counts()
            show_at(board, size)
            found += board_problems(board, name)
            keep_png(board, name)
    assert board.windowTitle()
    assert not found, "\n".join(found)
