"""Benchmark of the waiting-room board: from a call made at the server to the board showing it.

A script, not a test: `python bench/bench_board.py`. The central server runs in-process
(uvicorn on 127.0.0.1, SQLite); a counter's HTTP client calls tickets from a helper thread
while the board (offscreen, silent announcer) long-polls the feed. Each sample is the time
from just before the `call-next` request leaves to the board's `call_shown` signal: the HTTP
call, the commit, the long-poll wake-up, the answer and the repaint. `run()` returns the
figures for `make bench`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import summarise  # noqa: E402

SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
CALLS = int(os.environ.get("BENCH_BOARD_CALLS", "200"))


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def run(calls: int = CALLS) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop

    from kiosk.config import parse_config
    from kiosk.demo import silent_announcer
    from kiosk.queue.db import open_database
    from kiosk.queue.seeds import seed_database
    from kiosk.queue.service import QueueService
    from kiosk.ui.board_window import BoardTimings, BoardWindow
    from kiosk.ui.qapp import create_application
    from kiosk.ui.style import apply_style, load_fonts
    from server_sync.server import create_app
    from server_sync.server.devices import add_device
    from server_sync.server.embedded import EmbeddedServer
    from server_sync.staff import StaffClient

    app = create_application(offscreen=True)
    family = load_fonts()
    apply_style(app, family)
    with tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'server.db'}")
        seed_database(engine, SEED_FILE)
        tokens = {role: add_device(engine, f"{role}-1", role) for role in ("counter", "board")}
        server = EmbeddedServer()
        config = parse_config({"server": {"url": server.url}, "board": {"speech": False}})
        server.factory = lambda: create_app(engine, config)
        server.start()
        service = QueueService(engine, origin="kiosk-bench")
        for _ in range(calls + 2):
            service.issue("NOI")
        board = BoardWindow(
            config,
            StaffClient(server.url, tokens["board"]),
            family=family,
            announcer=silent_announcer(config),
            timings=BoardTimings(feed_wait=5.0),
        )
        board.resize(1920, 1080)
        board.show()
        shown: dict[str, float] = {}
        board.call_shown.connect(lambda call: shown.setdefault(call.code, time.perf_counter()))
        board.start()
        counter = StaffClient(server.url, tokens["counter"])

        def pump_until(predicate: Any, timeout: float = 10.0) -> None:
            deadline = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > deadline:
                    raise RuntimeError("the board did not show the call in time")
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
                time.sleep(0.0005)

        pump_until(lambda: board.online is True and board.feed.worker.busy)
        samples: list[float] = []
        try:
            for index in range(calls):
                sent: dict[str, Any] = {}

                def call(i: int = index, out: dict[str, Any] = sent) -> None:
                    out["t0"] = time.perf_counter()
                    ticket = counter.call_next("NOI", "101", f"bench-call-{i:06d}")
                    out["code"] = ticket.code if ticket else None

                thread = threading.Thread(target=call)
                thread.start()
                pump_until(lambda s=sent: "code" in s and s["code"] in shown)
                thread.join()
                samples.append((shown[sent["code"]] - sent["t0"]) * 1000)
        finally:
            counter.close()
            board.shutdown()
            board.close()
            board.deleteLater()
            app.processEvents()
            server.stop()
            engine.dispose()
    figure = summarise(samples, "ms")
    figure["p99"] = _p99(samples)
    return {"board: call at the server → shown on the board": figure}


if __name__ == "__main__":
    for label, figure in run().items():
        print(
            f"{label}: p50 {figure['median']:.1f} ms, p90 {figure['p90']:.1f} ms, "
            f"p99 {figure['p99']:.1f} ms, max {figure['max']:.1f} ms ({figure['runs']} calls)"
        )
