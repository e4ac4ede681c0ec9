"""Tap → number on screen (printing excluded): p50/p99/max over real taps, with pytest-qt.

    QT_QPA_PLATFORM=offscreen .venv/bin/pytest bench/bench_tap.py -q -s -p no:cacheprovider \
        --timeout 3600

The kiosk as `kiosk run` builds it (build_window) over a seeded SQLite store and the printer
`none`, the real monotonic clock and the real tap guard (500 ms after every page change). Each
tap is a press and, 80 ms later, a release, sent as separate events through the window's
QWindow as the platform sends them (Qt picks the widget under the finger, and the tap guard sees
both), only once the page has been shown for its guard time: a department tile, then "not in a
priority group". Timed: from the release that chooses (the second tap) to the number box's first
paint with the new number, the paint included; the ticket is committed in the store by then.
Not `mouseClick`: it hands both events straight to one widget, past the guard. As `kiosk run`
does once its first screen is up, what was made until then is frozen out of the garbage
collector (`BENCH_TAP_FREEZE=0`: not) and the worker warms up for the first ticket (an issue
rolled back, the ticket drawn; `BENCH_TAP_WARM_UP=0`: not); the full collections during the
taps are counted and timed.

`run()` (for `make bench`) runs this in its own process and returns its figures.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"
TAPS = int(os.environ.get("BENCH_TAPS", "100"))
HOLD_S = 0.08
OUTPUT = "BENCH_TAP_OUTPUT"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_tap_to_number(qtbot: Any) -> None:
    from PySide6.QtCore import QEvent, QObject, QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    from kiosk.app.kiosk_flow import KioskTimings
    from kiosk.collector import freeze_start_up_objects
    from kiosk.config import parse_config
    from kiosk.queue.db import open_database
    from kiosk.queue.seeds import seed_database
    from kiosk.queue.service import QueueService
    from kiosk.ui.app import build_window, warm_up_in_background
    from printer.output import TicketPrinter

    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    class PaintClock(QObject):
        """The number box's paints: each one done, then timed."""

        def __init__(self) -> None:
            super().__init__()
            self.painted: list[float] = []

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
                watched.event(event)  # the paint itself, inside the measured time
                self.painted.append(time.perf_counter())
                return True
            return False

    with tempfile.TemporaryDirectory(prefix="bench-tap-") as tmp:
        config = parse_config({"printer": {"connection": "none"}})
        engine = open_database(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        seed_database(engine, SEEDS)
        service = QueueService.from_config(engine, config)
        printer = TicketPrinter(config.printer, data_dir=Path(tmp))
        timings = KioskTimings(
            idle_ms=3_600_000, cooldown_ms=0, result_ms=3_600_000, message_ms=3_600_000
        )
        window = build_window(config, service, printer, timings=timings)
        window.resize(1080, 1920)
        window.show()
        window.start()
        qtbot.waitUntil(lambda: bool(window.home.grid.buttons) and not window.worker.busy)
        if os.environ.get("BENCH_TAP_FREEZE", "1") == "1":
            freeze_start_up_objects()  # as `kiosk run` does after its first screen
        if os.environ.get("BENCH_TAP_WARM_UP", "1") == "1":
            warm_up_in_background(window)  # as `kiosk run` does after its first screen
            qtbot.waitUntil(lambda: not window.worker.busy, timeout=60_000)
        clock = PaintClock()
        window.ticket.code.installEventFilter(clock)
        shown: list[Any] = []
        window.ticket_shown.connect(shown.append)
        grid = window.home.grid
        codes = [code for code in grid.buttons if grid.page_of(code) == grid.page]

        def tap(widget: QWidget) -> float:
            """Press, hold, release once the guard has passed; the release's time."""
            qtbot.waitUntil(lambda: window.guard_remaining() == 0, timeout=5000)
            point: QPoint = widget.mapTo(window, widget.rect().center())
            handle = window.windowHandle()
            QTest.mousePress(handle, left, none, point)
            qtbot.wait(int(HOLD_S * 1000))
            released = time.perf_counter()
            QTest.mouseRelease(handle, left, none, point)
            return released

        # The garbage collector's full passes during the taps, and how long each held the GIL.
        collections: list[float] = []
        began: list[float] = []

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                began[:] = [time.perf_counter()]
            elif info["generation"] == 2 and began:
                collections.append((time.perf_counter() - began[0]) * 1000)

        gc.callbacks.append(on_gc)
        durations = []
        try:
            for index in range(TAPS):
                code = codes[index % len(codes)]
                tap(grid.buttons[code])
                qtbot.waitUntil(lambda: window.current_page() == "priority", timeout=5000)
                before = len(shown)
                released = tap(window.priority.skip)
                qtbot.waitUntil(
                    lambda before=before, released=released: (
                        len(shown) > before and any(t > released for t in clock.painted)
                    ),
                    timeout=10_000,
                )
                painted = min(t for t in clock.painted if t > released)
                durations.append((painted - released) * 1000)
                assert window.ticket.code.text() == shown[-1].code, "another number painted"
                if os.environ.get("BENCH_TAP_PNG"):  # the number as painted, to look at
                    window.grab().save(os.environ["BENCH_TAP_PNG"])
                window.finish_ticket()
                qtbot.waitUntil(lambda: window.current_page() == "home", timeout=5000)
            issued = service.tickets_on(service.service_date())
            assert len(issued) == TAPS and len({t.id for t in issued}) == TAPS
        finally:
            gc.callbacks.remove(on_gc)
            window.shutdown()
            window.close()
            engine.dispose()
            gc.unfreeze()

    figures = {
        "taps": TAPS,
        "tap_to_number p50_ms": round(statistics.median(durations), 1),
        "tap_to_number p99_ms": round(_percentile(durations, 0.99), 1),
        "tap_to_number max_ms": round(max(durations), 1),
        "full gc passes during the taps": len(collections),
        "full gc pass max_ms": round(max(collections, default=0.0), 1),
    }
    print(json.dumps(figures))
    if os.environ.get(OUTPUT):
        Path(os.environ[OUTPUT]).write_text(json.dumps(figures), encoding="utf-8")


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-tap-run-") as tmp:
        output = Path(tmp) / "figures.json"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", OUTPUT: str(output)}
        command = [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"]
        command += ["--timeout", "3600", "--show-capture=no"]  # 100 taps outlast the tests' 300 s
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the tap benchmark failed:\n{done.stdout[-5000:]}{done.stderr}")
        figures: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
