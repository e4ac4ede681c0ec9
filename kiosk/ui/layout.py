"""Pure layout and colour maths for the kiosk screens (no Qt: tested without a display)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Touch targets >= 120 px tall at 1080 wide, >= 16 px apart.
MIN_TARGET_HEIGHT = 120
# A department tile holds two lines of name over its status line.
MIN_TILE_HEIGHT = 150
MIN_TARGET_WIDTH = 300
PREFERRED_TARGET_HEIGHT = 170
MAX_TARGET_HEIGHT = 300
TARGET_GAP = 20
MAX_COLUMNS = 5


@dataclass(frozen=True)
class GridLayout:
    columns: int
    rows: int  # rows on one page
    cell_width: int
    cell_height: int
    per_page: int
    pages: int  # more than one: the grid shows a page at a time, with buttons to turn


def department_grid(
    count: int,
    width: int,
    height: int,
    *,
    gap: int = TARGET_GAP,
    min_height: int = MIN_TILE_HEIGHT,
    min_width: int = MIN_TARGET_WIDTH,
    preferred_height: int = PREFERRED_TARGET_HEIGHT,
    max_height: int = MAX_TARGET_HEIGHT,
    max_columns: int = MAX_COLUMNS,
    pager_height: int = MIN_TARGET_HEIGHT,
) -> GridLayout:
    """Columns, cell size and pages for `count` buttons in a `width` x `height` area.

    Columns come from the space: never narrower than `min_width`. All on one page if the
    tiles can be at least `min_height` tall: then the fewest columns whose rows are at least
    `preferred_height` tall win (wide buttons keep long Vietnamese names on one or two lines),
    failing that the tallest tiles. Otherwise the grid shows pages of as many rows as fit above
    a row of `pager_height` with the buttons that turn them (no hidden scrolling).
    """
    count = max(1, count)
    width = max(1, width)
    height = max(1, height)
    widest = 1
    options: list[tuple[int, int, int]] = []  # (columns, cell width, cell height)
    for columns in range(1, min(max_columns, count) + 1):
        cell_width = (width - (columns - 1) * gap) // columns
        if cell_width < min_width and columns > 1:
            break
        widest = columns
        rows = math.ceil(count / columns)
        options.append((columns, cell_width, (height - (rows - 1) * gap) // rows))
    fitting = [o for o in options if o[2] >= min_height]
    if fitting:
        chosen = next((o for o in fitting if o[2] >= preferred_height), None)
        if chosen is None:
            chosen = max(fitting, key=lambda o: (o[2], -o[0]))
        columns, cell_width, cell_height = chosen
        rows = math.ceil(count / columns)
        return GridLayout(
            columns, rows, cell_width, min(cell_height, max_height), columns * rows, 1
        )
    columns = widest
    cell_width = (width - (columns - 1) * gap) // columns
    available = height - pager_height - gap
    rows = max(1, (available + gap) // (min_height + gap))
    cell_height = max(1, min(max_height, (available - (rows - 1) * gap) // rows))
    per_page = rows * columns
    return GridLayout(columns, rows, cell_width, cell_height, per_page, math.ceil(count / per_page))


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


NARROWEST_PRIORITY_TILE = 290


@dataclass(frozen=True)
class PriorityPlacement:
    """Where the priority step's parts go. `skip` ("not in a priority group") covers the band
    where the department tile was, so a second tap on the department lands on it; the groups
    fill the space above and below, the title block (with Back) takes the top of one of them.
    `title_option` is the index of the title height used (the caller's fuller texts first)."""

    title: Box
    skip: Box
    tiles: list[Box]
    tile_columns: int
    title_option: int
    fits: bool


def priority_layout(
    width: int,
    height: int,
    count: int,
    band: tuple[int, int],
    title_heights: Sequence[int],
    *,
    margin: int = 32,
    gap: int = TARGET_GAP,
    skip_min_height: int = 150,
    tile_min_height: int = MIN_TARGET_HEIGHT,
    tile_max_height: int = 220,
    tile_min_width: int = 330,
    max_columns: int = 4,
) -> PriorityPlacement:
    """Place the priority step in `width` x `height` around `band` (top, bottom: where the tapped
    department was). The skip button spans the full width over the band (at least
    `skip_min_height` tall); `count` group tiles take the tallest rows that fit in what is left,
    with the first title height (fullest title) that lets them fit, above or below the band.
    """
    inner_w = max(1, width - 2 * margin)
    top, bottom = band
    centre = (top + bottom) / 2
    skip_h = max(skip_min_height, bottom - top)
    skip_y = round(centre - skip_h / 2)
    skip_y = max(margin, min(skip_y, height - margin - skip_h))
    skip = Box(margin, skip_y, inner_w, skip_h)
    free = [(margin, skip_y - gap), (skip_y + skip_h + gap, height - margin)]

    def attempt(
        option: int, title_zone: int, above: bool = True
    ) -> tuple[int, int, list[tuple[int, int]]] | None:
        title_h = title_heights[option]
        zones = [list(z) for z in free]
        if zones[title_zone][1] - zones[title_zone][0] < title_h:
            return None
        zones[title_zone][0] += title_h + gap
        if not above:  # no groups above the band (they would come before their question)
            zones[0][1] = zones[0][0]
        spans = [max(0, end - start) for start, end in zones]
        best: tuple[int, int] | None = None  # (tile height, columns)
        for columns in range(1, min(max_columns, max(1, count)) + 1):
            cell_w = (inner_w - (columns - 1) * gap) // columns
            if cell_w < tile_min_width and columns > 1:
                break
            rows = math.ceil(count / columns)
            tile_h = min(tile_max_height, max(spans))
            while tile_h >= tile_min_height:
                if sum((span + gap) // (tile_h + gap) for span in spans) >= rows:
                    break
                tile_h -= 2
            if tile_h >= tile_min_height and (best is None or tile_h > best[0]):
                best = (tile_h, columns)
        if best is None:
            return None
        return best[0], best[1], [(z[0], z[1]) for z in zones]

    Choice = tuple[int, int, int, int, list[tuple[int, int]]]  # option, zone, h, columns, zones
    chosen: Choice | None = None
    # The title above the band where it fits (reading order), fullest first; else below it,
    # with the groups under it too if they fit there.
    for zone, above in ((0, True), (1, False), (1, True)):
        for option in range(len(title_heights)):
            result = attempt(option, zone, above)
            if result is not None:
                chosen = (option, zone, *result)
                break
        if chosen is not None:
            break
    fits = chosen is not None
    if chosen is None and tile_min_width > NARROWEST_PRIORITY_TILE:
        # Narrower tiles (three across a 1024-px screen) before rows too short for a finger.
        return priority_layout(
            width,
            height,
            count,
            band,
            title_heights,
            margin=margin,
            gap=gap,
            skip_min_height=skip_min_height,
            tile_min_height=tile_min_height,
            tile_max_height=tile_max_height,
            tile_min_width=NARROWEST_PRIORITY_TILE,
            max_columns=max_columns,
        )
    if chosen is None:
        # Nothing fits (a window smaller than any kiosk): the shortest title above the band,
        # the rows shared out in what is left, smaller than a finger wants.
        option = len(title_heights) - 1
        zone = 0 if free[0][1] - free[0][0] >= title_heights[option] else 1
        zones = [list(z) for z in free]
        zones[zone][0] += title_heights[option] + gap
        columns = max(1, min(max_columns, count, (inner_w + gap) // (tile_min_width + gap)))
        rows = math.ceil(count / columns)
        span = max(zones, key=lambda z: z[1] - z[0])
        tile_h = max(40, (span[1] - span[0] - (rows - 1) * gap) // max(1, rows))
        chosen = (option, zone, tile_h, columns, [(span[0], span[1])] * 2)
    option, zone, tile_h, columns, spans = chosen
    title = Box(margin, free[zone][0], inner_w, title_heights[option])
    cell_w = (inner_w - (columns - 1) * gap) // columns
    tiles: list[Box] = []
    index = 0
    y = spans[0][0]
    for row in range(math.ceil(count / columns)):
        while index < 1 and y + tile_h > spans[index][1]:
            index += 1
            y = spans[index][0]
        in_row = min(columns, count - row * columns)
        left = margin + (inner_w - (in_row * cell_w + (in_row - 1) * gap)) // 2
        for column in range(in_row):
            tiles.append(Box(left + column * (cell_w + gap), y, cell_w, tile_h))
        y += tile_h + gap
    return PriorityPlacement(title, skip, tiles, columns, option, fits)


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
