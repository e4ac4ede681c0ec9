"""The kiosk's department tile: an accent band in the department's colour, its name as large as
fits, and under it people waiting and the wait, or why it takes no numbers now (with the
hospital's reason when the operations console paused it).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QWidget

from kiosk.ui import style
from kiosk.ui.widgets import LINE_HEIGHT, TextBlock, draw_block, fit_text, place_lines, wrap_lines


@dataclass(frozen=True)
class DepartmentTileText:
    """Everything a department tile shows, already in the current language."""

    name: str
    status: str
    status_short: str
    unavailable: str = ""
    # Why the hospital paused it (the operations console's words), shown after `unavailable`.
    reason: str = ""
    # `unavailable` in a word or two, before the reason on a tile with room for one line.
    unavailable_short: str = ""


class DepartmentButton(QAbstractButton):
    """One department: an accent band in its colour, its name, people waiting and the wait."""

    def __init__(self, code: str, color: str, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self.color = color
        self.family = family
        self.texts = DepartmentTileText("", "", "")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setObjectName(f"department-{code}")

    def set_texts(self, texts: DepartmentTileText) -> None:
        self.texts = texts
        self.setAccessibleName(texts.name)
        self.setAccessibleDescription(
            " ".join(t for t in (texts.unavailable, texts.reason) if t) or texts.status
        )
        self.setText(texts.name)
        self.update()

    def visible_texts(self) -> list[str]:
        """What the tile shows, as drawn (a long reason cut between words, with "…")."""
        name, status = self.text_blocks()
        return [" ".join(name.lines), " ".join(status.lines)]

    def sizeHint(self) -> QSize:
        return QSize(480, 200)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        unavailable = bool(self.texts.unavailable)
        enabled = self.isEnabled() and not unavailable
        if self.isDown():
            background = style.PRESSED
        elif enabled:
            background = style.SURFACE
        else:
            background = style.DISABLED_BG
        path = QPainterPath()
        path.addRoundedRect(rect, 18, 18)
        painter.fillPath(path, QColor(background))
        # Accent band on the left, clipped to the rounded card.
        band = 30 if rect.width() >= 420 else 22
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(rect.left(), rect.top(), band, rect.height()), QColor(self.color))
        painter.restore()
        border = QColor(style.PRIMARY if self.isDown() else style.BORDER)
        painter.setPen(QPen(border, 4 if self.isDown() else 3))
        painter.drawPath(path)

        name, status = self.text_blocks()
        painter.setPen(QColor(style.TEXT if enabled else style.DISABLED_TEXT))
        draw_block(painter, name)
        painter.setPen(QColor(style.DANGER if unavailable else style.TEXT_MUTED))
        draw_block(painter, status)
        painter.end()

    def text_blocks(self) -> tuple[TextBlock, TextBlock]:
        """The name, as large as fits and never smaller than the status line under it."""
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        band = 30 if rect.width() >= 420 else 22
        pad = 18.0
        inner = rect.adjusted(band + pad, pad * 0.5, -pad, -pad * 0.5)
        unavailable = bool(self.texts.unavailable)
        name_max = int(max(style.NAME_PX, min(72, rect.height() * 0.26)))
        status_max = int(max(28, min(40, rect.height() * 0.15)))
        for _ in range(3):
            status_lines, status_font, status_px = self._status(
                inner.width(), status_max, unavailable, inner.height()
            )
            status_height = status_px * LINE_HEIGHT * len(status_lines)
            name_box = QRectF(
                inner.left(), inner.top(), inner.width(), inner.height() - status_height
            )
            name_font, name_lines = fit_text(
                self.texts.name,
                self.family,
                name_box.width(),
                name_box.height(),
                max_px=name_max,
                min_px=max(status_px, NAME_FLOOR_PX),
            )
            if name_font.pixelSize() >= status_px or status_px <= STATUS_MIN_PX:
                break
            # The name had to go below the status line: the status line gives way first.
            status_max = max(STATUS_MIN_PX, name_font.pixelSize())
        status_box = QRectF(inner.left(), inner.bottom() - status_height, inner.width(), 0)
        status_box.setHeight(status_height)
        return (
            place_lines(name_lines, name_font, name_box, vcenter=True),
            place_lines(status_lines, status_font, status_box),
        )

    def _status(
        self, width: float, max_px: int, unavailable: bool, height: float = 0.0
    ) -> tuple[list[str], QFont, int]:
        """The status on one line, full or short, as large as fits (it stays under the name's
        size); two lines only when not even the short form fits at the smallest size."""
        if unavailable and self.texts.reason:
            return self._paused_status(width, max_px, height)
        full = self.texts.unavailable or self.texts.status
        short = self.texts.unavailable or self.texts.status_short
        for px in range(max_px, STATUS_MIN_PX - 1, -2):
            status_font = style.font(self.family, px, bold=unavailable)
            metrics = QFontMetricsF(status_font)
            for text in (full, short):
                if metrics.horizontalAdvance(text) <= width:
                    return [text], status_font, px
        status_font = style.font(self.family, STATUS_MIN_PX, bold=unavailable)
        return wrap_lines(short, status_font, width)[:2], status_font, STATUS_MIN_PX

    def _paused_status(
        self, width: float, max_px: int, height: float
    ) -> tuple[list[str], QFont, int]:
        """ "Paused: <the hospital's reason>" on one line when it fits; else the reason on the
        lines below, in the height the name leaves (the name at its smallest size), cut only
        between words and marked with "…" when it is longer than that. In regular weight:
        the words of a reason need the room more than the bold."""
        label, reason = self.texts.unavailable, self.texts.reason
        joined = f"{label}: {reason}"
        name_font = style.font(self.family, NAME_FLOOR_PX, bold=True)
        name_lines = len(wrap_lines(self.texts.name, name_font, width)) or 1
        room = height - name_lines * NAME_FLOOR_PX * LINE_HEIGHT if height else float("inf")
        for px in range(max_px, STATUS_MIN_PX - 1, -2):
            font = style.font(self.family, px)
            if QFontMetricsF(font).horizontalAdvance(joined) <= width and px * LINE_HEIGHT <= room:
                return [joined], font, px
        for px in range(max_px, STATUS_MIN_PX - 1, -2):
            font = style.font(self.family, px)
            metrics = QFontMetricsF(font)
            widest = max(metrics.horizontalAdvance(label), metrics.horizontalAdvance(reason))
            if widest <= width and 2 * px * LINE_HEIGHT <= room:
                return [label, reason], font, px
        for px in range(max_px, STATUS_MIN_PX, -2):
            # A tall tile: the reason wrapped whole, under half of it, larger than the floor.
            font = style.font(self.family, px)
            lines = [*wrap_lines(label, font, width), *wrap_lines(reason, font, width)]
            if len(lines) <= 4 and len(lines) * px * LINE_HEIGHT <= min(room, height / 2):
                return lines, font, px
        font = style.font(self.family, STATUS_MIN_PX)
        budget = min(4, int(room // (STATUS_MIN_PX * LINE_HEIGHT)))
        label_lines = wrap_lines(label, font, width)
        if budget > len(label_lines):
            lines = [*label_lines, *elide_words(reason, font, width, budget - len(label_lines))]
            return lines, font, STATUS_MIN_PX
        if budget >= 1:
            # One line: "Paused: <reason>", cut after a whole word of the reason, or nothing.
            short = self.texts.unavailable_short or label
            lines = elide_words(f"{short}: {reason}", font, width, budget)
            shown = " ".join(lines)
            if shown.startswith(f"{short}: ") and shown.removesuffix("…") != f"{short}:":
                return lines, font, STATUS_MIN_PX
        # No room for the reason beside the name: the pause alone, as without one.
        return label_lines[:2], font, STATUS_MIN_PX

    def painted_texts(self) -> list[TextBlock]:
        return list(self.text_blocks())


def elide_words(text: str, font: QFont, width: float, max_lines: int) -> list[str]:
    """`text` wrapped into at most `max_lines` lines of `width`; when it is longer, the last
    line ends after its last whole word that leaves room for "…" (never inside a word)."""
    lines = wrap_lines(text, font, width)
    if len(lines) <= max_lines:
        return lines
    metrics = QFontMetricsF(font)
    kept = lines[:max_lines]
    words = kept[-1].split()
    while words and metrics.horizontalAdvance(" ".join(words) + "…") > width:
        words.pop()
    if words:
        kept[-1] = " ".join(words) + "…"
    else:  # one word wider than the line: Qt's elision is all that is left
        kept[-1] = metrics.elidedText(kept[-1], Qt.TextElideMode.ElideRight, width)
    return kept


# The status line under a department's name ("12 người chờ") shrinks to this before the name
# would have to go below it; a name never goes below NAME_FLOOR_PX.
STATUS_MIN_PX = 24
NAME_FLOOR_PX = 24
