"""The ticket layout: one 1-bit raster image drawn with Pillow and qrcode.

The ticket is built as a column of blocks (hospital, department, the code, priority mark, ...),
each a full-width 1-bit strip. `render_ticket` stacks them into the image that is printed, shown on
the kiosk's screen and saved by `--png`; the ESC/POS encodings (printer/encoding.py) send each
block as cropped raster bands, or in the printer's own font and QR where the profile allows.

Everything that does not change from one ticket to the next (hospital, department, labels,
directions, rules, footer) is drawn once per text and paper width and kept (`_static`); a ticket
draws only its code, its counts, its time and its QR code. The code is drawn at half resolution and
doubled, so the printer can receive it at a quarter of the bytes (quadruple-density raster).

Sizes are in printer dots (8 dots/mm on both papers): 576 dots wide on 80 mm paper, 384 on 58 mm.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import qrcode
import qrcode.constants
import qrcode.exceptions
from PIL import Image, ImageDraw, ImageFont

from kiosk import texts
from kiosk.resources import font_file

if TYPE_CHECKING:
    from kiosk.config import Config

FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"
FONT_CONDENSED_BOLD = "DejaVuSansCondensed-Bold.ttf"
# The bundled fonts (kiosk/assets/fonts), never the system's: every kiosk prints the same ticket.
FONT_DIR = font_file(FONT_REGULAR).parent

DOTS_PER_MM = 8
PAPER_DOTS = {80: 576, 58: 384}
QR_QUIET_MODULES = 4
WHITE = 255
BLACK = 0

# The ticket's words in each language (kiosk/texts.py holds every non-Qt text).
LABELS: dict[str, dict[str, str]] = {
    lang: texts.section("ticket", lang) for lang in texts.LANGUAGES
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
class NativeLine:
    """Text the printer can print in its own font (font A, 12 x 24 dots) if its code page can."""

    text: str
    scale: int = 1  # character magnification 1-8; 0: as large as the paper allows
    bold: bool = False
    reverse: bool = False  # white on black, padded to the full width (the priority band)


@dataclass(frozen=True, eq=False)
class Block:
    """One full-width strip of the ticket and, where it has one, its native ESC/POS form."""

    name: str
    image: Image.Image  # mode "1", the paper's width
    native: tuple[NativeLine, ...] = ()
    qr_data: str | None = None  # a QR code the printer can draw itself
    qr_module: int = 0
    half: Image.Image | None = None  # `image` at half resolution (image = half doubled)
    key: Hashable | None = None  # same key, same block: encoders may keep its bytes
    _cache: dict[Hashable, bytes] = field(default_factory=dict, repr=False)

    @property
    def native_text(self) -> str | None:
        return " ".join(line.text for line in self.native) or None

    def encoded(self, how: Hashable, encode: Callable[[Block], bytes]) -> bytes:
        """`encode(self)`, kept with the block (static blocks are shared by every ticket)."""
        job = self._cache.get(how)
        if job is None:
            job = self._cache[how] = encode(self)
        return job


# -- fonts and text ---------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_file(name), size)


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
    """The images one under the other on white paper, as one 1-bit image."""
    height = sum(image.height for image in images) + gap * max(0, len(images) - 1)
    out = Image.new("1", (width, max(1, height)), 1)
    y = 0
    for image in images:
        out.paste(to_one_bit(image), (0, y))
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


@functools.lru_cache(maxsize=8)
def _cap_ratio(name: str) -> float:
    face = font(name, 200)
    _, top, _, bottom = face.getbbox("H", anchor="ls")
    return (bottom - top) / 200


def code_half(code: str, style: Style) -> Image.Image:
    """The ticket code at half resolution (1-bit): doubled, as large as the paper allows and
    never under 12 mm tall. Its blocks of 2 x 2 dots are 0.25 mm: invisible at this size."""
    inner = style.inner // 2
    cap = style.code_cap_height // 2
    name = FONT_BOLD
    size = round(cap / _cap_ratio(name))
    if _bold(size).getlength(code) > inner:
        name = FONT_CONDENSED_BOLD
        size = round(cap / _cap_ratio(name))
    face = font(name, size)
    left, top, right, bottom = (round(edge) for edge in face.getbbox(code, anchor="ls"))
    glyphs = _canvas(right - left, bottom - top)
    ImageDraw.Draw(glyphs).text((-left, -top), code, font=face, fill=BLACK, anchor="ls")
    if glyphs.width > inner:
        # A long code keeps its height and is narrowed to fit: height is what makes it legible.
        glyphs = glyphs.resize((inner, glyphs.height), Image.Resampling.LANCZOS)
    pad = cap // 10
    half_width = style.width // 2
    image = _canvas(half_width, glyphs.height + 2 * pad)
    image.paste(glyphs, ((half_width - glyphs.width) // 2, pad))
    return to_one_bit(image)


def code_block(code: str, style: Style) -> Image.Image:
    """The ticket code at full resolution (`code_half` doubled)."""
    return _doubled(code_half(code, style))


def _doubled(half: Image.Image) -> Image.Image:
    return half.resize((half.width * 2, half.height * 2), Image.Resampling.NEAREST)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, fill: int) -> None:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=fill)


def _priority_parts(label: str, language: str) -> tuple[str, str]:
    word = LABELS.get(language, LABELS["vi"])["priority"]
    head, _, reason = label.partition(":")
    if not reason:
        head, reason = word, label
    return head.strip().upper(), reason.strip()


def priority_block(label: str, language: str, style: Style) -> Image.Image:
    """A black band: a star pictogram, the word (ƯU TIÊN / PRIORITY) and the reason."""
    head, reason = _priority_parts(label, language)
    head_face, reason_face = _bold(style.value), _bold(style.body)
    star = style.value + 16
    indent = style.margin + 14 + star + 14
    text_width = style.width - indent - style.margin - 14
    lines: list[list[Run]] = [[(head, head_face)]]
    lines += [[(line, reason_face)] for line in wrap(reason, reason_face, text_width)]
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


# Any of the eight masks gives a valid code; a fixed one spares qrcode scoring all eight
# (8 of the 10 ms it takes per ticket). The tests decode it with zxing-cpp for many URLs.
QR_MASK = 2


_QR_VERSIONS: dict[int, int] = {}  # data length -> the version qrcode fitted it in
# The latest codes made: the printed ticket's and the screen's QR of a ticket are made once.
_QR_RECENT: dict[str, list[list[bool]]] = {}
_QR_RECENT_MAX = 4


def qr_modules(data: str) -> list[list[bool]]:
    """The QR code's modules (no quiet zone), True for dark; do not change the lists."""
    modules = _QR_RECENT.get(data)
    if modules is None:
        modules = _qr_modules(data)
        while len(_QR_RECENT) >= _QR_RECENT_MAX:
            _QR_RECENT.pop(next(iter(_QR_RECENT)))
        _QR_RECENT[data] = modules
    return modules


def _qr_modules(data: str) -> list[list[bool]]:
    """The QR code's modules, True for dark. The version fitted to a length is remembered:
    status URLs all have the same length, and fitting costs as much as encoding."""
    version = _QR_VERSIONS.get(len(data))
    code = qrcode.QRCode(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=0,
        mask_pattern=QR_MASK,
    )
    code.add_data(data)
    try:
        code.make(fit=version is None)
    except qrcode.exceptions.DataOverflowError:  # the same length, a denser mode before
        code.version = None
        code.make(fit=True)
    _QR_VERSIONS[len(data)] = code.version
    return [[bool(module) for module in row] for row in code.modules]


def qr_image(data: str, module: int, modules: list[list[bool]] | None = None) -> Image.Image:
    """The QR code with its 4-module quiet zone, `module` dots per module (1-bit)."""
    modules = modules or qr_modules(data)
    count = len(modules)
    quiet = [1] * QR_QUIET_MODULES
    rows = [quiet * 2 + [1] * count] * QR_QUIET_MODULES
    rows += [quiet + [0 if dark else 1 for dark in row] + quiet for row in modules]
    rows += rows[:QR_QUIET_MODULES]
    side = count + 2 * QR_QUIET_MODULES
    pixels = bytes(255 * bit for row in rows for bit in row)
    image = Image.frombytes("L", (side, side), pixels).point(_THRESHOLD, "1")
    return image.resize((side * module, side * module), Image.Resampling.NEAREST)


def qr_block(data: str, style: Style) -> tuple[Image.Image, int]:
    modules = qr_modules(data)
    side = len(modules) + 2 * QR_QUIET_MODULES
    module = max(1, min(style.qr_module, style.inner // side))
    code = qr_image(data, module, modules)
    image = Image.new("1", (style.width, code.height), 1)
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


# -- blocks drawn once ------------------------------------------------------------------
# A block depends only on its arguments (texts and paper width): the same arguments give the
# same Block object, so it is drawn once and its ESC/POS bytes are kept with it.


@functools.lru_cache(maxsize=512)
def _static(name: str, kind: str, paper: int, *args: str | int | bool) -> Block:
    """The block `name` drawn by `kind` from `args` (texts, sizes) on `paper`."""
    style = STYLES[paper]
    key = (name, kind, paper, *args)

    def block(image: Image.Image, *native: NativeLine) -> Block:
        return Block(name, to_one_bit(image), native=native, key=key)

    match (kind, args):
        case ("space", (int(height),)):
            return block(space(style, height))
        case ("rule", (bool(dashed),)):
            return block(rule(style, dashed=dashed, pad=8))
        case ("reprint", (str(text),)):
            return block(paragraph(text, _bold(style.small), style), NativeLine(text, bold=True))
        case ("hospital", (str(text),)):
            return block(paragraph(text, _bold(style.hospital), style), NativeLine(text, bold=True))
        case ("department", (str(text),)):
            return block(department_block(text, style), NativeLine(text, scale=2, bold=True))
        case ("number_label" | "scan" | "footer" | "issued", (str(text),)):
            size = style.label if kind == "number_label" else style.small
            return block(paragraph(text, _regular(size), style), NativeLine(text))
        case ("next", (str(text),)):
            return block(paragraph(text, _bold(style.body), style), NativeLine(text, bold=True))
        case ("directions", (str(label), str(directions))):
            lines: list[list[Run]] = [[(f"{label}:", _regular(style.label))]]
            face = _bold(style.value)
            lines += [[(line, face)] for line in wrap(directions, face, style.inner)]
            return block(
                text_lines(lines, style, gap=6),
                NativeLine(f"{label}:"),
                NativeLine(directions, bold=True),
            )
        case ("label_value", (str(label), str(value), int(value_size))):
            image = label_value(label, value, style, label_size=style.body, value_size=value_size)
            return block(image, NativeLine(f"{label}: {value}"))
        case ("priority", (str(label), str(language))):
            head, reason = _priority_parts(label, language)
            return block(
                priority_block(label, language, style),
                NativeLine(head, scale=2, bold=True, reverse=True),
                NativeLine(reason, bold=True, reverse=True),
            )
    raise ValueError(f"no block {kind!r} with {args!r}")


@functools.lru_cache(maxsize=64)
def _code(code: str, paper: int) -> Block:
    half = code_half(code, STYLES[paper])
    native = NativeLine(code, scale=0, bold=True)
    return Block("code", _doubled(half), native=(native,), half=half, key=("code", paper, code))


@functools.lru_cache(maxsize=16)
def _qr(url: str, paper: int) -> Block:
    image, module = qr_block(url, STYLES[paper])
    return Block("qr", image, qr_data=url, qr_module=module, key=("qr", paper, url))


def layout_ticket(content: TicketContent, paper_width_mm: int = 80) -> list[Block]:
    """The ticket as blocks, top to bottom; `render_ticket` stacks them."""
    if paper_width_mm not in STYLES:
        raise ValueError(f"paper width {paper_width_mm} mm: expected one of 58, 80")
    return list(_layout(content, paper_width_mm))


@functools.lru_cache(maxsize=8)
def _layout(content: TicketContent, paper: int) -> tuple[Block, ...]:
    style = STYLES[paper]
    words = LABELS.get(content.language, LABELS["vi"])
    blocks: list[Block] = [_static("top", "space", paper, 8)]

    def add(name: str, *args: str | int | bool, kind: str | None = None) -> None:
        blocks.append(_static(name, kind or name, paper, *args))

    if content.reprint:
        add("reprint", f"— {words['reprint']} —")
    add("hospital", content.hospital_name)
    add("rule", False, kind="rule")
    add("department", content.department_name)
    add("space", 10)
    add("number_label", words["number"])
    blocks.append(_code(content.code, paper))
    if content.priority_label:
        add("priority", content.priority_label, content.language)
        add("space", 10)
    if content.directions:
        add("directions", words["go_to"], content.directions)
        add("space", 8)
    add("ahead", words["ahead"], str(content.ahead), style.value, kind="label_value")
    if content.ahead > 0 and content.estimated_wait_minutes > 0:
        wait = words["wait_value"].format(minutes=content.estimated_wait_minutes)
        add("wait", words["wait"], wait, style.body, kind="label_value")
    else:
        add("wait", words["next"], kind="next")
    add("space", 6)
    add("issued", f"{words['issued']}: {_local_time(content.issued_at)}")
    add("rule", True, kind="rule")
    if content.status_url:  # a kiosk working alone has no page a phone could open
        blocks.append(_qr(content.status_url, paper))
        add("scan", words["scan"])
    if content.footer:
        add("space", 8)
        add("footer", content.footer)
    add("bottom", 16, kind="space")
    return tuple(blocks)


_THRESHOLD = [255 if value >= 128 else 0 for value in range(256)]


def to_one_bit(image: Image.Image) -> Image.Image:
    """Threshold (no dithering: crisp edges on a thermal head) to Pillow mode "1"."""
    if image.mode == "1":
        return image
    return image.convert("L").point(_THRESHOLD, "1")


def render_ticket(content: TicketContent, paper_width_mm: int = 80) -> Image.Image:
    """The whole ticket as one 1-bit image (mode "1"), 576 dots wide on 80 mm, 384 on 58 mm."""
    blocks = layout_ticket(content, paper_width_mm)
    return stack([block.image for block in blocks], STYLES[paper_width_mm].width)


# -- content: priority labels and the test ticket ----------------------------------------


def priority_label(reason: str | None, language: str = "vi") -> str | None:
    """'Ưu tiên: Người từ 75 tuổi' for a configured reason; None for a normal ticket."""
    if not reason:
        return None
    return f"{texts.say('ticket.priority', language)}: {texts.priority_name(reason, language)}"


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
