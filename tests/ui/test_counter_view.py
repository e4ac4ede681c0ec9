"""The counter's state in words and its widgets, without a server: what the nurse reads.

The rules themselves are tested on the state (tests/app/test_counter_state.py) and on the
server (tests/server_sync/test_api.py); the whole counter against a live server in
tests/ui/test_counter.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLayout, QVBoxLayout, QWidget

from kiosk.app.counter import Action, CounterState, Message, Notice
from kiosk.ui import counter_view as view
from kiosk.ui import style
from kiosk.ui.counter_transfer import TransferPage
from kiosk.ui.counter_widgets import CounterMain, counter_style_sheet
from kiosk.ui.staff_common import ScreenText
from kiosk.wire import Department
from tests.support.counter import NOW, department, snapshot, ticket

K = Qt.Key


def test_the_last_recall_and_the_absent_patient_in_words() -> None:
    """After counter.max_recalls the card says so, and the server's absent is a message."""
    state = CounterState("NOI", "101", max_recalls=3)
    state.apply_snapshot(snapshot([ticket(2)], [ticket(1, "called", call_count=4)]))
    text = ScreenText("vi")
    card = view.current_card(text, state, NOW)
    assert (card.calling, card.code) == (True, "B001")
    assert "gọi lại 3/3 lần" in card.info
    absent = view.message_text(text, Message(Notice.ABSENT, "B001", recalls=3), str)
    assert absent == "B001 không đến sau 3 lần gọi lại: đã ghi vắng mặt."
    sent = Message(Notice.SENT, "B001", department="NGOAI")
    assert view.message_text(text, sent, lambda code: f"Khoa {code}") == (
        "Đã chuyển B001 sang Khoa NGOAI."
    )


def test_nobody_called_and_nobody_waiting_are_told_apart() -> None:
    text = ScreenText("en")
    state = CounterState("NOI", "101")
    state.apply_snapshot(snapshot([ticket(1)]))
    assert view.current_card(text, state, NOW).info == "Nobody called. Press Call next."
    state.apply_snapshot(snapshot([]))
    assert view.current_card(text, state, NOW).info == "Nobody is waiting."


def host(qtbot: Any, widget: QWidget) -> QWidget:
    """`widget` in a window as the counter's (no size constraint: offscreen Qt would warn)."""
    root = QWidget()
    root.setObjectName("CounterRoot")
    root.setStyleSheet(counter_style_sheet())
    layout = QVBoxLayout(root)
    layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    layout.addWidget(widget)
    qtbot.addWidget(root)
    root.resize(1366, 768)
    root.show()
    qtbot.waitExposed(root)
    return root


@pytest.fixture
def transfer_page(qtbot: Any) -> Iterator[TransferPage]:
    page = TransferPage()
    root = host(qtbot, page)
    yield page
    root.close()


def test_the_transfer_page_reaches_every_department_with_the_keys(
    qtbot: Any, transfer_page: TransferPage
) -> None:
    """With 23 other departments the page turns (PgDn) and the keys 1-9 choose on the page
    shown: the last department is reachable (F5 once listed the first nine only)."""
    targets: list[Department] = [department(f"D{n:02d}") for n in range(1, 24)]
    transfer_page.show_targets("Send B001 where?", targets, "vi")
    pages = [transfer_page.shown_codes()]
    for _ in range(3):
        transfer_page.key(K.Key_PageDown)
        pages.append(transfer_page.shown_codes())
    offered = [code for page in pages[:3] for code in page]
    assert offered == [d.code for d in targets]  # each once, in order
    assert [len(page) for page in pages] == [9, 9, 5, 5]  # the last page stays
    transfer_page.key(K.Key_PageUp)
    assert transfer_page.shown_codes() == pages[1]
    transfer_page.key(K.Key_Right)
    with qtbot.waitSignal(transfer_page.chosen, timeout=1000) as chosen:
        transfer_page.key(K.Key_5)
    assert chosen.args == ["D23"]
    with qtbot.assertNotEmitted(transfer_page.chosen):
        transfer_page.key(K.Key_6)  # no sixth department on the last page
    with qtbot.waitSignal(transfer_page.cancelled, timeout=1000):
        transfer_page.key(K.Key_Escape)


def test_disabled_buttons_look_disabled(qtbot: Any) -> None:
    """ "Gọi số tiếp" and "Vắng mặt" lose their blue and red when they cannot be used."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style.apply_style(app, style.load_fonts())
    main = CounterMain()
    for action, name in view.action_names(ScreenText("vi")).items():
        main.buttons[action].set_caption(name)
    root = host(qtbot, main)

    def colour(action: Action) -> str:
        image = main.buttons[action].grab().toImage()
        return str(image.pixelColor(8, image.height() // 2).name()).upper()

    main.buttons[Action.NO_SHOW].setEnabled(False)  # nobody called yet
    assert colour(Action.NO_SHOW) == style.DISABLED_BG
    assert colour(Action.CALL_NEXT) == style.PRIMARY
    main.buttons[Action.CALL_NEXT].setEnabled(False)  # mid-patient
    main.buttons[Action.NO_SHOW].setEnabled(True)
    assert colour(Action.CALL_NEXT) == style.DISABLED_BG
    name = main.buttons[Action.CALL_NEXT].name
    assert name.palette().color(name.foregroundRole()).name().upper() == style.DISABLED_TEXT
    assert colour(Action.NO_SHOW) == style.DANGER
    root.close()
