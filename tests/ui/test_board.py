"""The waiting-room board: calls from the server's feed, announcements, readability."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.announcer import Announcer
from kiosk.config import Config, parse_config
from kiosk.ui.board_widgets import BOARD_PAIRS
from kiosk.ui.board_window import BoardTimings, BoardWindow
from kiosk.ui.layout import contrast_ratio
from kiosk.ui.style import apply_style, load_fonts
from tests.support.hospital import Hospital

FAST = BoardTimings(feed_wait=1.0, reconnect_base=0.05, reconnect_cap=0.3, highlight_ms=200)


def test_every_text_on_the_board_has_contrast_for_ten_metres() -> None:
    for text, background in BOARD_PAIRS:
        assert contrast_ratio(text, background) >= 7.0, (text, background)


@pytest.fixture
def board_of(qtbot: Any, hospital: Hospital) -> Iterator[Any]:
    from PySide6.QtWidgets import QApplication

    boards: list[BoardWindow] = []

    def make(
        announcer: Announcer, departments: tuple[str, ...] = (), config: Config | None = None
    ) -> BoardWindow:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        family = load_fonts()
        apply_style(app, family)
        board = BoardWindow(
            config or hospital.config,
            hospital.client("board"),
            family=family,
            departments=departments,
            announcer=announcer,
            timings=FAST,
        )
        boards.append(board)
        board.resize(1920, 1080)
        board.show()
        board.start()
        qtbot.waitUntil(lambda: board.online is True and bool(board.departments), timeout=30_000)
        return board

    yield make
    for board in boards:
        board.shutdown()
        board.close()
        board.deleteLater()


def test_without_speech_engine_or_audio_device_the_board_goes_on(
    qtbot: Any, hospital: Hospital, board_of: Any
) -> None:
    def no_engine(text: str, language: str) -> bytes:
        raise OSError("espeak-ng: no such voice")

    def no_device(clip: bytes) -> None:
        raise OSError("aplay: no soundcards found")

    played: list[str] = []
    announcer = Announcer(
        "Mời số {code} vào {room}",
        "vi",
        synthesizer=no_engine,
        player=no_device,
        on_played=lambda a: played.append(a.text),
    )
    board = board_of(announcer)
    service = hospital.server_service()
    service.issue("NOI")
    service.issue("NOI")
    counter = hospital.client("counter")
    try:
        counter.call_next("NOI", "102", "req-board-1")
        qtbot.waitUntil(lambda: [c.code for c in board.calls] == ["B001"], timeout=30_000)
        counter.call_next("NOI", "103", "req-board-2")
        qtbot.waitUntil(lambda: [c.code for c in board.calls] == ["B002", "B001"], timeout=30_000)
    finally:
        counter.close()
    qtbot.waitUntil(lambda: len(played) == 2, timeout=30_000)
    assert played == ["Mời số B001 vào Phòng khám 102", "Mời số B002 vào Phòng khám 103"]
    assert board.newest.call is not None and board.newest.room_text == "Phòng khám 103"


def test_the_board_reads_only_calls_from_the_feed_and_its_counts_follow_the_issues(
    qtbot: Any, hospital: Hospital, board_of: Any
) -> None:
    announcer = Announcer("{code} {room}", "vi", speech=False, chime=False, player=lambda c: None)
    board = board_of(announcer)
    received: list[str] = []
    board.feed.events_received.connect(lambda events: received.extend(e.type for e in events))

    def waiting(code: str) -> int:
        return next(d.waiting for d in board.state.departments if d.code == code)

    service = hospital.server_service()
    service.issue("NOI")
    service.issue("NOI")
    counter = hospital.client("counter")
    try:
        counter.call_next("NOI", "102", "req-types-1")
    finally:
        counter.close()
    qtbot.waitUntil(lambda: [c.code for c in board.calls] == ["B001"], timeout=30_000)
    qtbot.waitUntil(lambda: waiting("NOI") == 1, timeout=30_000)
    service.issue("NOI")
    # No call: the feed sends the board nothing, yet the moved cursor refreshes its counts.
    qtbot.waitUntil(lambda: waiting("NOI") == 2, timeout=30_000)
    assert received == ["ticket.called"]


def test_a_board_for_some_departments_shows_only_theirs(
    qtbot: Any, hospital: Hospital, board_of: Any
) -> None:
    announced: list[str] = []
    announcer = Announcer(
        "Mời số {code} vào {room}",
        "vi",
        speech=False,
        chime=False,
        player=lambda clip: None,
        on_played=lambda a: announced.append(a.code),
    )
    config = parse_config({**hospital.config.model_dump(), "board": {"notice": "Giữ trật tự"}})
    board = board_of(announcer, ("TIEPDON",), config)
    service = hospital.server_service()
    service.issue("NOI")
    service.issue("TIEPDON")
    counter = hospital.client("counter")
    try:
        counter.call_next("NOI", "101", "req-some-1")
        counter.call_next("TIEPDON", "Q1", "req-some-2")
    finally:
        counter.close()
    qtbot.waitUntil(lambda: [c.code for c in board.calls] == ["A001"], timeout=30_000)
    qtbot.waitUntil(lambda: announced == ["A001"], timeout=30_000)
    assert board.newest.room_text == "Quầy 1"  # as it is said, not "Q1"
    assert [name.text() for name, _ in board.side_rows if name.isVisible()] == [
        "Tiếp đón - Đăng ký khám"
    ]
    assert board.ticker.isVisible() and board.ticker.text == "Giữ trật tự"


def test_markup_in_the_hospital_name_is_shown_as_text(
    qtbot: Any, hospital: Hospital, board_of: Any
) -> None:
    from PySide6.QtCore import Qt

    markup = "<b>BV</b> <img src=x> <a href='http://x'>click</a>"
    config = parse_config({**hospital.config.model_dump(), "hospital": {"name": markup}})
    announcer = Announcer("{code} {room}", "vi", speech=False, chime=False, player=lambda c: None)
    board = board_of(announcer, (), config)
    assert board.hospital.text() == markup
    assert board.hospital.textFormat() == Qt.TextFormat.PlainText


def test_fullscreen_fills_the_screen_even_without_a_window_manager(
    qtbot: Any, hospital: Hospital, board_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a bare X server nobody honours the fullscreen request: the window must already
    have the screen's geometry (it opened at 1280x275 with its text over each other)."""
    from PySide6.QtGui import QGuiApplication

    from kiosk.ui.qapp import show_fullscreen

    announcer = Announcer("{code} {room}", "vi", speech=False, chime=False, player=lambda c: None)
    board = board_of(announcer, (), hospital.config)
    monkeypatch.setattr(board, "showFullScreen", board.show)  # what a WM-less X server does
    show_fullscreen(board)
    screen = QGuiApplication.primaryScreen()
    assert board.geometry() == screen.geometry()
    assert board.windowTitle().endswith(hospital.config.hospital.name)
