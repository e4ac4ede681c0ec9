"""Pure logic of the kiosk screen, without a display: PIN hashes, lockout, layout, contrast."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from kiosk.ui.layout import contrast_ratio, department_grid, text_color_on
from kiosk.ui.pin import (
    ITERATIONS,
    PinError,
    PinLockout,
    hash_pin,
    verify_pin,
    with_pin_hash,
)


def test_pin_hash_is_salted_and_verifies() -> None:
    first, second = hash_pin("2468", iterations=1000), hash_pin("2468", iterations=1000)
    assert first != second  # a random salt each time
    algorithm, iterations, salt, digest = first.split("$")
    assert (algorithm, iterations) == ("pbkdf2_sha256", "1000")
    assert salt and digest and "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first)


def test_default_hash_uses_the_full_iteration_count() -> None:
    assert hash_pin("123456").split("$")[1] == str(ITERATIONS)


@pytest.mark.parametrize("stored", ["", "plain", "md5$1$aa$bb", "pbkdf2_sha256$x$aa$bb", "a$b$c"])
def test_malformed_hashes_match_nothing(stored: str) -> None:
    assert not verify_pin("2468", stored)


@pytest.mark.parametrize("pin", ["", "123", "12ab", "1234567890123"])
def test_bad_pins_are_refused(pin: str) -> None:
    with pytest.raises(PinError):
        hash_pin(pin)


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_wrong_pins_lock_for_minutes_then_unlock() -> None:
    clock = Ticking()
    stored = hash_pin("2468", iterations=1000)
    lockout = PinLockout(max_attempts=5, lockout_seconds=300, clock=clock)
    assert [lockout.attempt("0000", stored) for _ in range(4)] == [False] * 4
    assert not lockout.locked()
    assert lockout.attempt("0000", stored) is False
    assert lockout.locked()
    assert lockout.attempt("2468", stored) is None  # not even checked while locked
    clock.now += 299
    assert lockout.locked() and 0 < lockout.remaining_seconds() <= 1
    clock.now += 1
    assert not lockout.locked()
    assert lockout.attempt("2468", stored) is True
    assert lockout.failures == 0


def test_a_right_pin_resets_the_count() -> None:
    stored = hash_pin("2468", iterations=1000)
    lockout = PinLockout(clock=Ticking())
    for _ in range(4):
        lockout.attempt("1111", stored)
    assert lockout.attempt("2468", stored) is True
    for _ in range(4):
        lockout.attempt("1111", stored)
    assert not lockout.locked()


CONFIG = """# Kiosk in the outpatient hall
[hospital]
name = "Bệnh viện Đa khoa tỉnh Hà Giang"  # shown on every screen

[kiosk]
id = "kiosk-hall-1"
admin_pin_hash = "old"
fullscreen = true

[printer]
connection = "usb:04b8:0202"
"""


def test_pin_hash_replaces_the_old_one_and_keeps_every_other_line() -> None:
    text = with_pin_hash(CONFIG, "pbkdf2_sha256$1$a$b")
    assert text.replace('admin_pin_hash = "pbkdf2_sha256$1$a$b"', 'admin_pin_hash = "old"') == (
        CONFIG
    )


def test_pin_hash_is_added_under_an_existing_kiosk_section() -> None:
    source = CONFIG.replace('admin_pin_hash = "old"\n', "")
    data = tomllib.loads(with_pin_hash(source, "pbkdf2_sha256$1$a$b"))
    assert data["kiosk"] == {
        "id": "kiosk-hall-1",
        "admin_pin_hash": "pbkdf2_sha256$1$a$b",
        "fullscreen": True,
    }
    assert data["printer"]["connection"] == "usb:04b8:0202"


def test_pin_hash_adds_a_kiosk_section_when_missing() -> None:
    text = with_pin_hash('[hospital]\nname = "X"', "pbkdf2_sha256$1$a$b")
    assert tomllib.loads(text) == {
        "hospital": {"name": "X"},
        "kiosk": {"admin_pin_hash": "pbkdf2_sha256$1$a$b"},
    }


@pytest.mark.parametrize("count", range(4, 21))
@pytest.mark.parametrize(("width", "height"), [(1016, 1600), (1856, 820)])
def test_grid_fits_touch_sized_tiles(count: int, width: int, height: int) -> None:
    """Portrait 1080x1920 and landscape 1920x1080 grid areas, 4 to 20 departments."""
    grid = department_grid(count, width, height, gap=20)
    assert not grid.scrolls
    assert grid.columns * grid.rows >= count
    assert grid.cell_height >= 120 and grid.cell_width >= 400
    assert grid.columns * grid.cell_width + (grid.columns - 1) * 20 <= width
    assert grid.rows * grid.cell_height + (grid.rows - 1) * 20 <= height


def test_grid_prefers_few_wide_columns_and_scrolls_rather_than_shrink() -> None:
    assert department_grid(12, 1016, 1600).columns == 2
    assert department_grid(4, 1016, 1600).columns == 1
    crowded = department_grid(60, 1016, 1600)
    assert crowded.scrolls and crowded.cell_height == 120


def test_contrast_maths_and_text_colour_choice() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert text_color_on("#EF6C00") == "#111111"  # white on orange fails, black passes
    assert text_color_on("#1565C0") == "#FFFFFF"
    assert text_color_on("#808080", dark="#707070", light="#909090") is None


def test_every_style_text_pair_passes_wcag_aa() -> None:
    from kiosk.ui import style

    for text, background in style.TEXT_PAIRS:
        assert contrast_ratio(text, background) >= 4.5, (text, background)
    assert contrast_ratio(style.TEXT, style.SURFACE) >= 7  # the issued number


def test_queue_commands_do_not_import_qt() -> None:
    code = (
        "import sys; from kiosk.cli import build_parser; build_parser(); "
        "import kiosk.commands.ui, kiosk.ui.pin, kiosk.ui.layout; "
        "assert 'PySide6' not in sys.modules, 'Qt imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
