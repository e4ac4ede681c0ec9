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
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFontMetricsF, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.announcer import Announcer
from kiosk.config import Config
from kiosk.ui import style
from kiosk.ui.staff_common import (
    FEED_WAIT_SECONDS,
    RECONNECT_BASE_SECONDS,
    RECONNECT_CAP_SECONDS,
    FeedPoller,
    ScreenText,
)
from kiosk.ui.worker import Worker
from server_sync.http import SyncError
from server_sync.staff import Department, FeedEvent, Queue, StaffClient, Ticket

log = logging.getLogger(__name__)

# Board colours: every text/background pair is >= 7:1 (tests/ui/test_board.py checks).
BOARD_BG = "#0A1B33"
PANEL_BG = "#12284A"
BOARD_TEXT = "#FFFFFF"
BOARD_MUTED = "#D6E2F5"
ACCENT = "#FFD54A"  # yellow text on navy
HIGHLIGHT_BG = "#FFD54A"
HIGHLIGHT_TEXT = "#0A1B33"
HIGHLIGHT_BRIGHT = "#FFF3C4"  # the pulse's other phase, same dark text
NEWEST_BG = "#0B3D91"
TICKER_BG = "#000000"
TICKER_TEXT = "#FFE680"
OFFLINE_BG = "#A4161A"
BOARD_PAIRS = (
    (BOARD_TEXT, BOARD_BG),
    (BOARD_TEXT, PANEL_BG),
    (BOARD_MUTED, PANEL_BG),
    (ACCENT, PANEL_BG),
    (HIGHLIGHT_TEXT, HIGHLIGHT_BG),
    (HIGHLIGHT_TEXT, HIGHLIGHT_BRIGHT),
    (BOARD_TEXT, NEWEST_BG),
    (TICKER_TEXT, TICKER_BG),
    (BOARD_TEXT, OFFLINE_BG),
)


@dataclass(frozen=True)
class BoardTimings:
    highlight_ms: int = 10_000
    pulse_ms: int = 500
    ticker_ms: int = 33
    counts_ms: int = 30_000
    feed_wait: float = FEED_WAIT_SECONDS
    reconnect_base: float = RECONNECT_BASE_SECONDS
    reconnect_cap: float = RECONNECT_CAP_SECONDS


@dataclass(frozen=True)
class Call:
    ticket_id: str
    code: str
    department: str
    room: str
    at: dt.datetime
    priority: str | None = None


class CallTile(QWidget):
    """CODE → ROOM, painted as large as the tile allows (never clipped)."""

    def __init__(self, family: str, newest: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        self.newest = newest
        self.call: Call | None = None
        self.room_text = ""
        self.caption = ""
        self.highlighted = False
        self.pulse_bright = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_call(self, call: Call | None, room_text: str, caption: str = "") -> None:
        self.call = call
        self.room_text = room_text
        self.caption = caption
        self.update()

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, 300 if self.newest else 120)

    def _fit(self, text: str, width: float, height: float, max_px: int) -> int:
        px = max(12, int(min(max_px, height)))
        while px > 24:
            if QFontMetricsF(style.font(self.family, px, True)).horizontalAdvance(text) <= width:
                break
            px -= 4
        return px

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        if self.highlighted:
            background, text, accent = HIGHLIGHT_BG, HIGHLIGHT_TEXT, HIGHLIGHT_TEXT
            if self.pulse_bright:
                background = HIGHLIGHT_BRIGHT
        elif self.newest:
            background, text, accent = NEWEST_BG, BOARD_TEXT, ACCENT
        else:
            background, text, accent = PANEL_BG, BOARD_TEXT, ACCENT
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(rect, 18, 18)
        call = self.call
        if call is None:
            painter.end()
            return
        pad = rect.height() * 0.06 + 12
        inner = rect.adjusted(pad * 1.5, pad, -pad * 1.5, -pad)
        top = inner.top()
        if self.caption:
            caption_px = max(32, int(inner.height() * 0.15))
            painter.setFont(style.font(self.family, caption_px, True))
            painter.setPen(QColor(text))
            metrics = QFontMetricsF(painter.font())
            painter.drawText(QPointF(inner.left(), top + metrics.ascent()), self.caption)
            top += caption_px * 1.3
        body = QRectF(inner.left(), top, inner.width(), inner.bottom() - top)
        code_w = body.width() * 0.46
        arrow_w = body.width() * 0.1
        room_w = body.width() - code_w - arrow_w
        # Cap height ~0.72 em: a 1.3 em line box leaves room for Vietnamese accents.
        max_px = int(body.height() / 1.25)
        code_px = self._fit(call.code, code_w, body.height(), max_px)
        room_px = self._fit(self.room_text, room_w, body.height(), int(max_px * 0.9))
        baseline = body.center().y() + code_px * 0.36
        painter.setPen(QColor(text))
        painter.setFont(style.font(self.family, code_px, True))
        painter.drawText(QPointF(body.left(), baseline), call.code)
        painter.setPen(QColor(accent))
        arrow_px = int(code_px * 0.6)
        painter.setFont(style.font(self.family, arrow_px, True))
        arrow_x = (
            body.left()
            + code_w
            + (arrow_w - QFontMetricsF(painter.font()).horizontalAdvance("→")) / 2
        )
        painter.drawText(QPointF(arrow_x, body.center().y() + arrow_px * 0.33), "→")
        painter.setPen(QColor(text))
        painter.setFont(style.font(self.family, room_px, True))
        painter.drawText(
            QPointF(body.left() + code_w + arrow_w, body.center().y() + room_px * 0.36),
            self.room_text,
        )
        painter.end()


class Ticker(QWidget):
    """The notice from config, scrolling right to left at a calm pace."""

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        self.text = ""
        self.offset = 0.0
        self.setFixedHeight(84)

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.offset = 0.0
        self.text = text
        self.setVisible(bool(text))
        self.update()

    def step(self) -> None:
        if not self.text or not self.isVisible():
            return
        width = QFontMetricsF(style.font(self.family, 48, True)).horizontalAdvance(self.text)
        self.offset += 3
        if 32 - self.offset + width < 0:
            self.offset = -float(self.width())
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(TICKER_BG))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(style.font(self.family, 48, True))
        painter.setPen(QColor(TICKER_TEXT))
        metrics = QFontMetricsF(painter.font())
        y = (self.height() - metrics.height()) / 2 + metrics.ascent()
        # The text enters from the left margin first, then scrolls in from the right.
        painter.drawText(QPointF(32 - self.offset, y), self.text)
        painter.end()


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
        self.only = [d.upper() for d in departments]
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
        self.departments: list[Department] = []
        self.calls: list[Call] = []
        self.online: bool | None = None
        self._refresh_again = False
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
        head = QHBoxLayout(header)
        head.setContentsMargins(32, 10, 32, 10)
        self.hospital = QLabel()
        self.hospital.setStyleSheet(f"font-size: 44px; font-weight: bold; color: {BOARD_TEXT};")
        self.clock = QLabel()
        self.clock.setStyleSheet(f"font-size: 56px; font-weight: bold; color: {ACCENT};")
        head.addWidget(self.hospital, 1)
        head.addWidget(self.clock)
        outer.addWidget(header)

        self.offline = QLabel()
        self.offline.setWordWrap(True)
        self.offline.setStyleSheet(
            f"background: {OFFLINE_BG}; color: {BOARD_TEXT}; font-size: 36px; "
            "font-weight: bold; padding: 8px 32px;"
        )
        outer.addWidget(self.offline)

        body = QHBoxLayout()
        body.setContentsMargins(24, 20, 24, 20)
        body.setSpacing(24)
        calls = QVBoxLayout()
        calls.setSpacing(14)
        self.newest = CallTile(self.family, newest=True)
        self.newest.setObjectName("NewestCall")
        calls.addWidget(self.newest, 6)
        self.history: list[CallTile] = []
        rows = QGridLayout()
        rows.setSpacing(12)
        count = max(0, self.board.history - 1)
        columns = 2 if count > 3 else 1
        for index in range(count):
            tile = CallTile(self.family)
            self.history.append(tile)
            rows.addWidget(tile, index // columns, index % columns)
        history_rows = max(1, -(-count // columns))
        calls.addLayout(rows, history_rows * 3)
        self.idle = QLabel()
        self.idle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.idle.setWordWrap(True)
        self.idle.setStyleSheet(f"font-size: 64px; font-weight: bold; color: {BOARD_MUTED};")
        calls.addWidget(self.idle)
        body.addLayout(calls, 68)

        side = QVBoxLayout()
        side.setSpacing(10)
        self.side_title = QLabel()
        self.side_title.setWordWrap(True)
        self.side_title.setStyleSheet(f"font-size: 40px; font-weight: bold; color: {ACCENT};")
        side.addWidget(self.side_title)
        self.side_rows: list[tuple[QLabel, QLabel]] = []
        self.side_box = QVBoxLayout()
        self.side_box.setSpacing(6)
        side.addLayout(self.side_box)
        side.addStretch(1)
        panel = QWidget()
        panel.setStyleSheet(f"background: {PANEL_BG}; border-radius: 18px;")
        panel_layout = QVBoxLayout(panel)
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
        self.render_counts()

    # -- loading --------------------------------------------------------------------------

    def shown_codes(self) -> list[str]:
        codes = [d.code for d in self.departments]
        return [c for c in codes if c in self.only] if self.only else codes

    def load(self, start_feed: bool = False) -> None:
        """Departments, then each shown department's recent calls (no announcement)."""
        client, only = self.client, list(self.only)

        def job() -> tuple[list[Department], list[Queue]]:
            departments = client.departments()
            codes = [d.code for d in departments if not only or d.code in only]
            return departments, [client.queue(code) for code in codes]

        def done(result: Any) -> None:
            departments, queues = result
            self.departments = departments
            called = [t for q in queues for t in q.called if t.last_called_at is not None]
            called.sort(key=lambda t: t.last_called_at or t.issued_at, reverse=True)
            self.calls = [self._call_of(t) for t in called[: self.board.history]]
            cursor = min((q.cursor for q in queues), default=0)
            if start_feed:
                self.feed.start(cursor)
            self._set_online(True)
            self.redraw()

        def failed(error: BaseException) -> None:
            self._log_error(error, "loading the board")
            self._set_online(False)
            if start_feed:
                self.feed.start(0)
            else:
                self.feed.lost()  # the feed's reconnect loop loads again when it is back

        self.worker.submit(job, done, failed, name="load")

    def refresh_counts(self) -> None:
        if self.worker.is_pending("counts") or self.worker.is_pending("load"):
            self._refresh_again = True
            return
        client = self.client

        def done(departments: Any) -> None:
            self.departments = departments
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

    def _call_of(self, ticket: Ticket) -> Call:
        return Call(
            ticket_id=ticket.id,
            code=ticket.code,
            department=ticket.department,
            room=ticket.room or "",
            at=ticket.last_called_at or ticket.issued_at,
            priority=ticket.priority,
        )

    # -- live -----------------------------------------------------------------------------

    def _on_events(self, events: list[FeedEvent]) -> None:
        for event in events:
            ticket = event.ticket
            if event.type not in ("ticket.called", "ticket.recalled") or ticket is None:
                continue
            if self.only and ticket.department not in self.only:
                continue
            self.show_call(self._call_of(ticket))
        self.refresh_counts()

    def _on_online(self, online: bool) -> None:
        was = self.online
        self._set_online(online)
        if online and was is False:
            self.load()

    def _set_online(self, online: bool) -> None:
        self.online = online
        self.render_offline()

    def show_call(self, call: Call) -> None:
        """Put a call (or recall) on top, highlight it, and announce it."""
        self.calls = [c for c in self.calls if c.ticket_id != call.ticket_id]
        self.calls.insert(0, call)
        del self.calls[self.board.history :]
        room = self.room_text(call, spoken=True)
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

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def room_text(self, call: Call, spoken: bool = False) -> str:
        """The room as shown (its short code) or as spoken (its name: "Phòng khám 101")."""
        department = self.department(call.department)
        if spoken:
            return department.room_name(call.room, self.text.language) if department else call.room
        return call.room

    def tick(self) -> None:
        local = self.now().astimezone(self.config.hospital.tz)
        self.clock.setText(local.strftime("%H:%M"))

    def redraw(self) -> None:
        hospital = self.config.hospital
        self.hospital.setText(
            hospital.name_en if self.text.language == "en" and hospital.name_en else hospital.name
        )
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
            tile.setVisible(newest is not None)
        self.idle.setVisible(newest is None)
        self.idle.setText(self.text.translate("Board", "Please wait for your number to be called."))
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
        shown = [d for d in self.departments if d.code in self.shown_codes()]
        busy = [d for d in shown if d.waiting or d.serving or d.issued_today]
        if busy and not self.only:
            shown = busy  # the departments that have patients today
        while len(self.side_rows) < len(shown):
            name, count = QLabel(), QLabel()
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row = QHBoxLayout()
            row.addWidget(name, 1)
            row.addWidget(count)
            self.side_box.addLayout(row)
            self.side_rows.append((name, count))
        # Fit every department in the panel: as large as the height allows, then smaller until
        # the longest name fits the width (eliding only below 28 px).
        # (A TV gives 28 px and up; a small window, e.g. the demo's, goes smaller rather than
        # drawing rows over each other.)
        height = max(160, self.height() - 300)
        px = max(14, min(52, int(height / max(1, len(shown)) / 1.6)))
        width = max(100, int(self.width() * 0.32) - 60 - int(px * 2.2))
        longest = max((d.name(self.text.language) for d in shown), key=len, default="")
        while px > 28 and (
            QFontMetricsF(style.font(self.family, px)).horizontalAdvance(longest) > width
        ):
            px -= 2
        for index, (name, count) in enumerate(self.side_rows):
            visible = index < len(shown)
            name.setVisible(visible)
            count.setVisible(visible)
            if not visible:
                continue
            department = shown[index]
            font = style.font(self.family, px)
            full = department.name(self.text.language)
            name.setText(QFontMetricsF(font).elidedText(full, Qt.TextElideMode.ElideRight, width))
            name.setToolTip(full)
            name.setStyleSheet(f"font-size: {px}px; color: {BOARD_TEXT};")
            count.setText(str(department.waiting))
            count.setStyleSheet(
                f"font-size: {int(px * 1.25)}px; font-weight: bold; color: {ACCENT};"
            )
