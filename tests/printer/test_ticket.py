"""The ticket image: sizes, the QR read back by a real decoder, wrapping, Vietnamese glyphs."""

from __future__ import annotations

import datetime as dt
import sys
import uuid

import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFont, ImageOps

from kiosk.config import Config
from printer.ticket import (
    FONT_BOLD,
    FONT_DIR,
    FONT_REGULAR,
    STYLES,
    _bold,
    font,
    layout_ticket,
    priority_label,
    render_ticket,
    wrap,
)
from tests.support.ticket import HANOI, LONG_NAME, URL, VIETNAMESE_LETTERS, content


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageOps.invert(image.convert("L")).getbbox()


@pytest.mark.parametrize(("paper", "dots"), [(80, 576), (58, 384)])
def test_ticket_is_one_bit_and_as_wide_as_the_paper(paper: int, dots: int) -> None:
    image = render_ticket(content(), paper)
    assert image.mode == "1"
    assert image.width == dots
    assert 400 < image.height < 1400  # a ticket, not a scroll
    box = ink_box(image)
    assert box is not None
    # Nothing printed in the outer margins (the head does not reach there on every model).
    assert box[0] >= 8 and box[2] <= dots - 8


@pytest.mark.parametrize("paper", [80, 58])
def test_qr_code_decodes_to_the_status_url(paper: int) -> None:
    image = render_ticket(content(), paper)
    results = zxingcpp.read_barcodes(image.convert("L"))
    assert [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode] == [URL]


def test_a_kiosk_working_alone_prints_no_qr_code() -> None:
    """No status page a phone could open (server.url empty): no QR and no "scan" line."""
    blocks = layout_ticket(content(status_url=""), 80)
    assert not [b for b in blocks if b.name in ("qr", "scan")]
    image = render_ticket(content(status_url=""), 80)
    assert zxingcpp.read_barcodes(image.convert("L")) == []


@pytest.mark.parametrize("paper", [80, 58])
def test_qr_code_has_four_modules_of_quiet_zone(paper: int) -> None:
    qr = next(b for b in layout_ticket(content(), paper) if b.name == "qr")
    box = ink_box(qr.image)
    assert box is not None
    assert box[1] >= 4 * qr.qr_module
    assert qr.image.height - box[3] >= 4 * qr.qr_module
    assert box[0] >= 4 * qr.qr_module


@pytest.mark.parametrize("paper", [80, 58])
def test_code_is_at_least_12_mm_tall(paper: int) -> None:
    block = next(b for b in layout_ticket(content(code="B012"), paper) if b.name == "code")
    box = ink_box(block.image)
    assert box is not None
    assert box[3] - box[1] >= 96  # 12 mm at 8 dots/mm
    assert box[2] - box[0] <= STYLES[paper].inner


def test_long_code_is_narrowed_not_clipped() -> None:
    block = next(b for b in layout_ticket(content(code="AB123456"), 58) if b.name == "code")
    box = ink_box(block.image)
    assert box is not None
    assert box[0] >= STYLES[58].margin and box[2] <= 384 - STYLES[58].margin
    assert box[3] - box[1] >= 96


@pytest.mark.parametrize("paper", [80, 58])
def test_long_vietnamese_department_name_wraps_inside_the_paper(paper: int) -> None:
    style = STYLES[paper]
    blocks = layout_ticket(content(department_name=LONG_NAME), paper)
    department = next(b for b in blocks if b.name == "department")
    box = ink_box(department.image)
    assert box is not None
    assert box[0] >= style.margin and box[2] <= style.width - style.margin
    # Several lines, every word kept: the strip is at least two text lines tall.
    assert department.image.height > 2 * style.department * 0.72
    lines = wrap(LONG_NAME, _bold(style.department), style.inner)
    assert len(lines) >= 2
    assert " ".join(lines) == LONG_NAME
    assert all(_bold(style.department).getlength(line) <= style.inner for line in lines)


def test_wrap_splits_a_word_longer_than_the_line() -> None:
    face = _bold(40)
    lines = wrap("Tiếp" + "đón" * 30, face, 300)
    assert len(lines) > 1
    assert all(face.getlength(line) <= 300 for line in lines)


def test_priority_mark_only_when_set() -> None:
    normal = [b.name for b in layout_ticket(content(), 80)]
    marked = layout_ticket(content(priority_label="Ưu tiên: Người từ 75 tuổi"), 80)
    assert "priority" not in normal
    band = next(b for b in marked if b.name == "priority")
    # A solid band, not a colour: at least half the strip is black ink.
    black = band.image.convert("L").histogram()[0]
    assert black > band.image.width * band.image.height / 2


def test_vietnamese_letters_have_glyphs_in_the_bundled_fonts() -> None:
    def glyph(face: ImageFont.FreeTypeFont, letter: str) -> bytes:
        image = Image.new("L", (60, 60), 255)
        ImageDraw.Draw(image).text((10, 50), letter, font=face, fill=0, anchor="ls")
        return image.tobytes()

    for name in (FONT_REGULAR, FONT_BOLD):
        face = font(name, 40)
        missing = glyph(face, "\uffff")  # the .notdef box
        for letter in VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper():
            assert glyph(face, letter) != missing, f"{name} lacks {letter!r}"
    assert (FONT_DIR / "LICENSE-DejaVu.txt").is_file()


def test_labels_follow_the_language() -> None:
    vi = layout_ticket(content(), 80)
    en = layout_ticket(content(language="en", department_name="Internal Medicine"), 80)
    ahead_vi = next(b for b in vi if b.name == "ahead")
    ahead_en = next(b for b in en if b.name == "ahead")
    assert ahead_vi.native_text == "Số người đang chờ trước bạn: 5"
    assert ahead_en.native_text == "People ahead of you: 5"


def test_static_parts_are_drawn_once_and_only_the_ticket_parts_change() -> None:
    first = layout_ticket(content(), 80)
    second = layout_ticket(
        content(
            code="B013",
            ahead=6,
            status_url=URL[:-1] + "0",
            issued_at=dt.datetime(2026, 11, 28, 9, 7, tzinfo=HANOI),
        ),
        80,
    )
    shared = {a.name for a, b in zip(first, second, strict=True) if a is b}
    assert {"hospital", "department", "number_label", "directions", "scan", "footer"} <= shared
    assert not {"code", "qr", "ahead", "issued"} & shared
    other = layout_ticket(content(department_name="Khám Ngoại"), 80)
    assert next(b for b in other if b.name == "department") is not first[3]


@pytest.mark.parametrize("paper", [80, 58])
def test_qr_code_decodes_for_many_urls(paper: int) -> None:
    # The QR code uses one fixed mask (any mask is valid; scoring all eight is slow).
    for i in range(25):
        url = f"https://queue.benhvien.example.vn/t/{uuid.UUID(int=i * 7919 + 1)}"
        image = render_ticket(content(status_url=url), paper)
        results = zxingcpp.read_barcodes(image.convert("L"))
        assert [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode] == [url]


def test_priority_labels_for_every_default_reason() -> None:
    for reason in Config().queue.priority_reasons:
        for language in ("vi", "en"):
            label = priority_label(reason, language)
            assert label is not None and "_" not in label
    assert priority_label(None) is None


def test_no_qt_in_the_printing_core() -> None:
    import subprocess

    code = (
        "import sys, printer.ticket, printer.output, printer.encoding;"
        "sys.exit('PySide6' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
