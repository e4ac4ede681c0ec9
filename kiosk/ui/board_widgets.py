"""The board's widgets: the call tiles (CODE → ROOM, painted as large as they fit), the
scrolling notice and the colours. kiosk/ui/board_window.py puts them together;
kiosk/app/board.py decides what they show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from kiosk.app.board import Call
from kiosk.ui import style
from kiosk.ui.fit import fitting_px

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
class PaintedText:
    """Text a widget paints itself, where: its lines, the font, the box every line's ink must
    stay in, each line's baseline and start (tests measure these; the painter uses them)."""

    lines: tuple[str, ...]
    font: QFont
    box: QRectF
    baselines: tuple[float, ...] = ()
    starts: tuple[float, ...] = ()
    centred: bool = False


def _block(lines: Sequence[str], font: QFont, box: QRectF, align_left: bool = True) -> PaintedText:
    """Lines stacked and centred vertically in `box`, left-aligned (or centred)."""
    metrics = QFontMetricsF(font)
    total = metrics.height() + metrics.lineSpacing() * (len(lines) - 1)
    top = box.top() + (box.height() - total) / 2
    baselines = tuple(top + metrics.ascent() + i * metrics.lineSpacing() for i in range(len(lines)))
    if align_left:
        starts = tuple(box.left() for _ in lines)
    else:
        starts = tuple(
            box.left() + (box.width() - metrics.horizontalAdvance(line)) / 2 for line in lines
        )
    return PaintedText(tuple(lines), font, box, baselines, starts)


def _two_lines(text: str) -> str:
    """`text` broken at its middle space ("Phòng khám" / "101"), or as it is."""
    words = text.split()
    if len(words) < 2:
        return text
    best = min(
        range(1, len(words)),
        key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))),
    )
    return " ".join(words[:best]) + "\n" + " ".join(words[best:])


class CallTile(QWidget):
    """CODE → ROOM, painted as large as the tile allows (never clipped).

    Wide tiles put the room beside the code, narrow ones below it; the room takes two lines
    when that lets it be larger, and is never larger than the code. A history tile's code stays
    smaller than the newest call's (`leader`), so the newest is the largest text on screen."""

    def __init__(
        self,
        family: str,
        newest: bool = False,
        leader: CallTile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.family = family
        self.newest = newest
        self.leader = leader
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

    def minimumSizeHint(self) -> QSize:
        return QSize(0, 0)

    def _px(self, text: str, width: float, height: float, max_px: float) -> int:
        return fitting_px(
            text, self.family, True, int(width), int(height), max_px=int(max_px), min_px=8
        )

    def code_px(self) -> int:
        texts = self.painted_texts()
        return _pixel_size(texts[-1].font) if texts else 0

    def painted_texts(self) -> list[PaintedText]:
        """What this tile paints and where (caption, arrow, room lines, then the code)."""
        call = self.call
        if call is None or self.width() < 8 or self.height() < 8 or not self.isVisible():
            return []
        rect = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        pad = min(rect.height(), rect.width()) * 0.06 + 6
        inner = rect.adjusted(pad * 1.5, pad, -pad * 1.5, -pad)
        texts: list[PaintedText] = []
        if self.caption:
            caption_h = max(12.0, inner.height() * 0.16)
            box = QRectF(inner.left(), inner.top(), inner.width(), caption_h)
            px = self._px(self.caption, box.width(), box.height(), caption_h / 1.3)
            texts.append(_block([self.caption], style.font(self.family, px, True), box))
            inner.setTop(inner.top() + caption_h)
        cap = float(inner.height())
        if self.leader is not None and self.leader.isVisible():
            cap = min(cap, self.leader.code_px() * 0.7 or cap)
        wide = inner.width() / max(1.0, inner.height()) >= 2.2
        if wide:
            code_box = QRectF(inner.left(), inner.top(), inner.width() * 0.46, inner.height())
            arrow_box = QRectF(code_box.right(), inner.top(), inner.width() * 0.1, inner.height())
            room_box = QRectF(
                arrow_box.right(), inner.top(), inner.right() - arrow_box.right(), inner.height()
            )
        else:
            code_h = inner.height() * 0.58
            code_box = QRectF(inner.left(), inner.top(), inner.width(), code_h)
            arrow_box = QRectF(inner.left(), code_box.bottom(), inner.width() * 0.14, 0)
            arrow_box.setBottom(inner.bottom())
            room_box = QRectF(
                arrow_box.right(), code_box.bottom(), inner.right() - arrow_box.right(), 0
            )
            room_box.setBottom(inner.bottom())
        code_px = self._px(call.code, code_box.width(), code_box.height(), cap)
        room = self.room_text
        room_max = code_px * 0.8
        one = self._px(room, room_box.width(), room_box.height(), room_max)
        two_text = _two_lines(room)
        two = self._px(two_text, room_box.width(), room_box.height(), room_max)
        room_lines, room_px = (two_text.split("\n"), two) if two > one * 1.15 else ([room], one)
        arrow_px = self._px(
            "→", arrow_box.width(), arrow_box.height(), min(room_max, code_px * 0.6)
        )
        texts.append(_block(["→"], style.font(self.family, arrow_px, True), arrow_box, False))
        texts.append(_block(room_lines, style.font(self.family, room_px, True), room_box))
        code_align_left = wide
        texts.append(
            _block([call.code], style.font(self.family, code_px, True), code_box, code_align_left)
        )
        return texts

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
        radius = min(18.0, rect.height() * 0.12)
        painter.drawRoundedRect(rect, radius, radius)
        for painted in self.painted_texts():
            painter.setFont(painted.font)
            painter.setPen(QColor(accent if painted.lines == ("→",) else text))
            for line, x, y in zip(painted.lines, painted.starts, painted.baselines, strict=True):
                painter.drawText(QPointF(x, y), line)
        painter.end()


def _pixel_size(font: QFont) -> int:
    return font.pixelSize() if font.pixelSize() > 0 else round(font.pointSizeF() * 96 / 72)


class Ticker(QWidget):
    """The notice from config, scrolling right to left at a calm pace; never in larger type
    than the calls (`cap`)."""

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        self.text = ""
        self.offset = 0.0
        self.px = 48
        self.setFixedHeight(84)

    def set_px(self, px: int) -> None:
        px = max(10, px)
        if px != self.px:
            self.px = px
            self.setFixedHeight(round(px * 1.75))
            self.update()

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.offset = 0.0
        self.text = text
        self.setVisible(bool(text))
        self.update()

    def step(self) -> None:
        if not self.text or not self.isVisible():
            return
        width = QFontMetricsF(style.font(self.family, self.px, True)).horizontalAdvance(self.text)
        self.offset += max(1.0, self.px / 16)
        if self.px * 0.66 - self.offset + width < 0:
            self.offset = -float(self.width())
        self.update()

    def painted_texts(self) -> list[PaintedText]:
        """The notice's line: it scrolls, so only its height must fit (its box is as long as
        the text, wherever the scroll has it)."""
        if not self.text or not self.isVisible():
            return []
        font = style.font(self.family, self.px, True)
        metrics = QFontMetricsF(font)
        x = self.px * 0.66 - self.offset
        y = (self.height() - metrics.height()) / 2 + metrics.ascent()
        box = QRectF(x - 4, 0, metrics.horizontalAdvance(self.text) + 8, self.height())
        return [PaintedText((self.text,), font, box, (y,), (x,))]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(TICKER_BG))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(TICKER_TEXT))
        for painted in self.painted_texts():
            painter.setFont(painted.font)
            # The text enters from the left margin first, then scrolls in from the right.
            painter.drawText(QPointF(painted.starts[0], painted.baselines[0]), self.text)
        painter.end()
