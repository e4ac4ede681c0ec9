"""Text that fits its box: the largest pixel size, up to a maximum, whose text is neither cut
nor elided in the rectangle the layout gave the label (staff screens at any window size).

A `FitLabel` ignores its text's width when the layout shares out space (so a long text cannot
push its neighbours off the window) and chooses its font size when it is resized. Sizes are
set with a per-widget style sheet, which wins over the window's and the application's.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from kiosk.ui import style

# Line box of a text line, as a multiple of the pixel size: room for Vietnamese letters with
# marks stacked above and below (Noto Sans and DejaVu Sans stay inside 1.3 em).
LINE_EM = 1.3
_WRAP = int(Qt.TextFlag.TextWordWrap)


def text_fits(text: str, font: QFont, width: int, height: int, wrap: bool) -> bool:
    """Whether `text` in `font` fits a `width` x `height` box without cutting a glyph."""
    if not text:
        return True
    metrics = QFontMetrics(font)
    line = max(metrics.height(), metrics.lineSpacing())
    if wrap:
        # Whole words: Qt would break "Odonto-Stomatology" at its hyphen, a reader would not.
        if any(metrics.horizontalAdvance(word) > width for word in text.split()):
            return False
        box = metrics.boundingRect(QRect(0, 0, max(1, width), 100_000), _WRAP, text)
        return box.width() <= width and box.height() <= height
    lines = text.split("\n")
    widest = max(metrics.horizontalAdvance(part) for part in lines)
    return widest <= width and line * len(lines) <= height


def fitting_px(
    text: str,
    family: str,
    bold: bool,
    width: int,
    height: int,
    *,
    max_px: int,
    min_px: int,
    wrap: bool = False,
) -> int:
    """The largest pixel size in [min_px, max_px] at which `text` fits (min_px if none)."""
    low, high = min_px, max(min_px, max_px)
    if text_fits(text, style.font(family, high, bold), width, height, wrap):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if text_fits(text, style.font(family, middle, bold), width, height, wrap):
            low = middle
        else:
            high = middle
    return low


class FitLabel(QLabel):
    """A label whose font shrinks from `max_px` (times the window's scale) until its text fits.

    `colour` and `extra` (more style sheet declarations) are kept with the chosen size."""

    def __init__(
        self,
        max_px: int,
        *,
        min_px: int = 12,
        bold: bool = False,
        wrap: bool = False,
        fill: bool = False,
        colour: str = style.TEXT,
        extra: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(wrap)
        # Room for glyphs that reach past their advance ("J", italic-like overhangs).
        self.setContentsMargins(3, 0, 3, 0)
        self.base_px = max_px
        self.min_px = min_px
        self.bold = bold
        self.colour = colour
        self.extra = extra
        self.scale = 1.0
        self.family = style.PREFERRED_FAMILIES[0]
        self.px = 0
        # `fill`: the layout gives the height (a stretch), and the text fits that too.
        self.fill = fill
        vertical = QSizePolicy.Policy.Ignored if fill else QSizePolicy.Policy.Preferred
        self.setSizePolicy(QSizePolicy.Policy.Ignored, vertical)
        self._apply(self.max_px())

    def max_px(self) -> int:
        return max(self.min_px, round(self.base_px * self.scale))

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self.refit()

    def setText(self, text: str) -> None:
        if text != self.text():
            super().setText(text)
            self.refit()

    def minimumSizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        return QSize(0, max(metrics.height(), round(self.min_px * LINE_EM)))

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        lines = 1 if self.wordWrap() else max(1, self.text().count("\n") + 1)
        line = max(QFontMetrics(self.font()).height(), round(self.px * LINE_EM))
        return QSize(hint.width(), max(hint.height(), line * lines))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.refit()

    def refit(self) -> None:
        rect = self.contentsRect()
        if rect.width() <= 0 or (self.fill and rect.height() <= 0):
            return
        px = fitting_px(
            self.text(),
            self.font().family() or self.family,
            self.bold,
            rect.width(),
            rect.height() if self.fill else 100_000,
            max_px=self.max_px(),
            min_px=self.min_px,
            wrap=self.wordWrap(),
        )
        self._apply(px)

    def _apply(self, px: int) -> None:
        if px == self.px:
            return
        self.px = px
        weight = "bold" if self.bold else "normal"
        # No colour: the window's style sheet gives it (e.g. grey on a disabled button).
        colour = f"color: {self.colour};" if self.colour else ""
        self.setStyleSheet(f"font-size: {px}px; font-weight: {weight}; {colour} {self.extra}")
        self.updateGeometry()
