"""Reusable touch widgets: big buttons, priority tiles, QR code, busy spinner (the department
tile is in department_tile.py).

Text inside painted tiles is laid out line by line with a line height of 1.3 em, so stacked
Vietnamese diacritics (Ấ, ỗ, ậ) are never clipped, and shrunk to fit, never cut.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QHideEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QShowEvent,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QAbstractButton, QPushButton, QSizePolicy, QWidget

from kiosk.ui import style
from kiosk.ui.pictograms import paint_pictogram

LINE_HEIGHT = 1.3


def wrap_lines(text: str, font: QFont, width: float) -> list[str]:
    """Break `text` into lines no wider than `width` (words are never split unless too long)."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    lines: list[str] = []
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append(text[line.textStart() : line.textStart() + line.textLength()].strip())
    layout.endLayout()
    return [line for line in lines if line]


def words_fit(text: str, font: QFont, width: float) -> bool:
    """Every piece a line may not break inside fits: words, split after their hyphens
    ("Odonto-" "Stomatology")."""
    metrics = QFontMetricsF(font)
    pieces = [piece for word in text.split() for piece in re.split(r"(?<=-)", word) if piece]
    return all(metrics.horizontalAdvance(piece) <= width for piece in pieces)


SMALLEST_PX = 14


def fit_text(
    text: str,
    family: str,
    width: float,
    height: float,
    *,
    max_px: int,
    min_px: int,
    bold: bool = True,
) -> tuple[QFont, list[str]]:
    """The largest font (max_px down to min_px) whose wrapped lines fit in width x height."""
    for px in range(max_px, min_px - 1, -2):
        candidate = style.font(family, px, bold)
        lines = wrap_lines(text, candidate, width)
        if len(lines) * px * LINE_HEIGHT <= height and words_fit(text, candidate, width):
            return candidate, lines
    # Nothing fits: a window smaller than any kiosk screen (the demo on a laptop). Smaller type
    # beats words drawn over each other.
    for px in range(min_px - 2, SMALLEST_PX - 1, -2):
        candidate = style.font(family, px, bold)
        lines = wrap_lines(text, candidate, width)
        if len(lines) * px * LINE_HEIGHT <= height:
            return candidate, lines
    candidate = style.font(family, SMALLEST_PX, bold)
    return candidate, wrap_lines(text, candidate, width)


@dataclass(frozen=True)
class TextBlock:
    """Lines of text placed in a box: where each starts and its baseline (widget coordinates).
    Painting draws exactly this; the layout tests check it (`painted_texts()`)."""

    lines: list[str]
    font: QFont
    box: QRectF
    starts: list[float]
    baselines: list[float]


def place_lines(
    lines: Sequence[str],
    font: QFont,
    rect: QRectF,
    *,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
    vcenter: bool = False,
) -> TextBlock:
    """Lines at 1.3 em spacing from the top of `rect` (or centred in it)."""
    metrics = QFontMetricsF(font)
    step = font.pixelSize() * LINE_HEIGHT
    used = step * len(lines)
    top = rect.top() + ((rect.height() - used) / 2 if vcenter else 0)
    starts: list[float] = []
    baselines: list[float] = []
    for index, line in enumerate(lines):
        # Centre the glyph box inside its 1.3 em slot: room above for stacked accents.
        baselines.append(top + index * step + (step - metrics.height()) / 2 + metrics.ascent())
        x = rect.left()
        if align == Qt.AlignmentFlag.AlignHCenter:
            x = rect.left() + (rect.width() - metrics.horizontalAdvance(line)) / 2
        starts.append(x)
    return TextBlock(list(lines), font, rect, starts, baselines)


def draw_block(painter: QPainter, block: TextBlock) -> None:
    painter.setFont(block.font)
    for line, x, baseline in zip(block.lines, block.starts, block.baselines, strict=True):
        painter.drawText(QPointF(x, baseline), line)


def draw_lines(
    painter: QPainter,
    lines: Sequence[str],
    font: QFont,
    rect: QRectF,
    *,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
    vcenter: bool = False,
) -> float:
    """Draw lines at 1.3 em spacing from the top of `rect`; returns the height used."""
    draw_block(painter, place_lines(lines, font, rect, align=align, vcenter=vcenter))
    return font.pixelSize() * LINE_HEIGHT * len(lines)


class BigButton(QPushButton):
    """A push button sized for a finger; `kind` picks its colours in the style sheet."""

    def __init__(self, text: str = "", kind: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        if kind:
            self.setProperty("kind", kind)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumHeight(style.TARGET_PX)


class PriorityButton(QAbstractButton):
    """A priority group: its pictogram on a light tile and its name, large."""

    def __init__(self, reason: str, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reason = reason
        self.family = family
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(style.TARGET_PX)
        self.setObjectName(f"priority-{reason}")

    def sizeHint(self) -> QSize:
        return QSize(480, 180)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        path = QPainterPath()
        path.addRoundedRect(rect, 18, 18)
        painter.fillPath(path, QColor(style.PRESSED if self.isDown() else style.SURFACE))
        painter.setPen(QPen(QColor(style.PRIMARY if self.isDown() else style.BORDER), 3))
        painter.drawPath(path)
        icon = self._icon_rect()
        tile = QPainterPath()
        tile.addRoundedRect(icon.adjusted(-6, -6, 6, 6), 14, 14)
        painter.fillPath(tile, QColor("#E3ECF8"))
        paint_pictogram(painter, icon, self.reason)
        painter.setPen(QColor(style.TEXT))
        draw_block(painter, self.text_block())
        painter.end()

    def _icon_rect(self) -> QRectF:
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        icon_side = min(rect.height() - 32, 130.0, rect.width() * 0.24)
        return QRectF(rect.left() + 20, rect.center().y() - icon_side / 2, icon_side, icon_side)

    def text_block(self) -> TextBlock:
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        icon = self._icon_rect()
        text_box = QRectF(icon.right() + 18, rect.top() + 8, 0, rect.height() - 16)
        text_box.setRight(rect.right() - 12)
        text_font, lines = fit_text(
            self.text(), self.family, text_box.width(), text_box.height(), max_px=40, min_px=28
        )
        return place_lines(lines, text_font, text_box, vcenter=True)

    def painted_texts(self) -> list[TextBlock]:
        return [self.text_block()]


class CodeBox(QWidget):
    """The issued number in a framed box, in the largest bold type whose glyphs fit inside the
    frame with a margin: its size comes from the box (the screen), never a fixed pixel size.
    `painted` says each paint is done (the kiosk holds back work until the number is up)."""

    painted = Signal()
    BORDER = 6.0
    RADIUS = 28.0

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(200, 120)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        self._text = text
        self.setAccessibleName(text)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, 300)

    def inner(self) -> QRectF:
        """Where the glyphs may go: inside the frame, with air around them."""
        frame = QRectF(self.rect()).adjusted(self.BORDER, self.BORDER, -self.BORDER, -self.BORDER)
        pad_x = max(12.0, frame.width() * 0.06)
        pad_y = max(8.0, frame.height() * 0.1)
        return frame.adjusted(pad_x, pad_y, -pad_x, -pad_y)

    def text_block(self) -> TextBlock:
        inner = self.inner()
        text = self._text or " "
        low, high = 10, max(10, int(inner.height() * 1.6))
        while low < high:  # the largest size whose ink (and advance) fits the inner box
            middle = (low + high + 1) // 2
            metrics = QFontMetricsF(style.font(self.family, middle, bold=True))
            ink = metrics.tightBoundingRect(text)
            wide = max(ink.width(), metrics.horizontalAdvance(text))
            if wide <= inner.width() and ink.height() <= inner.height():
                low = middle
            else:
                high = middle - 1
        font = style.font(self.family, low, bold=True)
        ink = QFontMetricsF(font).tightBoundingRect(text)
        x = inner.center().x() - ink.width() / 2 - ink.left()
        baseline = inner.center().y() - ink.height() / 2 - ink.top()
        return TextBlock([self._text], font, inner, [x], [baseline])

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        half = self.BORDER / 2
        frame = QRectF(self.rect()).adjusted(half, half, -half, -half)
        path = QPainterPath()
        path.addRoundedRect(frame, self.RADIUS, self.RADIUS)
        painter.fillPath(path, QColor(style.SURFACE))
        painter.setPen(QPen(QColor(style.TEXT), self.BORDER))
        painter.drawPath(path)
        if self._text:
            painter.setPen(QColor(style.TEXT))
            draw_block(painter, self.text_block())
        painter.end()
        self.painted.emit()

    def painted_texts(self) -> list[TextBlock]:
        return [self.text_block()] if self._text else []


class QrCodeWidget(QWidget):
    """A QR code drawn module by module at a whole number of pixels (crisp at any size)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._matrix: list[list[bool]] = []
        self.setMinimumSize(200, 200)

    QUIET = 4  # modules of white around the code

    def set_data(self, data: str, modules: Sequence[Sequence[bool]] = ()) -> None:
        """The code of `data`: `modules` if given (made off the GUI thread, no quiet zone),
        else made here. No data, no code (nothing is computed)."""
        if data and not modules:
            from printer.ticket import qr_modules

            modules = qr_modules(data)
        side = len(modules) + 2 * self.QUIET
        blank = [False] * side
        pad = [False] * self.QUIET
        self._matrix = (
            [blank] * self.QUIET
            + [pad + [bool(cell) for cell in row] + pad for row in modules]
            + [blank] * self.QUIET
            if data
            else []
        )
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(260, 260)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#FFFFFF"))
        if self._matrix:
            count = len(self._matrix)
            module = max(1, min(self.width(), self.height()) // count)
            offset_x = (self.width() - module * count) // 2
            offset_y = (self.height() - module * count) // 2
            painter.setBrush(QBrush(QColor("#000000")))
            painter.setPen(Qt.PenStyle.NoPen)
            for y, row in enumerate(self._matrix):
                for x, dark in enumerate(row):
                    if dark:
                        painter.drawRect(
                            offset_x + x * module, offset_y + y * module, module, module
                        )
        painter.end()


class BusySpinner(QWidget):
    """A turning arc: shows that something is happening (printing) without any text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._step)
        self.setFixedSize(180, 180)

    def showEvent(self, event: QShowEvent) -> None:
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()

    def _step(self) -> None:
        self._angle = (self._angle + 12) % 360
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(16, 16, -16, -16)
        painter.setPen(QPen(QColor(style.DISABLED_BG), 18))
        painter.drawEllipse(rect)
        pen = QPen(QColor(style.PRIMARY), 18)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawArc(rect, int(-self._angle * 16), 100 * 16)
        painter.end()


class AlertIcon(QWidget):
    """A large warning sign (triangle with "!") that needs no reading."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(200, 180)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = float(self.width()), float(self.height())
        triangle = QPainterPath(QPointF(w / 2, 8))
        triangle.lineTo(w - 8, h - 8)
        triangle.lineTo(8, h - 8)
        triangle.closeSubpath()
        painter.fillPath(triangle, QColor(style.DANGER))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#FFFFFF"))
        painter.drawRoundedRect(QRectF(w / 2 - 10, h * 0.32, 20, h * 0.36), 8, 8)
        painter.drawEllipse(QPointF(w / 2, h * 0.8), 12, 12)
        painter.end()
