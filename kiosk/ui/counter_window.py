"""The nurse's counter display: the current patient large, one key per action, the line.

Everything the counter knows comes from the central server: a snapshot of its department's
queue (`GET /departments/{code}/queue`), kept fresh by the event feed's long-poll. Actions go
out on one `Worker` thread, in order, and the snapshot refresh shares that thread, so answers
are applied in the order they were asked. "Call next" carries a request id and is retried
with the same id after a lost answer: the server never calls a second patient for it.

Strings are `self.text.translate("Counter", <English>)`; `vi.ts` holds the Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeyEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.config import Config
from kiosk.ui import style
from kiosk.ui.pictograms import paint_pictogram
from kiosk.ui.staff_common import (
    FEED_WAIT_SECONDS,
    RECONNECT_BASE_SECONDS,
    RECONNECT_CAP_SECONDS,
    FeedPoller,
    ScreenText,
    minutes_since,
    priority_word,
)
from kiosk.ui.worker import Worker
from server_sync.http import ServerRefused, ServerUnreachable
from server_sync.staff import (
    Department,
    FeedEvent,
    Queue,
    StaffClient,
    Ticket,
    new_request_id,
)

log = logging.getLogger(__name__)

K = Qt.Key


class Action(enum.StrEnum):
    CALL_NEXT = "call_next"
    RECALL = "recall"
    NO_SHOW = "no_show"
    SERVE = "serve"
    TRANSFER = "transfer"
    CALL_SELECTED = "call_selected"


# Keys of each action: function keys, a letter, and a numeric-keypad key (USB keypads).
KEYS: dict[Action, tuple[tuple[int, bool], ...]] = {
    Action.CALL_NEXT: ((K.Key_F1, False), (K.Key_Space, False), (K.Key_Plus, True)),
    Action.RECALL: ((K.Key_F2, False), (K.Key_R, False), (K.Key_Asterisk, True)),
    Action.NO_SHOW: ((K.Key_F3, False), (K.Key_N, False), (K.Key_Minus, True)),
    Action.SERVE: ((K.Key_F4, False), (K.Key_S, False), (K.Key_Enter, True)),
    Action.TRANSFER: ((K.Key_F5, False), (K.Key_T, False), (K.Key_Slash, True)),
    Action.CALL_SELECTED: ((K.Key_F6, False), (K.Key_C, False), (K.Key_Period, True)),
}
KEY_HINTS: dict[Action, str] = {
    Action.CALL_NEXT: "F1 · Space · +",
    Action.RECALL: "F2 · R · *",
    Action.NO_SHOW: "F3 · N · −",
    Action.SERVE: "F4 · S · Enter",
    Action.TRANSFER: "F5 · T · /",
    Action.CALL_SELECTED: "F6 · C · ↑↓",
}

# Colours of the counter (text/background pairs pass WCAG AA; the code 7:1).
CARD = "#FFFFFF"
CODE_TEXT = "#0B1F3A"
CALLING_BG = "#FFF1C2"
PRIORITY_BG = "#FDE8E8"
PRIORITY_TEXT = "#8A1116"
OK_TEXT = "#14532D"


@dataclass(frozen=True)
class CounterTimings:
    """Durations (tests pass tiny ones instead of waiting)."""

    # After the last allowed recall, a patient who does not come is marked absent after this.
    answer_ms: int = 120_000
    message_ms: int = 8_000
    feed_wait: float = FEED_WAIT_SECONDS
    reconnect_base: float = RECONNECT_BASE_SECONDS
    reconnect_cap: float = RECONNECT_CAP_SECONDS


def _label(role: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel()
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    return widget


class Pictogram(QWidget):
    """A priority group's pictogram on a light tile (never colour alone: a word goes beside)."""

    def __init__(self, side: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reason = ""
        self.setFixedSize(side, side)

    def set_reason(self, reason: str | None) -> None:
        self.reason = reason or ""
        self.setVisible(bool(reason))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.reason:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor("#E3ECF8"))
        painter.setPen(Qt.PenStyle.NoPen)
        rect = QRectF(self.rect())
        painter.drawRoundedRect(rect, 8, 8)
        paint_pictogram(painter, rect.adjusted(4, 4, -4, -4), self.reason)
        painter.end()


class ActionButton(QPushButton):
    """A big button: the action's name, and below it the keys that do the same."""

    def __init__(self, action: Action, kind: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action = action
        self.setObjectName(f"action-{action.value}")
        if kind:
            self.setProperty("kind", kind)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(96)

    def set_caption(self, name: str) -> None:
        self.setText(f"{name}\n{KEY_HINTS[self.action]}")
        self.setAccessibleName(name)


class WaitingRow(QWidget):
    """One waiting ticket: place, code, priority (pictogram + word) and the wait so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.setSpacing(8)
        self.place = _label()
        self.place.setFixedWidth(32)
        self.place.setStyleSheet(f"font-size: 26px; color: {style.TEXT_MUTED};")
        self.code = _label()
        self.code.setMinimumWidth(104)
        self.code.setStyleSheet(f"font-size: 36px; font-weight: bold; color: {CODE_TEXT};")
        self.picto = Pictogram(44)
        self.priority = _label()
        # The word must never be cut ("Ưu tiê"): the stretch before the wait gives way instead.
        self.priority.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.priority.setStyleSheet(
            f"font-size: 22px; font-weight: bold; color: {PRIORITY_TEXT};"
            f"background: {PRIORITY_BG}; border-radius: 6px; padding: 2px 6px;"
        )
        self.wait = _label()
        self.wait.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.wait.setStyleSheet(f"font-size: 26px; color: {style.TEXT};")
        row.addWidget(self.place)
        row.addWidget(self.code)
        row.addWidget(self.picto)
        row.addWidget(self.priority)
        row.addStretch(1)
        row.addWidget(self.wait)

    def show_ticket(
        self, place: int, ticket: Ticket, priority: str, wait: str, transferred: str
    ) -> None:
        self.place.setText(str(place))
        self.code.setText(ticket.code)
        self.picto.set_reason(ticket.priority)
        label = priority or transferred
        self.priority.setText(label)
        self.priority.setVisible(bool(label))
        self.wait.setText(wait)

    def sizeHint(self) -> QSize:
        return QSize(400, 62)


class CounterWindow(QWidget):
    """The counter of one room of one department."""

    state_changed = Signal()
    message_shown = Signal(str)

    def __init__(
        self,
        config: Config,
        client: StaffClient,
        *,
        department: str,
        room: str,
        family: str,
        language: str | None = None,
        timings: CounterTimings | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("CounterRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.config = config
        self.client = client
        self.department = department.upper()
        self.room = room
        self.family = family
        self.text = ScreenText(language or config.hospital.languages[0])
        self.timings = timings or CounterTimings()
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.max_recalls = config.counter.max_recalls

        self.departments: list[Department] = []
        self.queue: Queue | None = None
        self.current: Ticket | None = None
        self.waiting: list[Ticket] = []
        self.today: dict[str, int] = {}
        self.online: bool | None = None
        self.busy = False
        self.pending_call: str | None = None  # request id of a call-next not yet answered
        self.started = False
        self._refresh_again = False
        self._auto_for: tuple[str, int] | None = None
        self._message = ""

        self.worker = Worker("counter-actions", self)
        self.feed = FeedPoller(
            client.copy(),
            department=self.department,
            wait=self.timings.feed_wait,
            reconnect_base=self.timings.reconnect_base,
            reconnect_cap=self.timings.reconnect_cap,
            name="counter",
            parent=self,
        )
        self.feed.events_received.connect(self._on_events)
        self.feed.online_changed.connect(self._on_online)

        self._build()
        self.setStyleSheet(self._style())

        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self.tick)
        self.answer_timer = QTimer(self)
        self.answer_timer.setSingleShot(True)
        self.answer_timer.timeout.connect(self._no_answer)
        self.message_timer = QTimer(self)
        self.message_timer.setSingleShot(True)
        self.message_timer.setInterval(self.timings.message_ms)
        self.message_timer.timeout.connect(lambda: self.show_message(""))
        self.retranslate()
        self.redraw()

    # -- building -----------------------------------------------------------------------

    def _style(self) -> str:
        return f"""
QWidget#CounterRoot {{ background: {style.BACKGROUND}; }}
QWidget#Header {{ background: {style.HEADER}; }}
QFrame#Card {{ background: {CARD}; border: 3px solid {style.BORDER}; border-radius: 16px; }}
QFrame#Card[calling="true"] {{ background: {CALLING_BG}; border-color: {style.NOTICE_TEXT}; }}
QListWidget {{
    background: {CARD}; border: 3px solid {style.BORDER}; border-radius: 12px;
    outline: none;
}}
QListWidget::item {{ border-bottom: 1px solid {style.DISABLED_BG}; }}
QListWidget::item:selected {{ background: {style.PRESSED}; border: 3px solid {style.PRIMARY}; }}
QPushButton {{ font-size: 28px; min-height: 80px; padding: 4px 12px; border-radius: 12px; }}
QPushButton[kind="primary"] {{ font-size: 34px; }}
QLabel[role="banner"] {{
    background: {style.DANGER}; color: {style.ON_DANGER}; font-size: 30px; font-weight: bold;
    padding: 10px 20px;
}}
QLabel[role="connecting"] {{
    background: {style.NOTICE_BG}; color: {style.NOTICE_TEXT}; font-size: 30px;
    font-weight: bold; padding: 10px 20px;
}}
QLabel[role="message"] {{
    background: {style.NOTICE_BG}; color: {style.NOTICE_TEXT}; font-size: 26px;
    font-weight: bold; border-radius: 10px; padding: 8px 16px;
}}
"""

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        # The screen decides the size (no minimum: offscreen Qt would warn).
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)

        header = QWidget()
        header.setObjectName("Header")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        head = QHBoxLayout(header)
        head.setContentsMargins(24, 8, 24, 8)
        self.title = _label()
        self.title.setStyleSheet(f"color: {style.ON_HEADER}; font-size: 32px; font-weight: bold;")
        self.status = _label()
        self.status.setStyleSheet(f"color: {style.ON_HEADER}; font-size: 24px;")
        self.clock = _label()
        self.clock.setStyleSheet(f"color: {style.ON_HEADER}; font-size: 32px; font-weight: bold;")
        head.addWidget(self.title, 1)
        head.addWidget(self.status)
        head.addSpacing(24)
        head.addWidget(self.clock)
        outer.addWidget(header)

        self.banner = _label(wrap=True)
        self.banner.setProperty("role", "connecting")
        outer.addWidget(self.banner)

        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        main = QWidget()
        self.pages.addWidget(main)
        body = QHBoxLayout(main)
        body.setContentsMargins(20, 16, 20, 16)
        body.setSpacing(20)

        left = QVBoxLayout()
        left.setSpacing(14)
        self.card = QFrame()
        self.card.setObjectName("Card")
        card = QVBoxLayout(self.card)
        card.setContentsMargins(24, 12, 24, 12)
        card.setSpacing(4)
        self.card_title = _label()
        self.card_title.setStyleSheet(f"font-size: 28px; color: {style.TEXT_MUTED};")
        self.code = _label()
        self.code.setObjectName("CurrentCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        priority_row = QHBoxLayout()
        priority_row.setSpacing(12)
        self.current_picto = Pictogram(56)
        self.current_priority = _label()
        self.current_priority.setStyleSheet(
            f"font-size: 30px; font-weight: bold; color: {PRIORITY_TEXT};"
        )
        priority_row.addStretch(1)
        priority_row.addWidget(self.current_picto)
        priority_row.addWidget(self.current_priority)
        priority_row.addStretch(1)
        self.current_info = _label(wrap=True)
        self.current_info.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.current_info.setStyleSheet(f"font-size: 28px; color: {style.TEXT};")
        card.addWidget(self.card_title)
        card.addWidget(self.code, 1)
        card.addLayout(priority_row)
        card.addWidget(self.current_info)
        left.addWidget(self.card, 1)

        self.buttons: dict[Action, ActionButton] = {}
        grid = QGridLayout()
        grid.setSpacing(12)
        self.buttons[Action.CALL_NEXT] = ActionButton(Action.CALL_NEXT, "primary")
        grid.addWidget(self.buttons[Action.CALL_NEXT], 0, 0, 1, 4)
        for column, action in enumerate(
            (Action.RECALL, Action.SERVE, Action.NO_SHOW, Action.TRANSFER)
        ):
            kind = "danger" if action == Action.NO_SHOW else ""
            self.buttons[action] = ActionButton(action, kind)
            grid.addWidget(self.buttons[action], 1, column)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 4)
        left.addLayout(grid)
        self.message = _label(wrap=True)
        self.message.setProperty("role", "message")
        left.addWidget(self.message)
        body.addLayout(left, 1)

        right = QVBoxLayout()
        right.setSpacing(10)
        self.waiting_title = _label()
        self.waiting_title.setStyleSheet("font-size: 30px; font-weight: bold;")
        self.list = QListWidget()
        self.list.setObjectName("WaitingList")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.itemSelectionChanged.connect(self.update_actions)
        self.list.itemDoubleClicked.connect(lambda _item: self.trigger(Action.CALL_SELECTED))
        self.empty = _label(wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"font-size: 28px; color: {style.TEXT_MUTED};")
        self.buttons[Action.CALL_SELECTED] = ActionButton(Action.CALL_SELECTED)
        self.buttons[Action.CALL_SELECTED].setMinimumHeight(80)
        self.buttons[Action.CALL_SELECTED].setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed
        )
        self.counts = _label(wrap=True)
        self.counts.setObjectName("TodayCounts")
        self.counts.setStyleSheet(f"font-size: 22px; color: {style.TEXT};")
        right.addWidget(self.waiting_title)
        right.addWidget(self.list, 1)
        right.addWidget(self.empty, 1)
        right.addWidget(self.buttons[Action.CALL_SELECTED])
        right.addWidget(self.counts)
        body.addLayout(right, 1)

        for action, button in self.buttons.items():
            button.clicked.connect(lambda _=False, a=action: self.trigger(a))

        self.transfer_page = QWidget()
        self.pages.addWidget(self.transfer_page)
        transfer = QVBoxLayout(self.transfer_page)
        transfer.setContentsMargins(40, 24, 40, 24)
        transfer.setSpacing(16)
        self.transfer_title = _label(wrap=True)
        self.transfer_title.setStyleSheet("font-size: 36px; font-weight: bold;")
        transfer.addWidget(self.transfer_title)
        self.transfer_grid = QGridLayout()
        self.transfer_grid.setSpacing(14)
        transfer.addLayout(self.transfer_grid, 1)
        self.transfer_cancel = QPushButton()
        self.transfer_cancel.setObjectName("transfer-cancel")
        self.transfer_cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.transfer_cancel.clicked.connect(self.close_transfer)
        transfer.addWidget(self.transfer_cancel)
        self.transfer_buttons: list[QPushButton] = []

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        self.started = True
        self.clock_timer.start()
        self.tick()
        self.refresh(start_feed=True)

    def shutdown(self) -> None:
        for timer in self.findChildren(QTimer):
            timer.stop()
        self.feed.stop()
        self.worker.stop()
        self.client.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        height = max(400, event.size().height())
        px = max(120, min(300, int(height * 0.23)))
        self.code.setStyleSheet(f"font-size: {px}px; font-weight: bold; color: {CODE_TEXT};")

    # -- texts ----------------------------------------------------------------------------

    def department_name(self, code: str) -> str:
        for department in self.departments:
            if department.code == code:
                return department.name(self.text.language)
        return code

    def room_name(self) -> str:
        for department in self.departments:
            if department.code == self.department:
                return department.room_name(self.room, self.text.language)
        return self.room

    def retranslate(self) -> None:
        names = {
            Action.CALL_NEXT: self.text.translate("Counter", "Call next"),
            Action.RECALL: self.text.translate("Counter", "Recall"),
            Action.NO_SHOW: self.text.translate("Counter", "Absent"),
            Action.SERVE: self.text.translate("Counter", "Done"),
            Action.TRANSFER: self.text.translate("Counter", "Transfer"),
            Action.CALL_SELECTED: self.text.translate("Counter", "Call the selected patient"),
        }
        for action, button in self.buttons.items():
            button.set_caption(names[action])
        self.transfer_cancel.setText(self.text.translate("Counter", "Cancel (Esc)"))
        self.setWindowTitle(
            self.text.translate("Counter", "Counter") + f" · {self.department} · {self.room}"
        )

    # -- loading --------------------------------------------------------------------------

    def refresh(self, start_feed: bool = False) -> None:
        """Fetch the department's queue (and the departments) on the worker."""
        if self.worker.is_pending("refresh"):
            self._refresh_again = True
            return
        client, code = self.client, self.department

        def job() -> tuple[Queue, list[Department]]:
            return client.queue(code), client.departments()

        def done(result: Any) -> None:
            queue, departments = result
            self.apply_snapshot(queue, departments)
            if start_feed:
                self.feed.start(queue.cursor)
            else:
                self.feed.move_to(queue.cursor)
            if self._refresh_again:
                self._refresh_again = False
                self.refresh()

        def failed(error: BaseException) -> None:
            self._failed(error, "refresh")
            if start_feed:
                # The feed's reconnect loop finds the server again and refreshes then.
                self.feed.start(0 if self.queue is None else self.queue.cursor)

        self.worker.submit(job, done, failed, name="refresh")

    def apply_snapshot(self, queue: Queue, departments: list[Department]) -> None:
        self.queue = queue
        self.departments = departments
        self.waiting = list(queue.waiting)
        self.today = dict(queue.today)
        mine = [t for t in queue.called if t.status == "called" and t.room == self.room]
        self.set_current(mine[0] if mine else None)
        if self.online is not True and self.feed.online is not False:
            self._on_online(True)
        self.redraw()

    def set_current(self, ticket: Ticket | None) -> None:
        if ticket is not None and ticket.status != "called":
            ticket = None
        self.current = ticket
        key = None if ticket is None else (ticket.id, ticket.call_count)
        if ticket is not None and ticket.recalls >= self.max_recalls:
            if self._auto_for != key:
                self._auto_for = key
                self.answer_timer.start(self.timings.answer_ms)
        else:
            self._auto_for = None
            self.answer_timer.stop()

    def _on_events(self, events: list[FeedEvent]) -> None:
        for event in events:
            current = self.current
            if current is not None and event.ticket is not None and event.ticket.id == current.id:
                self.set_current(event.ticket)
        self.redraw()
        self.refresh()

    def _on_online(self, online: bool) -> None:
        was = self.online
        self.online = online
        if online and was is False:
            log.info("counter %s/%s: server reachable again", self.department, self.room)
            self.show_message(self.text.translate("Counter", "Connection is back."))
            self.refresh()
            if self.pending_call is not None:
                self._send_call_next()
        elif not online:
            self.busy = False
        self.redraw()

    # -- actions --------------------------------------------------------------------------

    def can(self, action: Action) -> bool:
        if self.online is not True or self.busy or self.pending_call is not None:
            return False
        current = self.current
        if action == Action.CALL_NEXT:
            return current is None and bool(self.waiting)
        if action == Action.CALL_SELECTED:
            return current is None and self.selected() is not None
        if current is None:
            return False
        if action == Action.RECALL:
            return current.recalls < self.max_recalls
        return True

    def selected(self) -> Ticket | None:
        row = self.list.currentRow()
        if 0 <= row < len(self.waiting) and self.list.item(row).isSelected():
            return self.waiting[row]
        return None

    def trigger(self, action: Action) -> None:
        if self.pages.currentWidget() is self.transfer_page:
            return
        if not self.can(action):
            log.debug("action %s not possible now", action)
            return
        current = self.current
        if action == Action.CALL_NEXT:
            self.pending_call = new_request_id()
            self._send_call_next()
        elif action == Action.CALL_SELECTED:
            chosen = self.selected()
            assert chosen is not None
            self._act(action, lambda c: c.call(chosen.id, self.room))
        elif action == Action.TRANSFER:
            self.open_transfer()
        elif current is not None:
            ticket_id = current.id
            jobs: dict[Action, Callable[[StaffClient], Ticket]] = {
                Action.RECALL: lambda c: c.recall(ticket_id),
                Action.SERVE: lambda c: c.serve(ticket_id),
                Action.NO_SHOW: lambda c: c.no_show(ticket_id),
            }
            self._act(action, jobs[action])

    def _send_call_next(self) -> None:
        request_id = self.pending_call
        assert request_id is not None
        client, code, room = self.client, self.department, self.room
        self.redraw()

        def done(ticket: Any) -> None:
            if self.pending_call != request_id:
                return
            self.pending_call = None
            if ticket is None:
                self.show_message(self.text.translate("Counter", "Nobody is waiting."))
            else:
                assert isinstance(ticket, Ticket)
                log.info("counter %s/%s called %s", code, room, ticket.code)
                self.set_current(ticket)
                self.waiting = [t for t in self.waiting if t.id != ticket.id]
            self.redraw()
            self.refresh()

        def failed(error: BaseException) -> None:
            if isinstance(error, ServerUnreachable):
                # Keep the request id: it is sent again, with the same id, on reconnection.
                log.warning("call next: no answer (%s); will retry with the same id", error)
                self._go_offline()
                return
            self.pending_call = None
            self._failed(error, "call next")

        self.worker.submit(
            lambda: client.call_next(code, room, request_id), done, failed, name="call_next"
        )

    def _act(self, action: Action, job: Callable[[StaffClient], Ticket]) -> None:
        self.busy = True
        client = self.client
        self.redraw()

        def done(ticket: Any) -> None:
            self.busy = False
            assert isinstance(ticket, Ticket)
            log.info("counter %s/%s: %s %s", self.department, self.room, action, ticket.code)
            if action == Action.TRANSFER:
                self.set_current(None)
                self.show_message(
                    self.text.translate("Counter", "{code} sent to {department}.").format(
                        code=ticket.code, department=self.department_name(ticket.department)
                    )
                )
            else:
                self.set_current(ticket)
                if action == Action.CALL_SELECTED:
                    self.waiting = [t for t in self.waiting if t.id != ticket.id]
            self.redraw()
            self.refresh()

        def failed(error: BaseException) -> None:
            self.busy = False
            self._failed(error, str(action))

        self.worker.submit(lambda: job(client), done, failed, name=str(action))

    def _failed(self, error: BaseException, what: str) -> None:
        if isinstance(error, ServerUnreachable):
            log.warning("%s: server unreachable: %s", what, error)
            self._go_offline()
            if what != "refresh":
                self.show_message(
                    self.text.translate(
                        "Counter", "Not done: no connection. Try again when it is back."
                    )
                )
        elif isinstance(error, ServerRefused):
            log.warning("%s refused: %s", what, error)
            if error.status == 409:
                self.show_message(
                    self.text.translate("Counter", "Not possible: the ticket has changed. Updated.")
                )
            elif error.status in (401, 403):
                self.show_message(
                    self.text.translate(
                        "Counter", "This counter is not allowed: ask IT for its token."
                    )
                )
            elif error.status == 404:
                self.show_message(self.text.translate("Counter", "Not found on the server."))
            else:
                self.show_message(
                    self.text.translate("Counter", "The server could not do it. Try again.")
                )
            self.refresh()
        else:
            log.error("%s failed unexpectedly", what, exc_info=error)
            self.show_message(
                self.text.translate("Counter", "The server could not do it. Try again.")
            )
        self.redraw()

    def _go_offline(self) -> None:
        """An action got no answer: lock the buttons until the feed's poll is answered again
        (the feed's reconnect loop is the counter's only one)."""
        self.online = False
        self.busy = False
        self.feed.lost()
        self.redraw()

    def _no_answer(self) -> None:
        current = self.current
        if current is None or self._auto_for != (current.id, current.call_count):
            return
        if self.online is not True or self.busy:
            self.answer_timer.start(1000)  # once it can be sent
            return
        log.info("%s: no answer after %d recalls; marked absent", current.code, current.recalls)
        self.show_message(
            self.text.translate(
                "Counter", "{code} did not come after {n} recalls: marked absent."
            ).format(code=current.code, n=current.recalls)
        )
        ticket_id = current.id
        self._act(Action.NO_SHOW, lambda c: c.no_show(ticket_id))

    # -- transfer -------------------------------------------------------------------------

    def transfer_targets(self) -> list[Department]:
        return [d for d in self.departments if d.code != self.department][:9]

    def open_transfer(self) -> None:
        current = self.current
        if current is None:
            return
        for button in self.transfer_buttons:
            self.transfer_grid.removeWidget(button)
            button.deleteLater()
        self.transfer_buttons = []
        targets = self.transfer_targets()
        columns = 3 if len(targets) > 4 else 2
        for index, department in enumerate(targets):
            button = QPushButton(f"{index + 1}   {department.name(self.text.language)}")
            button.setObjectName(f"transfer-{department.code}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, code=department.code: self.transfer_to(code))
            self.transfer_grid.addWidget(button, index // columns, index % columns)
            self.transfer_buttons.append(button)
        self.transfer_title.setText(
            self.text.translate(
                "Counter", "Send {code} to which department? Press its number."
            ).format(code=current.code)
        )
        self.pages.setCurrentWidget(self.transfer_page)

    def close_transfer(self) -> None:
        self.pages.setCurrentIndex(0)

    def transfer_to(self, department: str) -> None:
        self.close_transfer()
        current = self.current
        if current is None or not self.can(Action.TRANSFER):
            return
        ticket_id = current.id
        self._act(Action.TRANSFER, lambda c: c.transfer(ticket_id, department))

    # -- keys -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        keypad = bool(event.modifiers() & Qt.KeyboardModifier.KeypadModifier)
        if self.pages.currentWidget() is self.transfer_page:
            if key in (K.Key_Escape, K.Key_F5):
                self.close_transfer()
            elif K.Key_1 <= key <= K.Key_9:
                targets = self.transfer_targets()
                index = key - K.Key_1
                if index < len(targets):
                    self.transfer_to(targets[index].code)
            return
        if key in (K.Key_Up, K.Key_Down) and self.waiting:
            row = self.list.currentRow()
            row = 0 if row < 0 else row + (1 if key == K.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(len(self.waiting) - 1, row)))
            return
        if key == K.Key_Escape:
            self.list.clearSelection()
            return
        for action, keys in KEYS.items():
            for wanted, on_keypad in keys:
                # Keypad keys count only from the keypad (a "+" typed elsewhere does not call).
                if key == wanted and (keypad or not on_keypad or wanted == K.Key_Enter):
                    self.trigger(action)
                    return
        super().keyPressEvent(event)

    # -- drawing --------------------------------------------------------------------------

    def tick(self) -> None:
        local = self.now().astimezone(self.config.hospital.tz)
        self.clock.setText(local.strftime("%H:%M"))
        if local.second == 0:
            self.render_waiting()
        if self.answer_timer.isActive():
            self.render_current()

    def show_message(self, text: str) -> None:
        self._message = text
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.message_timer.start()
            self.message_shown.emit(text)

    def redraw(self) -> None:
        department = self.department_name(self.department)
        self.title.setText(f"{department} · {self.room_name()}")
        if self.online is None:
            self.banner.setProperty("role", "connecting")
            self.banner.setText(self.text.translate("Counter", "Connecting to the server…"))
            self.banner.setVisible(self.started)
            self.status.setText("")
        elif not self.online:
            self.banner.setProperty("role", "banner")
            self.banner.setText(
                self.text.translate(
                    "Counter",
                    "NO CONNECTION to the server. Reconnecting by itself… "
                    "The buttons work again when it is back.",
                )
            )
            self.banner.setVisible(True)
            self.status.setText(self.text.translate("Counter", "Offline"))
        else:
            self.banner.setVisible(False)
            self.status.setText(self.text.translate("Counter", "Connected"))
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        self.message.setVisible(bool(self._message))
        self.render_current()
        self.render_waiting()
        self.update_actions()
        self.state_changed.emit()

    def render_current(self) -> None:
        current = self.current
        calling = current is not None
        self.card.setProperty("calling", calling)
        self.card.style().unpolish(self.card)
        self.card.style().polish(self.card)
        if self.pending_call is not None:
            self.card_title.setText(self.text.translate("Counter", "Calling the next patient…"))
            self.code.setText("…")
            self.current_picto.set_reason(None)
            self.current_priority.setText("")
            self.current_info.setText(
                self.text.translate("Counter", "Waiting for the server's answer.")
            )
            return
        if current is None:
            self.card_title.setText(self.text.translate("Counter", "Now serving"))
            self.code.setText("—")
            self.current_picto.set_reason(None)
            self.current_priority.setText("")
            self.current_info.setText(
                self.text.translate("Counter", "Nobody called. Press Call next.")
                if self.waiting
                else self.text.translate("Counter", "Nobody is waiting.")
            )
            return
        self.card_title.setText(self.text.translate("Counter", "Now serving"))
        self.code.setText(current.code)
        self.current_picto.set_reason(current.priority)
        word = priority_word(self.text, current.priority)
        self.current_priority.setText(
            self.text.translate("Counter", "Priority: {what}").format(what=word) if word else ""
        )
        called = minutes_since(current.last_called_at, self.now())
        parts = [self.text.translate("Counter", "Called {n} min ago").format(n=called)]
        if current.recalls:
            parts.append(
                self.text.translate("Counter", "recalled {n} of {max}").format(
                    n=current.recalls, max=self.max_recalls
                )
            )
        if self.answer_timer.isActive():
            seconds = max(0, self.answer_timer.remainingTime() // 1000)
            parts.append(
                self.text.translate("Counter", "absent in {s} s if nobody comes").format(s=seconds)
            )
        self.current_info.setText(" · ".join(parts))

    def render_waiting(self) -> None:
        selected = self.selected()
        now = self.now()
        self.list.clear()
        for place, ticket in enumerate(self.waiting, start=1):
            row = WaitingRow()
            minutes = minutes_since(ticket.issued_at, now)
            transferred = (
                self.text.translate("Counter", "Transferred") if ticket.transferred_from else ""
            )
            # In the list a short word beside the pictogram; the full reason is the tooltip
            # and shows in full on the current-ticket card once called.
            row.show_ticket(
                place,
                ticket,
                self.text.translate("Counter", "Priority") if ticket.priority else "",
                self.text.translate("Counter", "{n} min").format(n=minutes),
                transferred,
            )
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, ticket.id)
            item.setSizeHint(QSize(300, 64))
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            row.setToolTip(priority_word(self.text, ticket.priority))
            if selected is not None and selected.id == ticket.id:
                self.list.setCurrentItem(item)
        self.waiting_title.setText(
            self.text.translate("Counter", "Waiting: {n}").format(n=len(self.waiting))
        )
        self.list.setVisible(bool(self.waiting))
        self.empty.setVisible(not self.waiting)
        self.empty.setText(self.text.translate("Counter", "Nobody is waiting."))
        today = self.today
        self.counts.setText(
            self.text.translate(
                "Counter",
                "Today: {issued} issued · {served} done · {absent} absent · {moved} moved",
            ).format(
                issued=today.get("issued", 0),
                served=today.get("served", 0),
                absent=today.get("no_show", 0),
                moved=today.get("transferred", 0),
            )
        )

    def update_actions(self) -> None:
        for action, button in self.buttons.items():
            button.setEnabled(self.can(action))
