"""The nurse's counter display: the current patient large, one key per action, the line.

The widget renders `kiosk.app.counter.CounterState` and forwards the nurse's keys and taps to
it; the state decides what is possible, what to send and what to say. Everything the counter
knows comes from the central server: a snapshot of its department's queue, kept fresh by the
event feed's long-poll, whose reconnect loop is the counter's only one. Requests go out on one
`Worker` thread, in order, and the snapshot refresh shares that thread, so answers are applied
in the order they were asked.

The state's words come from `counter_view.py`, the widgets from `counter_widgets.py` and
`counter_transfer.py`. Strings are `self.text.translate("Counter", <English>)`; `vi.ts` holds
the Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.counter import (
    Action,
    Command,
    CounterState,
    Message,
    Reaction,
    Snapshot,
)
from kiosk.config import Config
from kiosk.ui import counter_view as view
from kiosk.ui.counter_transfer import TransferPage
from kiosk.ui.counter_widgets import (
    CounterHeader,
    CounterMain,
    action_for_key,
    counter_style_sheet,
    label,
)
from kiosk.ui.staff_common import (
    FEED_WAIT_SECONDS,
    RECONNECT_BASE_SECONDS,
    RECONNECT_CAP_SECONDS,
    FeedPoller,
    ScreenText,
    failure_of,
)
from kiosk.ui.worker import Worker
from kiosk.wire import Department, FeedEvent, Queue, Ticket
from server_sync.staff import StaffClient

log = logging.getLogger(__name__)

K = Qt.Key


@dataclass(frozen=True)
class CounterTimings:
    """Durations (tests pass tiny ones instead of waiting)."""

    message_ms: int = 8_000
    feed_wait: float = FEED_WAIT_SECONDS
    reconnect_base: float = RECONNECT_BASE_SECONDS
    reconnect_cap: float = RECONNECT_CAP_SECONDS


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
        self.state = CounterState(department, room, config.counter.max_recalls)
        self.department = self.state.department
        self.room = room
        self.family = family
        self.text = ScreenText(language or config.hospital.languages[0])
        self.timings = timings or CounterTimings()
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.max_recalls = config.counter.max_recalls
        self.started = False
        self._refresh_again = False
        self._message = ""
        self.scale = 0.0

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
        self.setStyleSheet(counter_style_sheet())

        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self.tick)
        self.message_timer = QTimer(self)
        self.message_timer.setSingleShot(True)
        self.message_timer.setInterval(self.timings.message_ms)
        self.message_timer.timeout.connect(lambda: self.show_message(""))
        self.retranslate()
        self.redraw()

    # -- the state, as the tests and the demo read it ---------------------------------------

    @property
    def current(self) -> Ticket | None:
        return self.state.current

    @property
    def waiting(self) -> list[Ticket]:
        return self.state.waiting

    @property
    def today(self) -> dict[str, int]:
        return self.state.today

    @property
    def online(self) -> bool | None:
        return self.state.online

    @property
    def busy(self) -> bool:
        return self.state.busy

    @property
    def pending_call(self) -> str | None:
        return self.state.pending_call

    @property
    def queue(self) -> Queue | None:
        return self.state.queue

    @property
    def departments(self) -> list[Department]:
        return self.state.departments

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        # The screen decides the size (no minimum: offscreen Qt would warn).
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)

        self.header = CounterHeader()
        self.title, self.status, self.clock = (
            self.header.title,
            self.header.status,
            self.header.clock,
        )
        outer.addWidget(self.header)

        self.banner = label(wrap=True)
        self.banner.setProperty("role", "connecting")
        outer.addWidget(self.banner)

        self.pages = QStackedWidget()
        outer.addWidget(self.pages, 1)
        self.main = CounterMain()
        self.pages.addWidget(self.main)
        self.card, self.buttons, self.message, self.panel = (
            self.main.card,
            self.main.buttons,
            self.main.message,
            self.main.panel,
        )
        self.code, self.current_info = self.card.code, self.card.info
        self.list = self.panel.list
        self.list.itemSelectionChanged.connect(self.update_actions)
        self.list.itemDoubleClicked.connect(lambda _item: self.trigger(Action.CALL_SELECTED))

        for action, button in self.buttons.items():
            button.clicked.connect(lambda _=False, a=action: self.trigger(a))

        self.transfer_page = TransferPage()
        self.transfer_page.chosen.connect(self.transfer_to)
        self.transfer_page.cancelled.connect(self.close_transfer)
        self.pages.addWidget(self.transfer_page)

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
        self.set_scale(event.size().width(), event.size().height())

    def set_scale(self, width: int, height: int) -> None:
        """Sizes for this window: designed at 1366x768, scaled with the smaller ratio (a
        1152x540 demo window gets 70 %), the line under the patient in portrait."""
        portrait = height > width
        base = (768, 1366) if portrait else (1366, 768)
        scale = max(0.55, min(3.0, width / base[0], height / base[1]))
        self.main.set_portrait(portrait)
        if scale == self.scale:
            return
        self.scale = scale
        self.setStyleSheet(counter_style_sheet(scale))
        self.header.set_scale(scale)
        self.main.set_scale(scale)
        self.transfer_page.set_scale(scale)
        self.render_waiting()

    # -- texts ----------------------------------------------------------------------------

    def department_name(self, code: str) -> str:
        return self.state.department_name(code, self.text.language)

    def room_name(self) -> str:
        for department in self.departments:
            if department.code == self.department:
                return department.room_name(self.room, self.text.language)
        return self.room

    def retranslate(self) -> None:
        names = view.action_names(self.text)
        for action, button in self.buttons.items():
            button.set_caption(names[action])
        self.transfer_page.cancel.setText(self.text.translate("Counter", "Cancel (Esc)"))
        self.transfer_page.previous.setText("◀  PgUp")
        self.transfer_page.next.setText("PgDn  ▶")
        self.setWindowTitle(
            self.text.translate("Counter", "Counter") + f" · {self.department} · {self.room}"
        )

    def words(self, message: Message) -> str:
        return view.message_text(self.text, message, self.department_name)

    # -- what comes in --------------------------------------------------------------------

    def refresh(self, start_feed: bool = False) -> None:
        """Fetch the department's queue (and the departments) on the worker."""
        if self.worker.is_pending("refresh"):
            self._refresh_again = True
            return
        client, code = self.client, self.department

        def done(snapshot: Snapshot) -> None:
            self.react(self.state.apply_snapshot(snapshot, feed_online=self.feed.online))
            if start_feed:
                self.feed.start(snapshot.queue.cursor)
            else:
                self.feed.move_to(snapshot.queue.cursor)
            if self._refresh_again:
                self._refresh_again = False
                self.refresh()

        def failed(error: BaseException) -> None:
            self.react(self.state.failed(None, failure_of(error, "refresh")))
            if start_feed:
                # The feed's reconnect loop finds the server again and refreshes then.
                self.feed.start(0 if self.queue is None else self.queue.cursor)

        self.worker.submit(lambda: Snapshot.fetch(client, code), done, failed, name="refresh")

    def _on_events(self, events: list[FeedEvent]) -> None:
        self.react(self.state.feed(events))

    def _on_online(self, online: bool) -> None:
        self.react(self.state.set_online(online))

    def react(self, reaction: Reaction) -> None:
        """Do what the state asked for, then draw it."""
        if reaction.lost:
            self.feed.lost()
        if reaction.message is not None:
            self.show_message(self.words(reaction.message))
        if reaction.send is not None:
            self.send(reaction.send)
        self.redraw()
        if reaction.refresh:
            self.refresh()

    # -- what goes out --------------------------------------------------------------------

    def can(self, action: Action) -> bool:
        return self.state.can(action, self.selected())

    def selected(self) -> Ticket | None:
        """The ticket of the selected row, by its id: when the line changes under the row
        (the selected patient was just called), no other patient takes its place."""
        ticket_id = self.panel.selected_id()
        return next((t for t in self.waiting if t.id == ticket_id), None)

    def trigger(self, action: Action) -> None:
        if self.pages.currentWidget() is self.transfer_page:
            return
        if action == Action.TRANSFER:
            if self.can(action):
                self.open_transfer()
            return
        command = self.state.request(action, self.selected())
        if command is not None:
            self.send(command)

    def send(self, command: Command) -> None:
        client = self.client

        def done(ticket: Ticket | None) -> None:
            self.react(self.state.answered(command, ticket))

        def failed(error: BaseException) -> None:
            self.react(self.state.failed(command, failure_of(error, str(command.action))))

        self.redraw()
        self.worker.submit(lambda: command.run(client), done, failed, name=str(command.action))

    # -- transfer -------------------------------------------------------------------------

    def transfer_targets(self) -> list[Department]:
        return self.state.transfer_targets()

    def open_transfer(self) -> None:
        current = self.current
        if current is None:
            return
        title = self.text.translate(
            "Counter", "Send {code} to which department? Press its number."
        ).format(code=current.code)
        self.transfer_page.show_targets(title, self.transfer_targets(), self.text.language)
        self.pages.setCurrentWidget(self.transfer_page)

    def close_transfer(self) -> None:
        self.pages.setCurrentIndex(0)

    def transfer_to(self, department: str) -> None:
        self.close_transfer()
        command = self.state.request(Action.TRANSFER, target=department)
        if command is not None:
            self.send(command)

    # -- keys -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        keypad = bool(event.modifiers() & Qt.KeyboardModifier.KeypadModifier)
        if self.pages.currentWidget() is self.transfer_page:
            self.transfer_page.key(key)
            return
        if key in (K.Key_Up, K.Key_Down) and self.waiting:
            row = self.list.currentRow()
            row = 0 if row < 0 else row + (1 if key == K.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(len(self.waiting) - 1, row)))
            return
        if key == K.Key_Escape:
            self.list.clearSelection()
            return
        action = action_for_key(key, keypad)
        if action is not None:
            self.trigger(action)
            return
        super().keyPressEvent(event)

    # -- drawing --------------------------------------------------------------------------

    def tick(self) -> None:
        local = self.now().astimezone(self.config.hospital.tz)
        self.clock.setText(local.strftime("%H:%M"))
        if local.second == 0:
            self.render_waiting()
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
        connection = view.connection(self.text, self.online)
        if connection.banner:
            self.banner.setProperty("role", connection.role)
            self.banner.setText(connection.banner)
        self.banner.setVisible(
            bool(connection.banner) and (self.started or self.online is not None)
        )
        self.status.setText(connection.status)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        self.message.setVisible(bool(self._message))
        self.render_current()
        self.render_waiting()
        self.update_actions()
        self.state_changed.emit()

    def render_current(self) -> None:
        self.card.show_texts(view.current_card(self.text, self.state, self.now()))

    def render_waiting(self) -> None:
        selected = self.selected()
        self.panel.show_entries(
            view.waiting_entries(self.text, self.state, self.now()),
            None if selected is None else selected.id,
            self.text.translate("Counter", "Waiting: {n}").format(n=len(self.waiting)),
            self.text.translate("Counter", "Nobody is waiting."),
            view.today_counts(self.text, self.today),
        )

    def update_actions(self) -> None:
        for action, button in self.buttons.items():
            button.setEnabled(self.can(action))
