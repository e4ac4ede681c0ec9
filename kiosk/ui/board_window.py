"""The waiting-room board: who is called to which room, large enough for 10 metres, spoken.

The newest call is at the top, highlighted (a colour pulse) for a few seconds and then
steady; the calls before it below; the people waiting per department on the side; a notice
scrolling along the bottom. Each call (and each recall) is announced by `kiosk.announcer`:
chime, then the phrase in `board.language`; the announcer queues them and never stops the
board when there is no sound.

Sizes for a 1920x1080 TV read from 10 m: the newest code >= 160 px
(it is ~250 px), history codes ~100 px; text contrast >= 7:1 (white or yellow on navy).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QVBoxLayout,
    QWidget,
)

from kiosk.announcer import Announcer
from kiosk.app.board import CALL_EVENTS, BoardLoad, BoardState, Call
from kiosk.config import Config
from kiosk.ui.board_widgets import (
    ACCENT,
    BOARD_BG,
    BOARD_MUTED,
    BOARD_TEXT,
    OFFLINE_BG,
    PANEL_BG,
    CallTile,
    Ticker,
)
from kiosk.ui.fit import FitLabel
from kiosk.ui.staff_common import (
    FEED_WAIT_SECONDS,
    RECONNECT_BASE_SECONDS,
    RECONNECT_CAP_SECONDS,
    FeedPoller,
    ScreenText,
)
from kiosk.ui.worker import Worker
from kiosk.wire import Department, FeedEvent
from server_sync.http import SyncError
from server_sync.staff import StaffClient

log = logging.getLogger(__name__)


def plain_label() -> QLabel:
    """Config and server strings are text, never Qt rich-text markup."""
    widget = QLabel()
    widget.setTextFormat(Qt.TextFormat.PlainText)
    return widget


@dataclass(frozen=True)
class BoardTimings:
    highlight_ms: int = 10_000
    pulse_ms: int = 500
    ticker_ms: int = 33
    counts_ms: int = 30_000
    feed_wait: float = FEED_WAIT_SECONDS
    reconnect_base: float = RECONNECT_BASE_SECONDS
    reconnect_cap: float = RECONNECT_CAP_SECONDS


class BoardWindow(QWidget):
    """The board of the whole hall, or of some departments (`--department`)."""

    call_shown = Signal(object)  # Call
    state_changed = Signal()

    def __init__(
        self,
        config: Config,
        client: StaffClient,
        *,
        family: str,
        departments: Sequence[str] = (),
        announcer: Announcer | None = None,
        timings: BoardTimings | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("BoardRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.config = config
        self.client = client
        self.family = family
        self.board = config.board
        self.text = ScreenText(config.board.language)
        self.timings = timings or BoardTimings()
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.announcer = announcer or Announcer(
            config.board.announcement,
            config.board.language,
            chime=config.board.chime,
            speech=config.board.speech,
        )
        self.state = BoardState(list(departments), config.board.history)
        self.only = self.state.only
        self._refresh_again = False
        self.scale = 0.0
        self._pulse_on = False
        self._highlight_until = 0.0

        self.worker = Worker("board-reads", self)
        self.feed = FeedPoller(
            client.copy(),
            department=self.only[0] if len(self.only) == 1 else None,
            wait=self.timings.feed_wait,
            reconnect_base=self.timings.reconnect_base,
            reconnect_cap=self.timings.reconnect_cap,
            name="board",
            # Only the calls travel: a busy morning's issues would be most of every page.
            types=CALL_EVENTS,
            parent=self,
        )
        self.feed.events_received.connect(self._on_events)
        self.feed.online_changed.connect(self._on_online)
        self._build()

        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self.tick)
        self.pulse_timer = QTimer(self)
        self.pulse_timer.setInterval(self.timings.pulse_ms)
        self.pulse_timer.timeout.connect(self._pulse)
        self.highlight_timer = QTimer(self)
        self.highlight_timer.setSingleShot(True)
        self.highlight_timer.timeout.connect(self.end_highlight)
        self.ticker_timer = QTimer(self)
        self.ticker_timer.setInterval(self.timings.ticker_ms)
        self.ticker_timer.timeout.connect(self.ticker.step)
        self.counts_timer = QTimer(self)
        self.counts_timer.setInterval(self.timings.counts_ms)
        self.counts_timer.timeout.connect(self.refresh_counts)
        self.redraw()

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        self.setStyleSheet(
            f"QWidget#BoardRoot {{ background: {BOARD_BG}; }}"
            f"QLabel {{ color: {BOARD_TEXT}; background: transparent; }}"
        )
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        # The screen decides the size (no minimum: offscreen Qt would warn).
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        header = QWidget()
        header.setStyleSheet(f"background: {PANEL_BG};")
        self.head = head = QHBoxLayout(header)
        head.setContentsMargins(32, 10, 32, 10)
        self.hospital = FitLabel(44, min_px=10, bold=True, colour=BOARD_TEXT)
        self.clock = plain_label()
        self.clock.setStyleSheet(f"font-size: 56px; font-weight: bold; color: {ACCENT};")
        head.addWidget(self.hospital, 1)
        head.addWidget(self.clock)
        outer.addWidget(header)

        self.offline = FitLabel(
            36,
            min_px=10,
            bold=True,
            wrap=True,
            colour=BOARD_TEXT,
            extra=f"background: {OFFLINE_BG}; padding: 8px 32px;",
        )
        outer.addWidget(self.offline)

        # Calls beside the counts on a landscape TV, above them on a portrait one.
        self.body = body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        body.setContentsMargins(24, 20, 24, 20)
        body.setSpacing(24)
        self.calls_column = calls = QVBoxLayout()
        calls.setSpacing(14)
        self.newest = CallTile(self.family, newest=True)
        self.newest.setObjectName("NewestCall")
        calls.addWidget(self.newest, 9)
        self.history: list[CallTile] = []
        self.rows = rows = QGridLayout()
        rows.setSpacing(12)
        count = max(0, self.board.history - 1)
        columns = 2 if count > 3 else 1
        for index in range(count):
            tile = CallTile(self.family, leader=self.newest)
            self.history.append(tile)
            rows.addWidget(tile, index // columns, index % columns)
        history_rows = max(1, -(-count // columns))
        calls.addLayout(rows, history_rows * 3)
        self.idle = FitLabel(64, min_px=12, bold=True, wrap=True, colour=BOARD_MUTED)
        self.idle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        calls.addWidget(self.idle)
        body.addLayout(calls, 68)

        self.side = side = QVBoxLayout()
        side.setSpacing(10)
        self.side_title = FitLabel(40, min_px=10, bold=True, colour=ACCENT)
        side.addWidget(self.side_title)
        self.side_rows: list[tuple[FitLabel, QLabel]] = []
        self.side_box = QGridLayout()
        self.side_box.setSpacing(6)
        self.side_columns = 0
        side.addLayout(self.side_box)
        side.addStretch(1)
        self.panel = panel = QWidget()
        panel.setObjectName("CountsPanel")
        panel.setStyleSheet(
            f"QWidget#CountsPanel {{ background: {PANEL_BG}; border-radius: 18px; }}"
        )
        self.panel_layout = panel_layout = QVBoxLayout(panel)
        panel_layout.setContentsMargins(24, 20, 24, 20)
        panel_layout.addLayout(side)
        body.addWidget(panel, 32)
        outer.addLayout(body, 1)

        self.ticker = Ticker(self.family)
        outer.addWidget(self.ticker)

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        self.clock_timer.start()
        self.ticker_timer.start()
        self.counts_timer.start()
        self.tick()
        self.load(start_feed=True)

    def shutdown(self) -> None:
        for timer in self.findChildren(QTimer):
            timer.stop()
        self.feed.stop()
        self.worker.stop()
        self.client.close()
        self.announcer.close(timeout=2.0)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.set_scale(event.size().width(), event.size().height())
        self.render_counts()

    def set_scale(self, width: int, height: int) -> None:
        """Sizes for this screen: designed for a 1920x1080 TV (1080x1920 in portrait, where
        the counts go below the calls), scaled by the smaller ratio."""
        portrait = height > width
        base = (1080, 1920) if portrait else (1920, 1080)
        scale = max(0.3, min(4.0, width / base[0], height / base[1]))
        self.body.setDirection(
            QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        )
        self.body.setStretch(0, 75 if portrait else 68)
        self.body.setStretch(1, 25 if portrait else 32)
        # In portrait the counts get at most a third of the height, whatever their number.
        self.panel.setMaximumHeight(height // 3 if portrait else 16_777_215)
        QTimer.singleShot(0, self.render_counts)
        if scale == self.scale:
            return
        self.scale = scale

        def px(base: float, least: int = 8) -> int:
            return max(least, round(base * scale))

        self.head.setContentsMargins(px(32), px(10, 2), px(32), px(10, 2))
        self.hospital.set_scale(scale)
        self.clock.setStyleSheet(f"font-size: {px(56)}px; font-weight: bold; color: {ACCENT};")
        self.offline.set_scale(scale)
        self.body.setContentsMargins(px(24), px(20), px(24), px(20))
        self.body.setSpacing(px(24))
        self.calls_column.setSpacing(px(14, 4))
        self.rows.setSpacing(px(12, 4))
        self.idle.set_scale(scale)
        self.side_title.set_scale(scale)
        self.panel_layout.setContentsMargins(px(24), px(20), px(24), px(20))
        self.ticker.set_px(px(48))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.set_scale(self.width(), self.height())

    # -- loading --------------------------------------------------------------------------

    @property
    def departments(self) -> list[Department]:
        return self.state.departments

    @property
    def calls(self) -> list[Call]:
        return self.state.calls

    @property
    def online(self) -> bool | None:
        return self.state.online

    def load(self, start_feed: bool = False) -> None:
        """Departments, then each shown department's recent calls (no announcement)."""
        client, only = self.client, list(self.only)

        def done(load: BoardLoad) -> None:
            self.state.loaded(load)
            if start_feed:
                self.feed.start(load.cursor)
            self._set_online(True)
            self.redraw()

        def failed(error: BaseException) -> None:
            self._log_error(error, "loading the board")
            self._set_online(False)
            if start_feed:
                self.feed.start(0)
            else:
                self.feed.lost()  # the feed's reconnect loop loads again when it is back

        self.worker.submit(lambda: BoardLoad.fetch(client, only), done, failed, name="load")

    def refresh_counts(self) -> None:
        if self.worker.is_pending("counts") or self.worker.is_pending("load"):
            self._refresh_again = True
            return
        client = self.client

        def done(departments: list[Department]) -> None:
            self.state.departments = departments
            self.render_counts()
            if self._refresh_again:
                self._refresh_again = False
                self.refresh_counts()

        self.worker.submit(
            client.departments, done, lambda e: self._log_error(e, "counts"), name="counts"
        )

    def _log_error(self, error: BaseException, what: str) -> None:
        if isinstance(error, SyncError):
            log.warning("board: %s failed: %s", what, error)
        else:
            log.error("board: %s failed unexpectedly", what, exc_info=error)

    # -- live -----------------------------------------------------------------------------

    def _on_events(self, events: list[FeedEvent]) -> None:
        for call in self.state.feed(events):
            self.show_call(call)
        self.refresh_counts()

    def _on_online(self, online: bool) -> None:
        if self._set_online(online):
            self.load()

    def _set_online(self, online: bool) -> bool:
        again = self.state.set_online(online)
        self.render_offline()
        return again

    def show_call(self, call: Call) -> None:
        """Highlight a call (or recall) the state put on top, and announce it."""
        room = self.room_text(call)
        announcement = self.announcer.announce(call.code, room)
        log.info("board: %s", announcement.text)
        self._pulse_on = True
        self.pulse_timer.start()
        self.highlight_timer.start(self.timings.highlight_ms)
        self.redraw()
        self.call_shown.emit(call)

    def end_highlight(self) -> None:
        self.pulse_timer.stop()
        self._pulse_on = False
        self.newest.pulse_bright = False
        self.newest.set_highlighted(False)

    def _pulse(self) -> None:
        self._pulse_on = not self._pulse_on
        self.newest.pulse_bright = not self._pulse_on
        self.newest.update()

    @property
    def highlighted(self) -> bool:
        return self.highlight_timer.isActive()

    # -- texts and drawing ----------------------------------------------------------------

    def room_text(self, call: Call) -> str:
        return self.state.room_text(call, self.text.language)

    def tick(self) -> None:
        local = self.now().astimezone(self.config.hospital.tz)
        self.clock.setText(local.strftime("%H:%M"))

    def redraw(self) -> None:
        hospital = self.config.hospital
        name = (
            hospital.name_en if self.text.language == "en" and hospital.name_en else hospital.name
        )
        self.hospital.setText(name)
        self.setWindowTitle(f"{self.text.translate('Board', 'Now calling')} · {name}")
        newest = self.calls[0] if self.calls else None
        self.newest.show_call(
            newest,
            "" if newest is None else self.room_text(newest),
            self.text.translate("Board", "Now calling") if newest is not None else "",
        )
        self.newest.set_highlighted(self.highlighted)
        self.newest.setVisible(newest is not None)
        for index, tile in enumerate(self.history, start=1):
            call = self.calls[index] if index < len(self.calls) else None
            tile.show_call(call, "" if call is None else self.room_text(call))
        self.idle.setVisible(newest is None)
        self.idle.setText(self.text.translate("Board", "Please wait for your number to be called."))
        for tile in self.history:
            tile.setVisible(tile.call is not None)
        self.ticker.set_text(self.board.notice)
        self.render_counts()
        self.render_offline()
        self.state_changed.emit()

    def render_offline(self) -> None:
        self.offline.setText(
            self.text.translate("Board", "Connection lost: calls may be late. Reconnecting…")
        )
        self.offline.setVisible(self.online is False)

    def render_counts(self) -> None:
        self.side_title.setText(self.text.translate("Board", "Waiting"))
        shown = self.state.counted()
        while len(self.side_rows) < len(shown):
            name = FitLabel(52, min_px=10, colour=BOARD_TEXT)
            count = plain_label()
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.side_rows.append((name, count))
            self.side_columns = 0  # lay them out again
        # Every department in the panel, one line each: as large as the panel's height allows
        # (52 px on a 1920x1080 TV), each name shrinking further until it fits its width; a
        # wide panel (a portrait TV) takes two columns.
        title = self.side_title.sizeHint().height() + self.side.spacing()
        margins = self.panel_layout.contentsMargins()
        room = min(self.panel.height(), self.panel.maximumHeight())
        inside = room - margins.top() - margins.bottom() - title
        columns = 2 if self.panel.width() > 1.4 * max(1, room) and len(shown) > 6 else 1
        # Too many to read on a small screen: the busiest ones, in the hospital's order.
        floor = max(12, round(20 * self.scale))
        fit = max(1, int(inside / (floor * 1.45))) * columns
        if len(shown) > fit:
            busiest = sorted(shown, key=lambda d: -d.waiting)[:fit]
            shown = [d for d in shown if d in busiest]
        rows = max(1, -(-len(shown) // columns))
        px = max(floor, min(round(52 * max(self.scale, 0.3)), int(inside / rows / 1.45)))
        if columns != self.side_columns:
            self.side_columns = columns
            per_column = -(-len(self.side_rows) // columns)
            for index, (name, count) in enumerate(self.side_rows):
                self.side_box.removeWidget(name)
                self.side_box.removeWidget(count)
                row, column = index % per_column, index // per_column
                self.side_box.addWidget(name, row, column * 3)
                self.side_box.addWidget(count, row, column * 3 + 1)
            for column in range(6):
                used = column % 3 == 0 and column // 3 < columns
                self.side_box.setColumnStretch(column, 1 if used else 0)
                self.side_box.setColumnMinimumWidth(column, 0)
            if columns == 2:
                self.side_box.setColumnMinimumWidth(2, max(12, px))
        self.side_box.setVerticalSpacing(max(2, px // 6))
        for index, (name, count) in enumerate(self.side_rows):
            visible = index < len(shown)
            name.setVisible(visible)
            count.setVisible(visible)
            if not visible:
                continue
            department = shown[index]
            name.base_px = px
            name.set_scale(1.0)
            name.setText(department.name(self.text.language))
            count.setText(str(department.waiting))
            count.setStyleSheet(f"font-size: {px}px; font-weight: bold; color: {ACCENT};")
        self.fit_ticker()

    def fit_ticker(self) -> None:
        """The notice in smaller type than any call on screen."""
        tiles = [t for t in (self.newest, *self.history) if t.isVisible() and t.call is not None]
        codes = [t.code_px() for t in tiles]
        cap = min((c for c in codes if c > 0), default=0)
        wanted = max(8, round(48 * max(self.scale, 0.3)))
        self.ticker.set_px(min(wanted, int(cap * 0.8)) if cap else wanted)
