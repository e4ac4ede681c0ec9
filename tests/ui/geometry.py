"""Geometry checks for any Qt screen, measured on the real widgets (no pixels guessed by eye).

Shared by the kiosk, counter and board tests. Each check returns a list of `Problem`s (empty
when the screen is right), so a test can assert on all of them at once and print every fault:

    problems = check_screen(window, min_text_px=24)
    assert not problems, describe(problems)

- `overlapping_siblings`: two visible widgets with the same parent overlap.
- `outside_parent`: a visible widget reaches outside its parent (the parent clips it).
- `clipped_texts`: a label's or a button's text does not fit its rectangle, in either axis:
  the ink of every line (font metrics, so stacked Vietnamese diacritics such as "Ẩ" and "ộ"
  count) must lie inside the widget; a word wider than the line is cut, a wrapped text taller
  than the box is cut.
- `small_texts`: text drawn below a minimum pixel size.
- `painted_text_problems`: widgets that paint their own text say what they drew through a
  `painted_texts()` method returning objects shaped like `PaintedText` (lines, font, the box
  they must stay in, optionally baselines, starts, centred); the same checks apply to them.
- `glyphs_inside`: the ink of a text drawn at a baseline lies inside a box.
- `decode_qr`: the texts of the QR codes found in a screenshot (zxing-cpp).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PIL import Image
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QWidget,
)

# Anti-aliasing and rounding: a pixel of ink on an edge is not a cut.
TOLERANCE_PX = 1.0


@dataclass(frozen=True)
class Problem:
    kind: str  # overlap, outside, clipped, small, glyphs, qr
    widget: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.widget}: {self.detail}"


@dataclass(frozen=True)
class PaintedText:
    """Text a widget painted itself: its lines, their font and the box (widget coordinates)
    every line's ink must stay inside. `baselines` are the y of each line's baseline; empty
    means the lines are stacked from the top of `box` at the font's line spacing."""

    lines: Sequence[str]
    font: QFont
    box: QRectF
    baselines: Sequence[float] = field(default_factory=tuple)
    # x where each line starts (empty: box.left(), or centred when `centred`)
    starts: Sequence[float] = field(default_factory=tuple)
    centred: bool = False


def describe(problems: Iterable[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def widget_name(widget: QWidget) -> str:
    name = widget.objectName()
    text = ""
    if isinstance(widget, QLabel | QAbstractButton):
        text = widget.text().replace("\n", " ")[:40]
    kind = type(widget).__name__
    label = f"{kind}#{name}" if name else kind
    return f"{label} {text!r}" if text else label


def shown_widgets(root: QWidget) -> list[QWidget]:
    """Every widget under `root` (itself included) that is on screen."""
    found = [root]
    found += [w for w in root.findChildren(QWidget) if w.isVisibleTo(root) and _chain_shown(w)]
    return found


def _chain_shown(widget: QWidget) -> bool:
    current: QWidget | None = widget
    while current is not None:
        if current.isHidden():
            return False
        current = current.parentWidget()
    return True


def _children(widget: QWidget) -> list[QWidget]:
    return [
        c
        for c in widget.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if not c.isHidden() and not c.isWindow()
    ]


def _in_scroll_machinery(widget: QWidget) -> bool:
    """A scroll area's own viewport, scroll bars and their containers place themselves."""
    parent = widget.parentWidget()
    return isinstance(parent, QAbstractScrollArea) or (
        parent is not None and isinstance(parent.parentWidget(), QAbstractScrollArea)
    )


def overlapping_siblings(root: QWidget, ignore: Iterable[QWidget] = ()) -> list[Problem]:
    """Visible widgets with the same parent whose rectangles intersect (beyond a pixel)."""
    skip = set(map(id, ignore))
    problems: list[Problem] = []
    for parent in shown_widgets(root):
        if isinstance(parent, QAbstractScrollArea):
            continue
        children = [c for c in _children(parent) if id(c) not in skip]
        for index, first in enumerate(children):
            a = QRectF(first.geometry()).adjusted(
                TOLERANCE_PX, TOLERANCE_PX, -TOLERANCE_PX, -TOLERANCE_PX
            )
            for second in children[index + 1 :]:
                if a.intersects(QRectF(second.geometry())):
                    problems.append(
                        Problem(
                            "overlap",
                            widget_name(first),
                            f"{_rect(first.geometry())} overlaps {widget_name(second)} "
                            f"{_rect(second.geometry())} in {widget_name(parent)}",
                        )
                    )
    return problems


def outside_parent(root: QWidget) -> list[Problem]:
    """Visible widgets that reach outside their parent's rectangle (so the parent clips them)."""
    problems: list[Problem] = []
    for widget in shown_widgets(root)[1:]:
        parent = widget.parentWidget()
        if parent is None or _in_scroll_machinery(widget):
            continue
        inside = QRectF(parent.rect()).adjusted(
            -TOLERANCE_PX, -TOLERANCE_PX, TOLERANCE_PX, TOLERANCE_PX
        )
        if not inside.contains(QRectF(widget.geometry())):
            problems.append(
                Problem(
                    "outside",
                    widget_name(widget),
                    f"{_rect(widget.geometry())} outside {widget_name(parent)} "
                    f"{parent.width()}x{parent.height()}",
                )
            )
    return problems


def ink_rect(line: str, font: QFont, x: float, baseline: float) -> QRectF:
    """Where the glyphs of `line` land when drawn at (x, baseline): their real ink, accents
    above and below included (not the font's nominal ascent and descent)."""
    metrics = QFontMetricsF(font)
    return metrics.tightBoundingRect(line).translated(x, baseline)


def glyphs_inside(
    text: str, font: QFont, x: float, baseline: float, box: QRectF, what: str = "text"
) -> list[Problem]:
    ink = ink_rect(text, font, x, baseline)
    grown = box.adjusted(-TOLERANCE_PX, -TOLERANCE_PX, TOLERANCE_PX, TOLERANCE_PX)
    if ink.isEmpty() or grown.contains(ink):
        return []
    return [Problem("glyphs", what, f"ink of {text!r} {_rect(ink)} leaves {_rect(box)}")]


def _label_lines(label: QLabel, width: float) -> list[str]:
    text = label.text()
    if not label.wordWrap():
        return text.split("\n")
    from PySide6.QtGui import QTextLayout, QTextOption

    lines: list[str] = []
    for paragraph in text.split("\n"):
        layout = QTextLayout(paragraph, label.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            start = line.textStart()
            lines.append(paragraph[start : start + line.textLength()].rstrip())
        layout.endLayout()
    return lines


def _text_block_problems(
    widget: QWidget,
    lines: Sequence[str],
    font: QFont,
    area: QRectF,
    alignment: Qt.AlignmentFlag,
    bounds: QRectF,
) -> list[Problem]:
    """Lay `lines` out as QStyle::drawItemText does inside `area` and check each line's ink
    lies inside `bounds` (what the widget can show), and each line inside the area's width."""
    metrics = QFontMetricsF(font)
    line_height = metrics.lineSpacing()
    total = metrics.height() + line_height * (len(lines) - 1)
    if alignment & Qt.AlignmentFlag.AlignTop:
        top = area.top()
    elif alignment & Qt.AlignmentFlag.AlignBottom:
        top = area.bottom() - total
    else:
        top = area.top() + (area.height() - total) / 2
    problems: list[Problem] = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        advance = metrics.horizontalAdvance(line)
        if advance > area.width() + TOLERANCE_PX:
            problems.append(
                Problem(
                    "clipped",
                    widget_name(widget),
                    f"line {line!r} is {advance:.0f} px wide in a {area.width():.0f} px box",
                )
            )
            continue
        if alignment & Qt.AlignmentFlag.AlignRight:
            x = area.right() - advance
        elif alignment & Qt.AlignmentFlag.AlignHCenter:
            x = area.left() + (area.width() - advance) / 2
        else:
            x = area.left()
        baseline = top + index * line_height + metrics.ascent()
        problems += glyphs_inside(line, font, x, baseline, bounds, widget_name(widget))
    return problems


def _label_problems(label: QLabel) -> list[Problem]:
    if not label.text() or label.textFormat() == Qt.TextFormat.RichText:
        return []
    label.ensurePolished()
    area = QRectF(label.contentsRect())
    margin = label.margin()
    area.adjust(margin, margin, -margin, -margin)
    if label.indent() > 0:
        area.adjust(label.indent(), 0, 0, 0)
    lines = _label_lines(label, area.width())
    problems = []
    if label.wordWrap():
        metrics = QFontMetricsF(label.font())
        for word in label.text().split():
            if metrics.horizontalAdvance(word) > area.width() + TOLERANCE_PX:
                problems.append(
                    Problem(
                        "clipped",
                        widget_name(label),
                        f"word {word!r} wider than {area.width():.0f} px",
                    )
                )
    alignment = label.alignment()
    if not alignment & Qt.AlignmentFlag.AlignVertical_Mask:
        alignment |= Qt.AlignmentFlag.AlignVCenter
    return problems + _text_block_problems(
        label, lines, label.font(), area, alignment, QRectF(label.rect())
    )


def _button_problems(button: QPushButton) -> list[Problem]:
    if not button.text():
        return []
    button.ensurePolished()
    option = QStyleOptionButton()
    option.initFrom(button)
    option.text = button.text()
    option.rect = button.rect()
    area = QRectF(
        button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)
    )
    lines = button.text().replace("&&", "&").split("\n")
    return _text_block_problems(
        button, lines, button.font(), area, Qt.AlignmentFlag.AlignCenter, QRectF(button.rect())
    )


def painted_text_problems(widget: QWidget, min_px: int = 0) -> list[Problem]:
    """Check what a widget says it painted (`painted_texts()`): each line's ink in its box."""
    texts: Iterable[PaintedText] = getattr(widget, "painted_texts", lambda: ())()
    problems: list[Problem] = []
    for painted in texts:
        metrics = QFontMetricsF(painted.font)
        px = _pixel_size(painted.font)
        if min_px and px < min_px and any(line.strip() for line in painted.lines):
            problems.append(
                Problem("small", widget_name(widget), f"{px:.0f} px text {painted.lines[0]!r}")
            )
        baselines = getattr(painted, "baselines", ())
        starts = getattr(painted, "starts", ())
        for index, line in enumerate(painted.lines):
            if not line.strip():
                continue
            if baselines:
                baseline = baselines[index]
            else:
                baseline = painted.box.top() + index * metrics.lineSpacing() + metrics.ascent()
            advance = metrics.horizontalAdvance(line)
            if starts:
                x = starts[index]
            elif getattr(painted, "centred", False):
                x = painted.box.left() + (painted.box.width() - advance) / 2
            else:
                x = painted.box.left()
            if advance > painted.box.width() + TOLERANCE_PX:
                problems.append(
                    Problem(
                        "clipped",
                        widget_name(widget),
                        f"line {line!r} is {advance:.0f} px wide in a "
                        f"{painted.box.width():.0f} px box",
                    )
                )
                continue
            problems += glyphs_inside(
                line, painted.font, x, baseline, painted.box, widget_name(widget)
            )
    return problems


def clipped_texts(root: QWidget) -> list[Problem]:
    """Labels, push buttons and self-painting widgets whose text does not fit, in x or y."""
    problems: list[Problem] = []
    for widget in shown_widgets(root):
        if isinstance(widget, QLabel):
            problems += _label_problems(widget)
        elif isinstance(widget, QPushButton):
            problems += _button_problems(widget)
        problems += painted_text_problems(widget)
    return problems


def _pixel_size(font: QFont) -> float:
    if font.pixelSize() > 0:
        return float(font.pixelSize())
    return QFontMetricsF(font).height() / 1.17  # a point-sized font: about its em


def small_texts(root: QWidget, min_px: int) -> list[Problem]:
    """Text on screen set in a font smaller than `min_px` pixels."""
    problems: list[Problem] = []
    for widget in shown_widgets(root):
        if isinstance(widget, QLabel | QPushButton) and widget.text().strip():
            widget.ensurePolished()
            px = _pixel_size(widget.font())
            if px < min_px:
                problems.append(Problem("small", widget_name(widget), f"{px:.0f} px < {min_px}"))
        texts: Iterable[PaintedText] = getattr(widget, "painted_texts", lambda: ())()
        for painted in texts:
            px = _pixel_size(painted.font)
            if px < min_px and any(line.strip() for line in painted.lines):
                problems.append(
                    Problem(
                        "small",
                        widget_name(widget),
                        f"{px:.0f} px < {min_px} for {painted.lines[0]!r}",
                    )
                )
    return problems


def check_screen(
    root: QWidget, *, min_text_px: int = 0, ignore_overlap: Iterable[QWidget] = ()
) -> list[Problem]:
    """All the layout checks at once (the caller has shown and sized `root`)."""
    problems = overlapping_siblings(root, ignore_overlap)
    problems += outside_parent(root)
    problems += clipped_texts(root)
    if min_text_px:
        problems += small_texts(root, min_text_px)
    return problems


def window_rect(widget: QWidget, root: QWidget) -> QRect:
    """`widget`'s rectangle in `root`'s coordinates."""
    return QRect(widget.mapTo(root, QPoint(0, 0)), widget.size())


def to_pil(image: QImage) -> Image.Image:
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    data = bytes(gray.constBits())[: stride * height]
    return Image.frombuffer("L", (width, height), data, "raw", "L", stride, 1)


def decode_qr(image: QImage) -> list[str]:
    """The texts of every QR code zxing-cpp finds in `image` (a widget's grab().toImage())."""
    import zxingcpp

    return [
        result.text
        for result in zxingcpp.read_barcodes(to_pil(image))
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def _rect(rect: QRect | QRectF) -> str:
    return f"({rect.x():.0f},{rect.y():.0f} {rect.width():.0f}x{rect.height():.0f})"
