"""Pure layout and colour maths for the kiosk screens (no Qt: tested without a display)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Touch targets >= 120 px tall at 1080 wide, >= 16 px apart.
MIN_TARGET_HEIGHT = 120
MIN_TARGET_WIDTH = 400
PREFERRED_TARGET_HEIGHT = 170
MAX_TARGET_HEIGHT = 300
TARGET_GAP = 20
MAX_COLUMNS = 5


@dataclass(frozen=True)
class GridLayout:
    columns: int
    rows: int
    cell_width: int
    cell_height: int
    # True when even the densest grid leaves targets too small: the grid scrolls instead.
    scrolls: bool


def department_grid(
    count: int,
    width: int,
    height: int,
    *,
    gap: int = TARGET_GAP,
    min_height: int = MIN_TARGET_HEIGHT,
    min_width: int = MIN_TARGET_WIDTH,
    preferred_height: int = PREFERRED_TARGET_HEIGHT,
    max_height: int = MAX_TARGET_HEIGHT,
    max_columns: int = MAX_COLUMNS,
) -> GridLayout:
    """Columns and cell size for `count` buttons in a `width` x `height` area.

    The fewest columns whose rows are at least `preferred_height` tall win (wide buttons keep
    long Vietnamese names on one or two lines); failing that, the column count giving the
    tallest buttons. Columns are never narrower than `min_width`. If even then the buttons
    would be under `min_height`, they keep `min_height` and the grid scrolls.
    """
    count = max(1, count)
    width = max(1, width)
    height = max(1, height)
    options: list[tuple[int, int, int]] = []  # (columns, cell width, cell height)
    for columns in range(1, min(max_columns, count) + 1):
        cell_width = (width - (columns - 1) * gap) // columns
        if cell_width < min_width and columns > 1:
            break
        rows = math.ceil(count / columns)
        options.append((columns, cell_width, (height - (rows - 1) * gap) // rows))
    chosen = next((o for o in options if o[2] >= preferred_height), None)
    if chosen is None:
        chosen = max(options, key=lambda o: (o[2], -o[0]))
    columns, cell_width, cell_height = chosen
    rows = math.ceil(count / columns)
    if cell_height < min_height:
        return GridLayout(columns, rows, cell_width, min_height, True)
    return GridLayout(columns, rows, cell_width, min(cell_height, max_height), False)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def parse_hex(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"not a #RRGGBB colour: {color!r}")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def relative_luminance(color: str) -> float:
    r, g, b = parse_hex(color)
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio between two #RRGGBB colours (1.0 to 21.0)."""
    a, b = relative_luminance(first), relative_luminance(second)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def text_color_on(background: str, dark: str = "#111111", light: str = "#FFFFFF") -> str | None:
    """The better of `dark` and `light` on `background`, or None when neither reaches 4.5:1."""
    best = max((dark, light), key=lambda c: contrast_ratio(c, background))
    return best if contrast_ratio(best, background) >= 4.5 else None
