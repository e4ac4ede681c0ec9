"""The ticket layout: one 1-bit raster image drawn with Pillow and qrcode.

The ticket is built as a column of blocks (hospital, department, the code, priority mark, ...),
each a full-width strip. `render_ticket` stacks them into the image that is printed, shown on the
kiosk's screen and saved by `--png`; the compact ESC/POS encoding (printer/encoding.py) sends the
blocks that have a plain-ASCII or QR form natively and rasterises only the rest.

Sizes are in printer dots (8 dots/mm on both papers): 576 dots wide on 80 mm paper, 384 on 58 mm.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from kiosk.config import Config

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"
FONT_CONDENSED_BOLD = "DejaVuSansCondensed-Bold.ttf"

DOTS_PER_MM = 8
PAPER_DOTS = {80: 576, 58: 384}
QR_QUIET_MODULES = 4
WHITE = 255
BLACK = 0

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "number": "SỐ THỨ TỰ CỦA BẠN",
        "go_to": "Nơi khám",
        "ahead": "Số người đang chờ trước bạn",
        "wait": "Thời gian chờ dự kiến",
        "wait_value": "khoảng {minutes} phút",
        "next": "Sắp đến lượt bạn",
        "issued": "Giờ lấy số",
        "scan": "Quét mã để xem lượt của bạn",
        "priority": "Ưu tiên",
        "reprint": "IN LẠI",
    },
    "en": {
        "number": "YOUR NUMBER",
        "go_to": "Where to go",
        "ahead": "People ahead of you",
        "wait": "Estimated wait",
        "wait_value": "about {minutes} min",
        "next": "You are next",
        "issued": "Issued",
        "scan": "Scan to follow your turn",
        "priority": "Priority",
        "reprint": "REPRINT",
    },
}

# The groups the Law on Medical Examination and Treatment 2023, Art. 3(2), puts first.
PRIORITY_REASONS: dict[str, dict[str, str]] = {
    "vi": {
        "emergency": "Cấp cứu",
        "child_under_6": "Trẻ em dưới 6 tuổi",
        "pregnant": "Phụ nữ có thai",
        "disability": "Người khuyết tật nặng",
        "elderly_75": "Người từ 75 tuổi",
        "merit": "Người có công với cách mạng",
    },
    "en": {
        "emergency": "Emergency",
        "child_under_6": "Child under 6",
        "pregnant": "Pregnant woman",
        "disability": "Person with a severe disability",
        "elderly_75": "Aged 75 or over",
        "merit": "Person with merit to the revolution",
    },
}


@dataclass(frozen=True)
class TicketContent:
    hospital_name: str
    department_name: str
    code: str
    priority_label: str | None  # already translated, e.g. "Ưu tiên: Người từ 75 tuổi"
    directions: str  # room / where to go, translated
    ahead: int
    estimated_wait_minutes: int
    issued_at: dt.datetime  # aware; printed in its own time zone (the hospital's local time)
    status_url: str
    footer: str
    language: str = "vi"  # "vi" or "en": the labels on the ticket
    reprint: bool = False  # a staff reprint: marked as such on the ticket


@dataclass(frozen=True)
class Style:
    """Dimensions of one paper width, in dots."""

    width: int
    margin: int
    code_cap_height: int  # the ticket code's capital height: >= 96 dots (12 mm)
    qr_module: int
    hospital: int
    department: int
    label: int
    value: int
    body: int
    small: int

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin


STYLES = {
    80: Style(
        width=576,
        margin=16,
        code_cap_height=168,
        qr_module=5,
        hospital=28,
        department=44,
        label=26,
        value=34,
        body=28,
        small=24,
    ),
    58: Style(
        width=384,
        margin=10,
        code_cap_height=120,
        qr_module=4,
        hospital=22,
        department=34,
        label=22,
        value=28,
        body=23,
        small=20,
    ),
}


@dataclass(frozen=True)
class Block:
    """One full-width strip of the ticket and, where it has one, its native ESC/POS form."""

    name: str
    image: Image.Image  # mode "L", the paper's width
    native_text: str | None = None  # plain ASCII the printer can print with its own font
    native_scale: int = 1  # character magnification for native_text (1-8)
    native_bold: bool = False
    qr_data: str | None = None  # a QR code the printer can draw itself
    qr_module: int = 0


# -- fonts and text ---------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _regular(size: int) -> ImageFont.FreeTypeFont:
    return font(FONT_REGULAR, size)


def _bold(size: int) -> ImageFont.FreeTypeFont:
    return font(FONT_BOLD, size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break text into lines no wider than `width`; words longer than a line are split."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if face.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while face.getlength(word) > width:
                cut = max(1, _fitting_prefix(word, face, width))
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _fitting_prefix(word: str, face: ImageFont.FreeTypeFont, width: int) -> int:
    for end in range(len(word), 0, -1):
        if face.getlength(word[:end]) <= width:
            return end
    return 0


Run = tuple[str, ImageFont.FreeTypeFont]


def _line_extent(runs: Sequence[Run]) -> tuple[int, int, int]:
    """(width, height above the baseline, height below it) of a line of runs."""
    width = 0.0
    above = below = 0
    for text, face in runs:
        ascent, descent = face.getmetrics()
        _left, top, _right, bottom = face.getbbox(text or " ", anchor="ls")
        above = max(above, ascent, math.ceil(-top))
        below = max(below, descent, math.ceil(bottom))
        width += face.getlength(text)
    return math.ceil(width), above, below


def _canvas(width: int, height: int, color: int = WHITE) -> Image.Image:
    return Image.new("L", (width, max(1, height)), color)


def text_lines(
    lines: Sequence[Sequence[Run]],
    style: Style,
    *,
    align: str = "center",
    gap: int = 4,
    pad_top: int = 0,
    pad_bottom: int = 0,
    ink: int = BLACK,
    paper: int = WHITE,
    width: int | None = None,
    indent: int | None = None,
) -> Image.Image:
    """Draw lines of runs (text, font), each line centred (or left-aligned) in the strip."""
    width = width or style.width
    indent = style.margin if indent is None else indent
    inner = width - 2 * indent if align == "center" else width - indent - style.margin
    extents = [_line_extent(runs) for runs in lines]
    height = pad_top + sum(a + b for _, a, b in extents) + gap * (len(lines) - 1) + pad_bottom
    image = _canvas(width, height, paper)
    draw = ImageDraw.Draw(image)
    y = pad_top
    for runs, (line_width, above, below) in zip(lines, extents, strict=True):
        x = float(indent + (inner - line_width) / 2 if align == "center" else indent)
        for text, face in runs:
            draw.text((x, y + above), text, font=face, fill=ink, anchor="ls")
            x += face.getlength(text)
        y += above + below + gap
    return image


def paragraph(
    text: str, face: ImageFont.FreeTypeFont, style: Style, **options: int | str
) -> Image.Image:
    """A wrapped, centred paragraph in one font."""
    lines = [[(line, face)] for line in wrap(text, face, style.inner)]
    return text_lines(lines, style, **options)  # type: ignore[arg-type]


def label_value(
    label: str, value: str, style: Style, *, label_size: int, value_size: int
) -> Image.Image:
    """'Label: value' on one line when it fits, else the label wrapped above the value."""
    label_face, value_face = _regular(label_size), _bold(value_size)
    one_line: list[Run] = [(f"{label}: ", label_face), (value, value_face)]
    if _line_extent(one_line)[0] <= style.inner:
        return text_lines([one_line], style)
    lines: list[list[Run]] = [
        [(line, label_face)] for line in wrap(f"{label}:", label_face, style.inner)
    ]
    lines += [[(line, value_face)] for line in wrap(value, value_face, style.inner)]
    return text_lines(lines, style)


def stack(images: Sequence[Image.Image], width: int, gap: int = 0) -> Image.Image:
    height = sum(image.height for image in images) + gap * max(0, len(images) - 1)
    out = _canvas(width, height)
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height + gap
    return out


def space(style: Style, height: int) -> Image.Image:
    return _canvas(style.width, height)


def rule(style: Style, *, dashed: bool = False, thickness: int = 2, pad: int = 10) -> Image.Image:
    image = _canvas(style.width, thickness + 2 * pad)
    draw = ImageDraw.Draw(image)
    top = pad
    if dashed:
        for x in range(style.margin, style.width - style.margin, 16):
            draw.rectangle((x, top, x + 8, top + thickness - 1), fill=BLACK)
    else:
        draw.rectangle(
            (style.margin, top, style.width - style.margin - 1, top + thickness - 1), fill=BLACK
        )
    return image


# -- the blocks -------------------------------------------------------------------------


def _cap_ratio(name: str) -> float:
    face = font(name, 200)
    _, top, _, bottom = face.getbbox("H", anchor="ls")
    return (bottom - top) / 200


def code_block(code: str, style: Style) -> Image.Image:
    """The ticket code, as large as the paper allows and never under 12 mm tall."""
    name = FONT_BOLD
    size = round(style.code_cap_height / _cap_ratio(name))
    if _bold(size).getlength(code) > style.inner:
        name = FONT_CONDENSED_BOLD
        size = round(style.code_cap_height / _cap_ratio(name))
    face = font(name, size)
    left, top, right, bottom = (round(edge) for edge in face.getbbox(code, anchor="ls"))
    glyphs = _canvas(right - left, bottom - top)
    ImageDraw.Draw(glyphs).text((-left, -top), code, font=face, fill=BLACK, anchor="ls")
    if glyphs.width > style.inner:
        # A long code keeps its height and is narrowed to fit: height is what makes it legible.
        glyphs = glyphs.resize((style.inner, glyphs.height), Image.Resampling.LANCZOS)
    pad = style.code_cap_height // 10
    image = _canvas(style.width, glyphs.height + 2 * pad)
    image.paste(glyphs, ((style.width - glyphs.width) // 2, pad))
    return image


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, fill: int) -> None:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=fill)


def priority_block(label: str, language: str, style: Style) -> Image.Image:
    """A black band: a star pictogram, the word (ƯU TIÊN / PRIORITY) and the reason."""
    word = LABELS.get(language, LABELS["vi"])["priority"]
    head, _, reason = label.partition(":")
    if not reason:
        head, reason = word, label
    head_face, reason_face = _bold(style.value), _bold(style.body)
    star = style.value + 16
    indent = style.margin + 14 + star + 14
    text_width = style.width - indent - style.margin - 14
    lines: list[list[Run]] = [[(head.strip().upper(), head_face)]]
    lines += [[(line, reason_face)] for line in wrap(reason.strip(), reason_face, text_width)]
    text = text_lines(
        lines,
        style,
        align="left",
        indent=indent,
        pad_top=12,
        pad_bottom=12,
        gap=6,
        ink=WHITE,
        paper=BLACK,
    )
    height = max(text.height, star + 24)
    band = _canvas(style.width, height, BLACK)
    band.paste(text, (0, (height - text.height) // 2))
    draw = ImageDraw.Draw(band)
    _star(draw, style.margin + 14 + star / 2, height / 2, star / 2, WHITE)
    # White paper outside the margins, so the band sits inside the printable width.
    draw.rectangle((0, 0, style.margin - 1, height), fill=WHITE)
    draw.rectangle((style.width - style.margin, 0, style.width, height), fill=WHITE)
    return band


def qr_image(data: str, module: int) -> Image.Image:
    """The QR code with its 4-module quiet zone, `module` dots per module."""
    code = qrcode.QRCode(
        version=None,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=module,
        border=QR_QUIET_MODULES,
    )
    code.add_data(data)
    code.make(fit=True)
    image: Image.Image = code.make_image().get_image().convert("L")
    return image


def qr_block(data: str, style: Style) -> tuple[Image.Image, int]:
    probe = qr_image(data, 1)
    module = max(1, min(style.qr_module, style.inner // probe.width))
    code = qr_image(data, module)
    image = _canvas(style.width, code.height)
    image.paste(code, ((style.width - code.width) // 2, 0))
    return image, module


def department_block(name: str, style: Style) -> Image.Image:
    """The department in large bold; a long name gets a smaller size before a third line."""
    sizes = [style.department, round(style.department * 0.85), round(style.department * 0.72)]
    for size in sizes:
        if len(wrap(name, _bold(size), style.inner)) <= 2:
            break
    return paragraph(name, _bold(size), style, gap=6, pad_bottom=6)


def _local_time(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M  %d/%m/%Y")


def layout_ticket(content: TicketContent, paper_width_mm: int = 80) -> list[Block]:
    """The ticket as blocks, top to bottom; `render_ticket` stacks them."""
    if paper_width_mm not in STYLES:
        raise ValueError(f"paper width {paper_width_mm} mm: expected one of 58, 80")
    style = STYLES[paper_width_mm]
    words = LABELS.get(content.language, LABELS["vi"])
    blocks: list[Block] = [Block("top", space(style, 8))]

    def add(name: str, image: Image.Image, text: str | None = None, **native: int | bool) -> None:
        plain = text if text is not None and text.isascii() else None
        blocks.append(Block(name, image, native_text=plain, **native))  # type: ignore[arg-type]

    if content.reprint:
        add("reprint", paragraph(f"— {words['reprint']} —", _bold(style.small), style), None)
    add(
        "hospital",
        paragraph(content.hospital_name, _bold(style.hospital), style),
        content.hospital_name,
        native_bold=True,
    )
    add("rule", rule(style, pad=8))
    add(
        "department",
        department_block(content.department_name, style),
        content.department_name,
        native_scale=2,
        native_bold=True,
    )
    add("space", space(style, 10))
    add("number_label", paragraph(words["number"], _regular(style.label), style), words["number"])
    add("code", code_block(content.code, style), content.code, native_scale=0, native_bold=True)
    if content.priority_label:
        add("priority", priority_block(content.priority_label, content.language, style))
        add("space", space(style, 10))
    if content.directions:
        lines: list[list[Run]] = [[(f"{words['go_to']}:", _regular(style.label))]]
        face = _bold(style.value)
        lines += [[(line, face)] for line in wrap(content.directions, face, style.inner)]
        add(
            "directions",
            text_lines(lines, style, gap=6),
            f"{words['go_to']}: {content.directions}",
            native_bold=True,
        )
        add("space", space(style, 8))
    ahead = str(content.ahead)
    add(
        "ahead",
        label_value(words["ahead"], ahead, style, label_size=style.body, value_size=style.value),
        f"{words['ahead']}: {ahead}",
    )
    if content.ahead > 0 and content.estimated_wait_minutes > 0:
        wait_label, wait_value = (
            words["wait"],
            words["wait_value"].format(minutes=content.estimated_wait_minutes),
        )
        wait = label_value(
            wait_label, wait_value, style, label_size=style.body, value_size=style.body
        )
        add("wait", wait, f"{wait_label}: {wait_value}")
    else:
        add("wait", paragraph(words["next"], _bold(style.body), style), words["next"])
    add("space", space(style, 6))
    issued = f"{words['issued']}: {_local_time(content.issued_at)}"
    add("issued", paragraph(issued, _regular(style.small), style), issued)
    add("rule", rule(style, dashed=True, pad=8))
    qr, module = qr_block(content.status_url, style)
    blocks.append(Block("qr", qr, qr_data=content.status_url, qr_module=module))
    add("scan", paragraph(words["scan"], _regular(style.small), style), words["scan"])
    if content.footer:
        add("space", space(style, 8))
        add("footer", paragraph(content.footer, _regular(style.small), style), content.footer)
    blocks.append(Block("bottom", space(style, 16)))
    return blocks


def to_one_bit(image: Image.Image) -> Image.Image:
    """Threshold (no dithering: crisp edges on a thermal head) to Pillow mode "1"."""
    return image.point(lambda value: 255 if value >= 128 else 0).convert("1", dither=None)


def render_ticket(content: TicketContent, paper_width_mm: int = 80) -> Image.Image:
    """The whole ticket as one 1-bit image (mode "1"), 576 dots wide on 80 mm, 384 on 58 mm."""
    blocks = layout_ticket(content, paper_width_mm)
    return to_one_bit(stack([block.image for block in blocks], STYLES[paper_width_mm].width))


# -- content: priority labels and the test ticket ----------------------------------------


def priority_label(reason: str | None, language: str = "vi") -> str | None:
    """'Ưu tiên: Người từ 75 tuổi' for a configured reason; None for a normal ticket."""
    if not reason:
        return None
    lang = language if language in LABELS else "vi"
    text = PRIORITY_REASONS[lang].get(reason, reason.replace("_", " ").capitalize())
    return f"{LABELS[lang]['priority']}: {text}"


def sample_content(config: Config, language: str = "vi") -> TicketContent:
    """A test ticket (`kiosk print-test`, the benchmark): realistic text, a fixed code."""
    now = dt.datetime.now(config.hospital.tz)
    english = language == "en"
    return TicketContent(
        hospital_name=(config.hospital.name_en or config.hospital.name)
        if english
        else config.hospital.name,
        department_name="Printer test" if english else "Kiểm tra máy in",
        code="A000",
        priority_label=None,
        directions="This ticket is not a queue number"
        if english
        else "Phiếu này không phải số thứ tự",
        ahead=0,
        estimated_wait_minutes=0,
        issued_at=now,
        status_url=config.status_url("00000000-0000-4000-8000-000000000000"),
        footer=config.printer.footer,
        language="en" if english else "vi",
    )
