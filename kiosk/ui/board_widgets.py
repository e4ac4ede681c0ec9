"""The board's widgets: the call tiles (CODE → ROOM, painted as large as they fit), the
scrolling notice and the colours. kiosk/ui/board_window.py puts them together;
kiosk/app/board.py decides what they show.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from kiosk.app.board import Call
from kiosk.ui import style

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
