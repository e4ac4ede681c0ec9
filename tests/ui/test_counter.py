"""The nurse's counter against a real server on 127.0.0.1, with the board beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from kiosk import wire
from kiosk.announcer import Announcer, chime_wav
from kiosk.app.counter import Action
from kiosk.config import Config
from kiosk.queue.models import Event, Ticket
from kiosk.ui.board_window import BoardTimings, BoardWindow
from kiosk.ui.counter_window import CounterTimings, CounterWindow
from kiosk.ui.style import apply_style, load_fonts
from server_sync.client import ServerUnreachable, SyncClient
from server_sync.staff import StaffClient
from tests.support.hospital import Hospital

FAST_COUNTER = CounterTimings(feed_wait=1.0, reconnect_base=0.05, reconnect_cap=0.3)
FAST_BOARD = BoardTimings(feed_wait=1.0, reconnect_base=0.05, reconnect_cap=0.3, highlight_ms=300)


class FakeSound:
    """Stands where espeak-ng and aplay stand: records what would be said and played."""

    def __init__(self) -> None:
        self.spoken: list[tuple[str, str]] = []
        self.played = 0

    def synthesize(self, text: str, language: str) -> bytes:
        self.spoken.append((text, language))
        return chime_wav()

    def play(self, clip: bytes) -> None:
        self.played += 1


@pytest.fixture
def sound() -> FakeSound:
    return FakeSound()


@pytest.fixture
def screens(
    qtbot: Any, hospital: Hospital, sound: FakeSound
) -> Iterator[Callable[..., tuple[CounterWindow, BoardWindow]]]:
    from PySide6.QtWidgets import QApplication

    made: list[Any] = []

    def make(
        department: str = "NOI",
        room: str = "101",
        config: Config | None = None,
        counter_timings: CounterTimings = FAST_COUNTER,
        board_departments: tuple[str, ...] = (),
    ) -> tuple[CounterWindow, BoardWindow]:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        family = load_fonts()
        apply_style(app, family)
        config = config or hospital.config
        announcer = Announcer(
            config.board.announcement,
            config.board.language,
            synthesizer=sound.synthesize,
            player=sound.play,
        )
        counter = CounterWindow(
            config,
            hospital.client("counter"),
            department=department,
            room=room,
            family=family,
            timings=counter_timings,
        )
        board = BoardWindow(
            config,
            hospital.client("board"),
            family=family,
            departments=board_departments,
            announcer=announcer,
            timings=FAST_BOARD,
        )
        made.extend([counter, board])
        counter.resize(1366, 768)
        board.resize(1920, 1080)
        counter.show()
        board.show()
        counter.start()
        board.start()
        qtbot.waitUntil(
            lambda: counter.online is True and counter.queue is not None, timeout=30_000
        )
        qtbot.waitUntil(lambda: board.online is True and bool(board.departments), timeout=30_000)
        return counter, board

    yield make
    for window in made:
        window.shutdown()
        window.close()
        window.deleteLater()


def codes(tickets: list[wire.Ticket]) -> list[str]:
    return [t.code for t in tickets]


def test_ticket_issued_at_the_kiosk_appears_in_the_counters_list(
    qtbot: Any, hospital: Hospital, screens: Callable[..., tuple[CounterWindow, BoardWindow]]
) -> None:
    counter, _board = screens()
    assert counter.waiting == []
    assert not counter.buttons[Action.CALL_NEXT].isEnabled()
    kiosk = hospital.kiosk_service()
    issued = kiosk.issue("NOI", "elderly_75").ticket
    client = SyncClient(
        hospital.kiosk_engine,
        base_url=hospital.server.url,
        token=hospital.tokens["kiosk"],
        origin=kiosk.origin,
    )
    try:
        client.push()
    finally:
        client.close()
    qtbot.waitUntil(lambda: codes(counter.waiting) == [issued.code], timeout=30_000)
    row = counter.list.itemWidget(counter.list.item(0))
    # Priority is a word and a pictogram, not a colour only.
    assert row.priority.text() and row.picto.reason == "elderly_75"
    assert counter.buttons[Action.CALL_NEXT].isEnabled()
    assert "F1" in counter.buttons[Action.CALL_NEXT].keys.text()


def test_call_next_shows_on_the_board_and_is_announced(
    qtbot: Any,
    hospital: Hospital,
    sound: FakeSound,
    screens: Callable[..., tuple[CounterWindow, BoardWindow]],
) -> None:
    service = hospital.server_service()
    first = service.issue("NOI").ticket
    service.issue("NOI")
    counter, board = screens()
    # Whether the call was highlighted as it came (the highlight is short: a loaded machine
    # may see it over before a poll of the board's state would).
    highlighted: list[bool] = []
    board.call_shown.connect(lambda _call: highlighted.append(board.highlighted))
    qtbot.waitUntil(lambda: len(counter.waiting) == 2, timeout=30_000)
    qtbot.mouseClick(counter.buttons[Action.CALL_NEXT], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(board.calls) and board.calls[0].code == first.code, timeout=30_000)
    assert highlighted == [True]
    qtbot.waitUntil(lambda: counter.current is not None, timeout=30_000)
    assert counter.current is not None and counter.current.code == first.code
    assert codes(counter.waiting) == ["B002"]
    qtbot.waitUntil(lambda: sound.played == 1, timeout=30_000)
    # The phrase, digit by digit, with the room's name, in the board's language.
    assert sound.spoken == [("Mời số B, 0, 0, 1 vào Phòng khám 101", "vi")]
    assert board.newest.room_text == "Phòng khám 101"  # what it shows is what it says
    qtbot.waitUntil(lambda: not board.highlighted, timeout=30_000)  # then steady


def test_recall_served_no_show_and_transfer_change_both_screens(
    qtbot: Any,
    hospital: Hospital,
    sound: FakeSound,
    screens: Callable[..., tuple[CounterWindow, BoardWindow]],
) -> None:
    service = hospital.server_service()
    for _ in range(3):
        service.issue("NOI")
    counter, board = screens()
    qtbot.waitUntil(lambda: len(counter.waiting) == 3, timeout=30_000)

    def noi_waiting() -> int:
        return next(d.waiting for d in board.departments if d.code == "NOI")

    def ngoai_waiting() -> int:
        return next(d.waiting for d in board.departments if d.code == "NGOAI")

    qtbot.keyClick(counter, Qt.Key.Key_F1)
    qtbot.waitUntil(
        lambda: counter.current is not None and counter.pending_call is None, timeout=30_000
    )
    qtbot.waitUntil(lambda: noi_waiting() == 2, timeout=30_000)
    # Recall: announced again.
    qtbot.keyClick(counter, Qt.Key.Key_R)
    qtbot.waitUntil(
        lambda: counter.current is not None and counter.current.recalls == 1 and not counter.busy,
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: len(sound.spoken) == 2, timeout=30_000)
    assert sound.spoken[0] == sound.spoken[1]
    # Served.
    qtbot.keyClick(counter, Qt.Key.Key_F4)
    qtbot.waitUntil(
        lambda: counter.current is None and counter.today.get("served") == 1, timeout=30_000
    )
    # Next, from the numeric keypad; absent.
    qtbot.keyClick(counter, Qt.Key.Key_Plus, Qt.KeyboardModifier.KeypadModifier)
    qtbot.waitUntil(
        lambda: counter.current is not None and counter.pending_call is None, timeout=30_000
    )
    qtbot.waitUntil(lambda: board.calls[0].code == "B002", timeout=30_000)
    qtbot.keyClick(counter, Qt.Key.Key_F3)
    qtbot.waitUntil(
        lambda: counter.current is None and counter.today.get("no_show") == 1, timeout=30_000
    )
    # Next, then transfer to the first department offered (NGOAI is not first: pick by key).
    qtbot.keyClick(counter, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: counter.current is not None and not counter.busy, timeout=30_000)
    qtbot.keyClick(counter, Qt.Key.Key_F5)
    assert counter.pages.currentWidget() is counter.transfer_page
    targets = [d.code for d in counter.transfer_targets()]
    with qtbot.waitSignal(counter.message_shown, timeout=30_000) as shown:
        qtbot.keyClick(counter, getattr(Qt.Key, f"Key_{targets.index('NGOAI') + 1}"))
    assert shown.args == ["Đã chuyển B003 sang Khám Ngoại."]
    qtbot.waitUntil(
        lambda: counter.current is None and counter.today.get("transferred") == 1, timeout=30_000
    )
    qtbot.waitUntil(lambda: ngoai_waiting() == 1 and noi_waiting() == 0, timeout=30_000)
    assert counter.pages.currentIndex() == 0


def test_a_ticket_can_be_called_out_of_order(
    qtbot: Any, hospital: Hospital, screens: Callable[..., tuple[CounterWindow, BoardWindow]]
) -> None:
    service = hospital.server_service()
    for _ in range(3):
        service.issue("NOI")
    counter, board = screens()
    qtbot.waitUntil(lambda: len(counter.waiting) == 3, timeout=30_000)
    assert not counter.buttons[Action.CALL_SELECTED].isEnabled()
    qtbot.keyClick(counter, Qt.Key.Key_Down)
    qtbot.keyClick(counter, Qt.Key.Key_Down)
    assert counter.selected() is not None and counter.selected().code == "B002"  # type: ignore[union-attr]
    qtbot.keyClick(counter, Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: counter.current is not None, timeout=30_000)
    assert counter.current is not None and counter.current.code == "B002"
    qtbot.waitUntil(lambda: bool(board.calls) and board.calls[0].code == "B002", timeout=30_000)
    qtbot.waitUntil(lambda: codes(counter.waiting) == ["B001", "B003"], timeout=30_000)
    # The selection does not move on to the next patient: a second F6 calls nobody.
    assert counter.selected() is None and counter.list.selectedItems() == []
    assert not counter.buttons[Action.CALL_SELECTED].isEnabled()


def test_server_gone_shows_the_banner_and_the_counter_recovers(
    qtbot: Any, hospital: Hospital, screens: Callable[..., tuple[CounterWindow, BoardWindow]]
) -> None:
    hospital.server_service().issue("NOI")
    counter, board = screens()
    qtbot.waitUntil(lambda: len(counter.waiting) == 1, timeout=30_000)
    assert counter.banner.isHidden()
    hospital.server.stop()
    qtbot.waitUntil(lambda: counter.online is False, timeout=30_000)
    assert counter.banner.isVisible() and "MẤT KẾT NỐI" in counter.banner.text()
    assert not any(button.isEnabled() for button in counter.buttons.values())
    qtbot.waitUntil(lambda: board.online is False and board.offline.isVisible(), timeout=30_000)
    hospital.server_service().issue("NOI")  # while it was away
    hospital.server.start()
    qtbot.waitUntil(lambda: counter.online is True and counter.banner.isHidden(), timeout=30_000)
    qtbot.waitUntil(lambda: len(counter.waiting) == 2, timeout=30_000)
    assert counter.buttons[Action.CALL_NEXT].isEnabled()
    qtbot.waitUntil(lambda: board.online is True and board.offline.isHidden(), timeout=30_000)


def test_a_call_next_whose_answer_was_lost_does_not_call_a_second_patient(
    qtbot: Any,
    hospital: Hospital,
    screens: Callable[..., tuple[CounterWindow, BoardWindow]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = hospital.server_service()
    first = service.issue("NOI").ticket
    service.issue("NOI")
    counter, board = screens()
    qtbot.waitUntil(lambda: len(counter.waiting) == 2, timeout=30_000)
    real = StaffClient.call_next
    sent: list[str] = []

    def lose_the_first_answer(self: StaffClient, code: str, room: str, request_id: str) -> Any:
        sent.append(request_id)
        answer = real(self, code, room, request_id)  # the server calls the patient...
        if len(sent) == 1:
            raise ServerUnreachable("connection reset before the answer arrived")  # ...lost
        return answer

    monkeypatch.setattr(StaffClient, "call_next", lose_the_first_answer)
    counter.trigger(Action.CALL_NEXT)
    qtbot.waitUntil(lambda: len(sent) == 2, timeout=30_000)  # retried by itself
    qtbot.waitUntil(lambda: counter.current is not None, timeout=30_000)
    assert counter.current is not None and counter.current.code == first.code
    assert sent[0] == sent[1]  # the same request id
    with service.reading() as session:
        called = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.status == "called")
        )
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "ticket.called")
        )
    assert (called, events) == (1, 1)
    qtbot.waitUntil(lambda: codes(counter.waiting) == ["B002"], timeout=30_000)
    assert [c.code for c in board.calls] == [first.code]


def test_the_counter_refuses_a_room_of_no_department_at_start(
    hospital: Hospital, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk counter --room 999` stops before any window, naming the department's rooms."""
    from tests.support.cli import main

    token = tmp_path / "counter.token"
    token.write_text(hospital.tokens["counter"], encoding="utf-8")
    config = tmp_path / "counter.toml"
    config.write_text(
        f'[server]\nurl = "{hospital.server.url}"\ntoken_file = "{token}"\n', encoding="utf-8"
    )
    base = ["counter", "--config", str(config), "--department", "NOI", "--room"]
    assert main([*base, "999"]) == 2
    said = capsys.readouterr().err
    assert "'999'" in said and "101 (Phòng khám 101)" in said and "103" in said
    assert main([*base, "Q2"]) == 2  # a room of another department
    assert "'Q2'" in capsys.readouterr().err


def test_markup_from_the_config_and_the_server_is_shown_as_text(
    qtbot: Any, hospital: Hospital, screens: Callable[..., tuple[CounterWindow, BoardWindow]]
) -> None:
    from PySide6.QtWidgets import QLabel
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from kiosk.config import parse_config
    from kiosk.queue.models import Department, Room
    from kiosk.queue.service import QueueService

    markup = "<b>BV</b><img src=x>"
    with Session(hospital.engine) as session, session.begin():
        session.execute(update(Department).values(name_vi=markup, name_en=markup))
        session.execute(update(Room).values(name_vi=markup, name_en=markup))
    base = hospital.config.model_dump()
    config = parse_config({**base, "hospital": {**base["hospital"], "name": markup}})
    counter, board = screens(config=config)
    QueueService(hospital.engine, origin="kiosk-direct").issue("NOI")
    qtbot.waitUntil(lambda: len(counter.waiting) == 1, timeout=30_000)
    for window in (counter, board):
        shown = [label for label in window.findChildren(QLabel) if "<b>BV" in label.text()]
        assert shown, f"{type(window).__name__} shows the name somewhere"
        for label in shown:
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
