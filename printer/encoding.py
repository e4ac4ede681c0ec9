"""The ESC/POS bytes of a ticket, built once with python-escpos's `Dummy` printer.

Two encodings (`printer.encoding`):
- `raster`: ESC @, the whole ticket as a raster image (GS v 0, in bands), then a cut;
- `compact`: for slow serial links: native text for the plain-ASCII parts (the large code
  included), a native QR code (GS ( k), and raster only for the lines with Vietnamese letters,
  cropped to their ink with blank rows sent as paper feeds.
Where the profile has no cutter the ticket ends with a tear line and a feed instead of a cut.
The transports (printer/output.py) only move these bytes.
"""

from __future__ import annotations

import copy
import logging
import textwrap
from collections.abc import Sequence
from typing import Any

from escpos.constants import QR_ECLEVEL_M
from escpos.exceptions import ImageWidthError
from escpos.printer import Dummy
from PIL import Image, ImageOps

from printer.errors import PrinterError
from printer.ticket import PAPER_DOTS, QR_QUIET_MODULES, Block, to_one_bit

log = logging.getLogger(__name__)

BAND_ROWS = 256  # rows per GS v 0 command: ~18 KB on 80 mm, small enough for slow USB printers
NATIVE_CHAR_WIDTH = 12  # font A: 12 x 24 dots
ESC_J_MAX = 255
TEAR_FEED_LINES = 4


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


def _finish(printer: Dummy, width: int) -> None:
    if has_cutter(printer):
        printer.cut(feed=False)  # GS V B 0: feed to the cutter and cut, no wasted paper
        return
    # No cutter: a tear line, then feed the ticket's end past the tear bar.
    printer.print_and_feed(1)
    printer.text("- " * (width // NATIVE_CHAR_WIDTH // 2) + "\n")
    printer.print_and_feed(TEAR_FEED_LINES)


def _image(printer: Dummy, image: Image.Image) -> None:
    try:
        printer.image(image, impl="bitImageRaster", fragment_height=BAND_ROWS, center=False)
    except ImageWidthError as exc:
        raise PrinterError(f"the ticket is wider than the printer.profile allows ({exc})") from None


def encode_raster(image: Image.Image, profile: str, paper_width_mm: int) -> bytes:
    """ESC @, the ticket image, the cut (or tear line and feed)."""
    printer = make_profile_printer(profile, paper_width_mm)
    printer.hw("INIT")
    _image(printer, image.convert("1") if image.mode != "1" else image)
    _finish(printer, image.width)
    return bytes(printer.output)


def _feed(printer: Dummy, dots: int) -> None:
    while dots > 0:
        step = min(dots, ESC_J_MAX)
        printer._raw(b"\x1bJ" + bytes((step,)))  # ESC J n: feed n dots
        dots -= step


def _native_text(printer: Dummy, block: Block, width: int) -> None:
    text = block.native_text or ""
    scale = block.native_scale
    if scale == 0:  # as large as the paper allows: the ticket code
        scale = max(1, min(8, width // (NATIVE_CHAR_WIDTH * max(1, len(text)))))
    printer.set(align="center", bold=block.native_bold, custom_size=True, width=scale, height=scale)
    columns = max(1, width // (NATIVE_CHAR_WIDTH * scale))
    for line in textwrap.wrap(text, columns) or [""]:
        printer.text(line + "\n")
    printer.set_with_default()


def _raster_block(printer: Dummy, block: Block) -> None:
    """The block's ink only: right-cropped to whole bytes, blank rows sent as feeds."""
    bitmap = to_one_bit(block.image)
    ink = ImageOps.invert(bitmap.convert("L")).getbbox()
    if ink is None:
        _feed(printer, block.image.height)
        return
    _left, top, right, bottom = ink
    right = min(bitmap.width, -(-right // 8) * 8)
    _feed(printer, top)
    _image(printer, bitmap.crop((0, top, right, bottom)))
    _feed(printer, block.image.height - bottom)


def encode_compact(blocks: Sequence[Block], profile: str, paper_width_mm: int) -> bytes:
    """Native text and QR where the printer can draw them, raster only for the rest."""
    printer = make_profile_printer(profile, paper_width_mm)
    width = PAPER_DOTS[paper_width_mm]
    printer.hw("INIT")
    for block in blocks:
        if block.qr_data:
            quiet = QR_QUIET_MODULES * block.qr_module  # the printer draws no quiet zone
            _feed(printer, quiet)
            printer.set(align="center")
            printer.qr(block.qr_data, ec=QR_ECLEVEL_M, size=block.qr_module, native=True)
            printer.set_with_default()
            _feed(printer, quiet)
        elif block.native_text:
            _native_text(printer, block, width)
        else:
            _raster_block(printer, block)
    _finish(printer, width)
    return bytes(printer.output)
