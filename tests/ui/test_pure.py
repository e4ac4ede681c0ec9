"""Pure logic of the kiosk screen, without a display: layout and contrast."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.ui.layout import contrast_ratio, department_grid, text_color_on


@pytest.mark.parametrize("count", range(4, 21))
@pytest.mark.parametrize(("width", "height"), [(1016, 1600), (1856, 820)])
def test_grid_fits_touch_sized_tiles(count: int, width: int, height: int) -> None:
    """Portrait 1080x1920 and landscape 1920x1080 grid areas, 4 to 20 departments."""
    grid = department_grid(count, width, height, gap=20)
    assert grid.pages == 1
    assert grid.columns * grid.rows >= count
    assert grid.cell_height >= 150 and grid.cell_width >= 300
    assert grid.columns * grid.cell_width + (grid.columns - 1) * 20 <= width
    assert grid.rows * grid.cell_height + (grid.rows - 1) * 20 <= height


def test_grid_prefers_few_wide_columns_and_turns_pages_rather_than_shrink() -> None:
    assert department_grid(12, 1016, 1600).columns == 2
    assert department_grid(4, 1016, 1600).columns == 1
    crowded = department_grid(60, 1016, 1600)
    assert crowded.pages > 1 and crowded.cell_height >= 150
    assert crowded.rows * crowded.cell_height + crowded.rows * 20 + 120 <= 1600
    # 1366x768: columns from the width (four of 300+ px); 24 take pages.
    landscape = department_grid(12, 1302, 530)
    assert (landscape.columns, landscape.pages) == (4, 1)
    assert department_grid(24, 1302, 530).pages == 3


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
        "import kiosk.commands.ui, kiosk.app.pin, kiosk.ui.layout; "
        "assert 'PySide6' not in sys.modules, 'Qt imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
