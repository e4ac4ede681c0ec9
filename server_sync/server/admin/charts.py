"""Charts drawn on the server as SVG: no script, nothing to vendor, readable without colour
(every bar carries its number, the heat map its count)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = 'font-family="Noto Sans, DejaVu Sans, sans-serif"'


def bar_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    title: str,
    color: str = "#0b5cad",
    chart_id: str,
    width: int = 600,
    height: int = 260,
) -> str:
    """Vertical bars with their values above them and the labels below."""
    top, bottom, left, right = 28, 28, 8, 8
    plot_h = height - top - bottom
    slot = (width - left - right) / max(1, len(values))
    peak = max(values, default=0) or 1
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart-svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" {FONT}>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#8c959f"/>',
    ]
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_h = plot_h * value / peak
        x = left + index * slot + slot * 0.15
        y = top + plot_h - bar_h
        parts.append(
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value}" x="{x:.1f}" '
            f'y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="{escape(color)}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if value:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" font-size="13" '
                f'text-anchor="middle" fill="#1b1f23">{value}</text>'
            )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 10}" font-size="13" '
            f'text-anchor="middle" fill="#57606a">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heat_map(
    grid: Sequence[Sequence[int]],
    row_labels: Sequence[str],
    *,
    title: str,
    chart_id: str,
    first_hour: int = 0,
    last_hour: int = 23,
) -> str:
    """Weekday rows × hour columns, darker where more patients arrived, each cell numbered."""
    hours = list(range(first_hour, last_hour + 1))
    cell_w, cell_h, left, top = 38, 30, 64, 22
    width = left + cell_w * len(hours) + 4
    height = top + cell_h * len(grid) + 4
    peak = max((max(row[h] for h in hours) for row in grid), default=0) or 1
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart-svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT}>'
    ]
    for column, hour in enumerate(hours):
        parts.append(
            f'<text x="{left + column * cell_w + cell_w / 2}" y="14" font-size="13" '
            f'text-anchor="middle" fill="#57606a">{hour}h</text>'
        )
    for row_index, (row, label) in enumerate(zip(grid, row_labels, strict=True)):
        y = top + row_index * cell_h
        parts.append(
            f'<text x="{left - 6}" y="{y + cell_h / 2 + 4}" font-size="12" text-anchor="end" '
            f'fill="#1b1f23">{escape(label)}</text>'
        )
        for column, hour in enumerate(hours):
            value = row[hour]
            share = value / peak
            # From white to the console's blue; text turns white on dark cells (contrast).
            shade = (
                int(255 - (255 - 11) * share),
                int(255 - (255 - 61) * share),
                int(255 - (255 - 110) * share),
            )
            fill = "#{:02x}{:02x}{:02x}".format(*shade)
            ink = "#ffffff" if share > 0.55 else "#1b1f23"
            x = left + column * cell_w
            parts.append(
                f'<rect class="cell" data-value="{value}" x="{x}" y="{y}" width="{cell_w - 2}" '
                f'height="{cell_h - 2}" rx="3" fill="{fill}"><title>{escape(label)} {hour}h: '
                f"{value}</title></rect>"
            )
            if value:
                parts.append(
                    f'<text x="{x + cell_w / 2 - 1}" y="{y + cell_h / 2 + 4}" font-size="13" '
                    f'text-anchor="middle" fill="{ink}">{value}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)
