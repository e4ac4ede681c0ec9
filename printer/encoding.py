"""The ESC/POS bytes of a ticket, written directly from its 1-bit blocks.

Two encodings (`printer.encoding`):
- `raster`: ESC @, the ticket as raster images (GS v 0), then a cut. Each block is sent as bands
  of its ink only: blank rows become paper feeds (ESC J), each band is cropped to its ink
  symmetrically and centred by the printer (ESC a 1), and the code, drawn at half resolution, is
  sent at quadruple density (GS v 0 m=3: each bit prints 2 x 2 dots). The printed dots are
  exactly the rendered image.
- `compact`: for slow serial links: the printer's own font (font A, 12 x 24 dots, magnified for
  the code and the department) for every line its code page can print, its own QR code where
  the profile has one, and raster only for the rest. Vietnamese lines go native where the
  profile lists a Vietnamese code page (TCVN-3, whose two pages hold every precomposed letter,
  else Windows-1258 with the tone marks as combining characters), else as raster.
Where the profile has no cutter the ticket ends with a tear line and a feed instead of a cut.

The bytes of a block that does not change between tickets (printer/ticket.py keeps those) are
made once and kept with it; a ticket encodes only its code, counts, time and QR code. The
transports (printer/output.py) only move these bytes.
"""

from __future__ import annotations

import copy
import functools
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from escpos.capabilities import CAPABILITIES
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from printer.errors import PrinterError
from printer.ticket import PAPER_DOTS, QR_QUIET_MODULES, Block, NativeLine, to_one_bit

BAND_ROWS = 256  # rows per GS v 0 command: ~18 KB on 80 mm, small enough for slow USB printers
NATIVE_CHAR_WIDTH = 12  # font A: 12 x 24 dots
ESC_J_MAX = 255
TEAR_FEED_LINES = 4

INIT = b"\x1b@"
LF = b"\n"
_INVERT = bytes(255 - value for value in range(256))  # Pillow: 1 = white; ESC/POS: 1 = black


def _align(center: bool) -> bytes:
    return b"\x1ba" + bytes((1 if center else 0,))  # ESC a n


def _style(*, bold: bool = False, scale: int = 1, reverse: bool = False) -> bytes:
    size = (scale - 1) << 4 | (scale - 1)
    return (
        b"\x1bE" + bytes((int(bold),))  # ESC E n: emphasis
        + b"\x1d!" + bytes((size,))  # GS ! n: character width and height magnification
        + b"\x1dB" + bytes((int(reverse),))  # GS B n: white on black
    )  # fmt: skip


PLAIN = _style()


def feed(dots: int) -> bytes:
    """ESC J n: feed `dots` dot rows (in steps of at most 255)."""
    out = bytearray()
    while dots > 0:
        step = min(dots, ESC_J_MAX)
        out += b"\x1bJ" + bytes((step,))
        dots -= step
    return bytes(out)


# -- profiles ----------------------------------------------------------------------------


def make_profile_printer(profile: str, paper_width_mm: int) -> Dummy:
    """A byte-building printer for `profile`; refuses a profile too narrow for the paper."""
    try:
        printer = Dummy(profile=profile)
    except KeyError:
        raise PrinterError(
            f"unknown printer.profile {profile!r}; use a python-escpos profile name such as "
            "TM-T20II (80 mm) or POS-5890 (58 mm)"
        ) from None
    data: dict[str, Any] = copy.deepcopy(printer.profile.profile_data)
    width = data.get("media", {}).get("width", {})
    dots = PAPER_DOTS[paper_width_mm]
    if not isinstance(width.get("pixels"), int):
        # The profile does not know its width (e.g. "default"): it is the configured paper's.
        data.setdefault("media", {})["width"] = {"mm": paper_width_mm, "pixels": dots}
        printer.profile.profile_data = data  # this instance only; the class is shared
    elif width["pixels"] < dots:
        raise PrinterError(
            f"printer.profile {profile!r} prints {width['pixels']} dots per line but a "
            f"{paper_width_mm} mm ticket is {dots} dots; choose the profile of your printer model "
            f"(e.g. TM-T20II for 576 dots, POS-5890 for 384) or set printer.paper_width_mm = 58"
        )
    return printer


def has_cutter(printer: Dummy) -> bool:
    return bool(
        printer.profile.supports("paperFullCut") or printer.profile.supports("paperPartCut")
    )


@dataclass(frozen=True)
class Profile:
    """What the encoders need to know of a printer model, worked out once per profile."""

    name: str
    paper_width_mm: int
    width: int  # dots of the ticket
    native_qr: bool
    text: TextEncoder
    finish: bytes  # the cut, or a tear line and a feed


@functools.lru_cache(maxsize=16)
def profile_info(profile: str, paper_width_mm: int) -> Profile:
    printer = make_profile_printer(profile, paper_width_mm)
    width = PAPER_DOTS[paper_width_mm]
    if has_cutter(printer):
        printer.cut(feed=False)  # GS V B 0: feed to the cutter and cut, no wasted paper
        finish = bytes(printer.output)
    else:  # a tear line, then feed the ticket's end past the tear bar
        tear = "- " * (width // NATIVE_CHAR_WIDTH // 2)
        finish = _align(False) + b"\x1bd\x01" + tear.encode() + LF + b"\x1bd" + bytes((4,))
    return Profile(
        name=profile,
        paper_width_mm=paper_width_mm,
        width=width,
        native_qr=bool(printer.profile.supports("qrCode")),
        text=text_encoder(printer.profile.profile_data.get("codePages", {})),
        finish=finish,
    )


# -- text in the printer's code pages ---------------------------------------------------

TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
ALIASES = {"Ð": "Đ"}  # python-escpos' TCVN-3 table writes the capital D with stroke as Eth


class TextEncoder:
    """Text to the bytes of the printer's code pages (with ESC t to switch), or None when a
    character has no place in them. `name` says which: "tcvn-3", "cp1258" or "ascii"."""

    def __init__(self, name: str, table: dict[str, bytes]) -> None:
        self.name = name
        self._table = table  # character -> ESC t slot + its byte(s); ASCII is not in it

    def __repr__(self) -> str:
        return f"TextEncoder({self.name!r})"

    def encode(self, text: str) -> bytes | None:
        out = bytearray()
        slot = b""
        for char in unicodedata.normalize("NFC", text):
            if " " <= char <= "~":
                out += char.encode()
                continue
            coded = self._table.get(char)
            if coded is None:
                return None
            if coded[:3] != slot:
                slot = coded[:3]
                out += slot
            out += coded[3:]
        return bytes(out)


def _select(slot: str) -> bytes:
    return b"\x1bt" + bytes((int(slot),))  # ESC t n: select the character code table


def _cp1258(char: str) -> bytes | None:
    """Windows-1258: a few precomposed letters; the rest are a base letter + a tone mark."""
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        pass
    parts = unicodedata.normalize("NFD", char)
    base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
    tones = "".join(c for c in parts if c in TONE_MARKS)
    try:
        return (base + tones).encode("cp1258")
    except UnicodeEncodeError:
        return None


@functools.lru_cache(maxsize=8)
def _text_encoder(pages: tuple[tuple[str, str], ...]) -> TextEncoder:
    slots = dict(pages)  # encoding name -> slot
    encodings = CAPABILITIES["encodings"]
    if "TCVN-3-1" in slots and "TCVN-3-2" in slots:
        table: dict[str, bytes] = {}
        for name in ("TCVN-3-1", "TCVN-3-2"):
            for row, chars in enumerate(encodings[name]["data"]):
                for column, char in enumerate(chars):
                    if char != " " and row >= 2:  # rows 0-1 of the upper half are controls
                        coded = _select(slots[name]) + bytes((0x80 + 16 * row + column,))
                        table.setdefault(ALIASES.get(char, char), coded)
        return TextEncoder("tcvn-3", table)
    if "CP1258" in slots:
        table = {}
        for code in range(0x00C0, 0x1EFA):
            char = chr(code)
            letter = _cp1258(char) if unicodedata.category(char).startswith("L") else None
            if letter is not None:
                table[char] = _select(slots["CP1258"]) + letter
        for char in "–—‘’“”…€":
            table[char] = _select(slots["CP1258"]) + char.encode("cp1258")
        return TextEncoder("cp1258", table)
    return TextEncoder("ascii", {})


def text_encoder(code_pages: dict[str, Any]) -> TextEncoder:
    """The best Vietnamese the profile's code pages allow (its table: slot -> name)."""
    pages = tuple(sorted((str(name), str(slot)) for slot, name in code_pages.items()))
    return _text_encoder(pages)


# -- raster ------------------------------------------------------------------------------


def raster(bitmap: Image.Image, *, quadruple: bool = False) -> bytes:
    """GS v 0 bands of the bitmap's ink, centred (ESC a 1); blank rows become feeds (ESC J).

    Each band (rows between blank ones, at most BAND_ROWS) is cropped to its ink, the same
    number of whole bytes off each side, so the printer's centring puts every dot where it is
    in the image. `quadruple`: each bit prints 2 x 2 dots (GS v 0 m=3).
    """
    bitmap = to_one_bit(bitmap)
    width, height = bitmap.size
    if width % 8:
        raise ValueError(f"a raster image must be a whole number of bytes wide, not {width}")
    row_bytes, scale, mode = width // 8, (2 if quadruple else 1), (3 if quadruple else 0)
    data = bitmap.tobytes().translate(_INVERT)
    blank = bytes(row_bytes)
    out = bytearray(_align(True))
    pending = 0  # dot rows to feed before the next band
    y = 0
    while y < height:
        if data[y * row_bytes : (y + 1) * row_bytes] == blank:
            pending += scale
            y += 1
            continue
        top = y
        while (
            y < height
            and y - top < BAND_ROWS
            and data[y * row_bytes : (y + 1) * row_bytes] != blank
        ):
            y += 1
        band = data[top * row_bytes : y * row_bytes]
        box = Image.frombytes("1", (width, y - top), band).getbbox()
        assert box is not None
        left = min(box[0], width - box[2]) // 8  # bytes off each side
        wide = row_bytes - 2 * left
        rows = (band[r * row_bytes + left : r * row_bytes + left + wide] for r in range(y - top))
        out += feed(pending)
        pending = 0
        out += b"\x1dv0" + bytes((mode, wide & 0xFF, wide >> 8, (y - top) & 0xFF, (y - top) >> 8))
        out += b"".join(rows)
    out += feed(pending)
    return bytes(out)


def raster_block(block: Block) -> bytes:
    if block.half is not None:
        return raster(block.half, quadruple=True)
    return raster(block.image)


def encode_raster(image: Image.Image | Sequence[Block], profile: str, paper_width_mm: int) -> bytes:
    """ESC @, the ticket (its image or its blocks) as raster, the cut (or tear line and feed)."""
    info = profile_info(profile, paper_width_mm)
    if isinstance(image, Image.Image):
        body = raster(image)
    else:
        body = b"".join(block.encoded("raster", raster_block) for block in image)
    return INIT + body + info.finish


# -- compact -----------------------------------------------------------------------------


def native_lines(lines: Sequence[NativeLine], encoder: TextEncoder, width: int) -> bytes | None:
    """The lines in the printer's font, centred and wrapped; None if a letter has no code."""
    out = bytearray()
    for line in lines:
        scale = line.scale
        if scale == 0:  # as large as the paper allows: the ticket code
            scale = max(1, min(8, width // (NATIVE_CHAR_WIDTH * max(1, len(line.text)))))
        columns = max(1, width // (NATIVE_CHAR_WIDTH * scale))
        text = unicodedata.normalize("NFC", line.text)
        wrapped = textwrap.wrap(text, columns) or [""]
        if line.reverse:  # a full-width band: centred by hand, padded with spaces, one above
            wrapped = [""] + [part.center(columns) for part in wrapped] + [""]
            wrapped = [part.ljust(columns) for part in wrapped]
        out += _align(not line.reverse) + _style(bold=line.bold, scale=scale, reverse=line.reverse)
        for part in wrapped:
            coded = encoder.encode(part)
            if coded is None:
                return None
            out += coded + LF
        out += PLAIN
    return bytes(out)


def native_qr(block: Block) -> bytes:
    """The printer draws the QR code (GS ( k), with the quiet zone the image has, centred."""
    assert block.qr_data is not None
    printer = Dummy()
    printer.qr(block.qr_data, ec=QR_ECLEVEL_M, size=block.qr_module, native=True)
    quiet = feed(QR_QUIET_MODULES * block.qr_module)  # the printer draws no quiet zone
    return quiet + _align(True) + bytes(printer.output) + quiet


def compact_block(block: Block, info: Profile) -> bytes:
    if block.qr_data and info.native_qr:
        return block.encoded("native-qr", native_qr)
    if block.native:
        coded = block.encoded(
            ("native", info.text.name, info.width),
            lambda b: native_lines(b.native, info.text, info.width) or b"",
        )
        if coded:
            return coded
    return block.encoded("raster", raster_block)


def encode_compact(blocks: Sequence[Block], profile: str, paper_width_mm: int) -> bytes:
    """Native text and QR where the printer can draw them, raster only for the rest."""
    info = profile_info(profile, paper_width_mm)
    body = b"".join(compact_block(block, info) for block in blocks)
    return INIT + body + info.finish
