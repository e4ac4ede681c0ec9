"""Printing benchmark: time to render a ticket and encode its ESC/POS job; bytes and seconds on
a serial link per ticket, for each encoding and profile.

    .venv/bin/python bench/bench_printing.py [--rounds N]

Every round is a new ticket (its own code, count, time and QR code), so the figures are what a
patient waits for: the static parts are drawn once, as in the kiosk. The reference is Pillow
itself drawing an image of the ticket's size (one text line, thresholded to 1 bit), in the same
run. Serial seconds are bytes x 10 bits (8N1) / baud. Prints a table, then the figures as one
JSON object on the last line (for `make bench`); `run()` returns the same dict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw

from kiosk.config import PrinterConfig
from printer.output import TicketPrinter
from printer.ticket import FONT_BOLD, TicketContent, font, render_ticket

CONTENT = TicketContent(
    hospital_name="Bệnh viện Đa khoa tỉnh Hà Giang",
    department_name="Khám Phục hồi chức năng và Vật lý trị liệu",
    code="B012",
    priority_label="Ưu tiên: Người từ 75 tuổi",
    directions="Tầng 1, dãy nhà A, phòng 101 đến 103",
    ahead=5,
    estimated_wait_minutes=14,
    issued_at=dt.datetime(2026, 11, 28, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    status_url="http://192.168.1.10:8080/t/3f2b8c1e-7d4a-4e6b-9c2d-1a2b3c4d5e6f",
    footer="Xin cảm ơn! Vui lòng giữ phiếu này.",
)
BAUDS = (9600, 115200)
# (paper, profile, encoding, what the profile offers)
CASES = (
    (80, "TM-T20II", "raster", ""),
    (80, "TM-T20II", "compact", "TCVN-3"),
    (80, "NT-80-V-UL", "compact", "CP1258"),
    (80, "TSP600", "compact", "no Vietnamese code page"),
    (58, "POS-5890", "raster", ""),
    (58, "POS-5890", "compact", "CP1258, no native QR"),
)


def ticket(number: int) -> TicketContent:
    """The benchmark ticket, with what changes from one ticket to the next changed."""
    return replace(
        CONTENT,
        code=f"B{number % 1000:03d}",
        ahead=5 + number % 7,
        issued_at=CONTENT.issued_at + dt.timedelta(minutes=number),
        status_url=f"{CONTENT.status_url[:-6]}{number:06d}",
    )


def pillow_reference(width: int, height: int) -> None:
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text((16, 40), "B012", font=font(FONT_BOLD, 40), fill=0)
    image.point(lambda v: 255 if v >= 128 else 0).convert("1")


def run(rounds: int = 30) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for paper, profile, encoding, offers in CASES:
        printer = TicketPrinter(
            PrinterConfig(
                connection="file:/dev/null",
                paper_width_mm=paper,
                profile=profile,
                encoding=encoding,
            )
        )
        printer.encode(render_ticket(CONTENT, paper), CONTENT)  # the static parts, once
        times, sizes = [], []
        for number in range(rounds):
            content = ticket(1000 * paper + number)
            start = time.perf_counter()
            image = render_ticket(content, paper)
            job = printer.encode(image, content)
            times.append((time.perf_counter() - start) * 1000)
            sizes.append(len(job))
        key = f"{paper}mm {profile} {encoding}" + (f" ({offers})" if offers else "")
        size = max(sizes)
        figures[f"render+encode_ms {key}"] = round(statistics.median(times), 2)
        figures[f"bytes {key}"] = size
        for baud in BAUDS:
            figures[f"seconds at {baud} baud {key}"] = round(size * 10 / baud, 2)
        if encoding == "raster":
            figures[f"ticket_mm {paper}mm"] = round(image.height / 8)
            reference = []
            for _ in range(rounds):
                start = time.perf_counter()
                pillow_reference(image.width, image.height)
                reference.append((time.perf_counter() - start) * 1000)
            ref = statistics.median(reference)
            figures[f"reference_ms Pillow draws a {image.width}x{image.height} image"] = round(
                ref, 2
            )
            figures[f"ratio render+encode / Pillow reference {paper}mm"] = round(
                statistics.median(times) / ref, 2
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--rounds", type=int, default=30)
    figures = run(parser.parse_args().rounds)
    for key, value in figures.items():
        print(f"{key:70} {value}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
