"""Printing benchmark: time to render a ticket and to encode its ESC/POS job; bytes per ticket.

    .venv/bin/python bench/bench_printing.py [--rounds N]

Prints a table, then the figures as one JSON object on the last line (for `make bench`);
`run()` returns the same dict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.config import PrinterConfig
from printer.output import TicketPrinter
from printer.ticket import TicketContent, render_ticket

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


def median_ms(action: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def run(rounds: int = 30) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for paper, profile in ((80, "TM-T20II"), (58, "POS-5890")):
        image = render_ticket(CONTENT, paper)
        figures[f"render_ms_{paper}mm"] = median_ms(
            lambda p=paper: render_ticket(CONTENT, p), rounds
        )
        for encoding in ("raster", "compact"):
            printer = TicketPrinter(
                PrinterConfig(
                    connection="file:/dev/null",
                    paper_width_mm=paper,  # type: ignore[arg-type]
                    profile=profile,
                    encoding=encoding,  # type: ignore[arg-type]
                )
            )
            job = printer.encode(image, CONTENT)
            key = f"{encoding}_{paper}mm"
            figures[f"encode_ms_{key}"] = median_ms(
                lambda p=printer, i=image: p.encode(i, CONTENT), rounds
            )
            figures[f"bytes_{key}"] = len(job)
            # 9600 baud, 8N1: 960 bytes/s.
            figures[f"seconds_at_9600_baud_{key}"] = round(len(job) / 960, 1)
        figures[f"ticket_mm_{paper}mm"] = round(image.height / 8)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    figures = run(parser.parse_args().rounds)
    for key, value in figures.items():
        print(f"{key:36} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
