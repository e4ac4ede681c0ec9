"""Kiosk screen benchmark (not a test): start-up, tap-to-number time and memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_kiosk.py

`run() -> dict` is what `make bench` calls. Printing is excluded: the printer is `none`
(status and print return at once), but the ticket image is still rendered, as in production.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait(app: Any, condition: Any, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the kiosk did not get there in time")
        app.processEvents()


BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(["bare", "-platform", "offscreen"])
window = QLabel("12 departments")
window.resize(1080, 1920)
window.show()
app.processEvents()
window.grab().save(sys.argv[1])
"""


def cold_start(runs: int = 3) -> dict[str, Any]:
    """Whole processes, interleaved: `kiosk run --screenshot` (the department grid with live
    counts, painted, then exit) against a bare PySide6 window painted and saved the same way."""
    import subprocess

    from kiosk.queue.db import open_database
    from kiosk.queue.seeds import seed_database

    kiosk_ms, bare_ms = [], []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'kiosk.db'}"
        engine = open_database(database)
        seed_database(engine, SEEDS)
        engine.dispose()
        config = Path(tmp) / "kiosk.toml"
        config.write_text('[printer]\nconnection = "none"\n', encoding="utf-8")
        kiosk = [sys.executable, "-m", "kiosk", "run", "--config", str(config)]
        kiosk += ["--database", database, "--screenshot", str(Path(tmp) / "kiosk.png")]
        bare = [sys.executable, "-c", BARE_WINDOW, str(Path(tmp) / "bare.png")]
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        for _ in range(runs):
            for command, samples in ((kiosk, kiosk_ms), (bare, bare_ms)):
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
                samples.append((time.perf_counter() - started) * 1000)
    kiosk_median, bare_median = statistics.median(kiosk_ms), statistics.median(bare_ms)
    return {
        "cold start to painted department grid (kiosk run --screenshot)_ms": round(kiosk_median, 1),
        "reference: cold start of a bare PySide6 window_ms": round(bare_median, 1),
        "ratio kiosk cold start / bare PySide6 window": round(kiosk_median / bare_median, 2),
    }


def run(taps: int = 30) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from kiosk.app.kiosk_flow import KioskTimings
    from kiosk.config import parse_config
    from kiosk.queue.db import open_database
    from kiosk.queue.seeds import seed_database
    from kiosk.queue.service import QueueService
    from kiosk.ui.app import build_window
    from kiosk.ui.qapp import create_application
    from printer.output import TicketPrinter

    rss_before = _rss_mb()
    app = create_application(offscreen=True)
    with tempfile.TemporaryDirectory(prefix="bench-kiosk-") as tmp:
        config = parse_config({"printer": {"connection": "none"}})
        engine = open_database(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        seed_database(engine, SEEDS)
        service = QueueService.from_config(engine, config)
        printer = TicketPrinter(config.printer, data_dir=Path(tmp))
        timings = KioskTimings(idle_ms=3_600_000, cooldown_ms=0, result_ms=3_600_000)

        started = time.perf_counter()
        window = build_window(config, service, printer, timings=timings)
        window.resize(1080, 1920)
        window.show()
        window.start()
        _wait(app, lambda: bool(window.home.grid.buttons) and not window.worker.busy)
        window.repaint()  # the first home screen with its departments, painted
        startup_ms = (time.perf_counter() - started) * 1000
        rss_home = _rss_mb()

        shown: list[Any] = []
        window.ticket_shown.connect(shown.append)
        durations = []
        codes = list(window.home.grid.buttons)
        for index in range(taps):
            button = window.home.grid.buttons[codes[index % len(codes)]]
            before = len(shown)
            tapped = time.perf_counter()
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)
            QTest.mouseClick(window.priority.skip, Qt.MouseButton.LeftButton)
            _wait(app, lambda before=before: len(shown) > before)
            window.ticket.repaint()
            durations.append((time.perf_counter() - tapped) * 1000)
            window.finish_ticket()
            _wait(app, lambda: not window.worker.busy)
        rss_after = _rss_mb()
        window.shutdown()
        window.close()
        engine.dispose()
    return {
        **cold_start(),
        "taps": taps,
        "tap_to_number_ms_median": round(statistics.median(durations), 1),
        "tap_to_number_ms_max": round(max(durations), 1),
        "startup_to_home_ms": round(startup_ms, 1),
        "rss_mb_before_qt": round(rss_before, 1),
        "rss_mb_home": round(rss_home, 1),
        "rss_mb_after_taps": round(rss_after, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
