"""Kiosk screen benchmark (not a test): start-up and memory (taps: bench_tap.py).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_kiosk.py

`run() -> dict` is what `make bench` calls. Printing is excluded: the printer is `none`
(status and print return at once), but the ticket image is still rendered, as in production.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
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


# Appended to each measured program: its peak RSS (VmHWM, reset at exec) as its last line on
# stderr. (The rusage of a child counts the parent's pages it had before exec.)
PEAK = """
import atexit as _atexit, sys as _sys
def _peak():
    for _line in open("/proc/self/status"):
        if _line.startswith("VmHWM:"):
            print("peak_kb", _line.split()[1], file=_sys.stderr, flush=True)
_atexit.register(_peak)
"""
KIOSK = PEAK + "import runpy\nrunpy.run_module('kiosk', run_name='__main__')\n"


def _timed_process(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall milliseconds and peak RSS (MB) of one whole process."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("peak_kb ")]
    return elapsed, int(peak[-1]) / 1024


def _until_ready(command: list[str], env: dict[str, str], directory: Path) -> tuple[float, float]:
    """Wall milliseconds from starting `kiosk run` until it tells systemd READY=1 (its
    department grid painted with live counts), and its peak RSS (MB) then; then it is stopped
    as systemd stops it (SIGTERM)."""
    address = directory / "notify"
    address.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        sock.settimeout(60)
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "NOTIFY_SOCKET": str(address)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = False
        try:
            while sock.recv(256) != b"READY=1":
                pass
            ready = True
            elapsed = (time.perf_counter() - started) * 1000
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
        except TimeoutError:
            process.kill()
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
    if not ready:
        raise RuntimeError(f"kiosk run never said READY=1: {stderr[-2000:]}")
    return elapsed, peak / 1024


def _bytecode_compiled() -> None:
    """The product's modules compiled, as an installed kiosk has them (pip compiles a wheel's
    modules when it installs it): the processes measured never compile source. In a checkout,
    a module changed since its last .pyc was written would be compiled on every start, and with
    PYTHONDONTWRITEBYTECODE set (some shells, CI) no start writes one."""
    import compileall

    for package in ("kiosk", "printer", "server_sync"):
        compileall.compile_dir(ROOT / package, quiet=1)


def cold_start(runs: int = 3) -> dict[str, Any]:
    """Whole processes, interleaved: `kiosk run --screenshot` (the department grid with live
    counts, painted, then exit) against a bare PySide6 window painted and saved the same way;
    the peak RSS of each. `kiosk run` to READY=1 as a kiosk restarts (its config validated at
    an earlier start), and as it starts first after its config file changed."""
    from kiosk.config import CHECKED_CONFIG_FILE
    from kiosk.queue.db import open_database
    from kiosk.queue.seeds import seed_database

    kiosk_ms: list[float] = []
    bare_ms: list[float] = []
    kiosk_mb: list[float] = []
    bare_mb: list[float] = []
    run_ms: list[float] = []
    changed_ms: list[float] = []
    run_mb: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'kiosk.db'}"
        engine = open_database(database)
        seed_database(engine, SEEDS)
        engine.dispose()
        config = Path(tmp) / "kiosk.toml"
        config.write_text('[printer]\nconnection = "none"\n', encoding="utf-8")
        kiosk = [sys.executable, "-c", KIOSK, "run", "--config", str(config)]
        kiosk += ["--database", database, "--screenshot", str(Path(tmp) / "kiosk.png")]
        bare = [sys.executable, "-c", PEAK + BARE_WINDOW, str(Path(tmp) / "bare.png")]
        # As in production: a network printer and a server (neither answers; both are used
        # only after the first screen).
        token = Path(tmp) / "token"
        token.write_text("t" * 40, encoding="utf-8")
        production = Path(tmp) / "run.toml"
        production.write_text(
            '[printer]\nconnection = "network:127.0.0.1:9"\n'
            f'[server]\nurl = "http://127.0.0.1:9"\ntoken_file = "{token}"\n',
            encoding="utf-8",
        )
        run = [sys.executable, "-m", "kiosk", "run", "--config", str(production)]
        run += ["--database", database]
        # Each program its own data directory, where it keeps the values of the config it
        # validated (kiosk.config.load_checked_config): a kiosk has one config.
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(tmp)}
        run_env = {**env, "KIOSK_DATA_DIR": str(Path(tmp) / "run")}
        _bytecode_compiled()
        # The file cache warm and the config checked, as after the kiosk's first boot.
        _timed_process(kiosk, env)
        _until_ready(run, run_env, Path(tmp))
        for _ in range(runs):
            for command, samples, sizes in ((kiosk, kiosk_ms, kiosk_mb), (bare, bare_ms, bare_mb)):
                elapsed, peak = _timed_process(command, env)
                samples.append(elapsed)
                sizes.append(peak)
            elapsed, peak = _until_ready(run, run_env, Path(tmp))
            run_ms.append(elapsed)
            run_mb.append(peak)
            # The first start after the config file changed: it is validated before the screen.
            (Path(tmp) / "run" / CHECKED_CONFIG_FILE).unlink()
            changed_ms.append(_until_ready(run, run_env, Path(tmp))[0])
    kiosk_median, bare_median = statistics.median(kiosk_ms), statistics.median(bare_ms)
    run_median = statistics.median(run_ms)
    return {
        "kiosk run (network printer, server) to READY=1 with the grid painted_ms": round(
            run_median, 1
        ),
        "ratio kiosk run to READY=1 / bare PySide6 window": round(run_median / bare_median, 2),
        "kiosk run to READY=1, its config file changed since its last start_ms": round(
            statistics.median(changed_ms), 1
        ),
        "rss_mb kiosk run at READY=1": round(max(run_mb), 1),
        "cold start to painted department grid (kiosk run --screenshot)_ms": round(kiosk_median, 1),
        "reference: cold start of a bare PySide6 window_ms": round(bare_median, 1),
        "ratio kiosk cold start / bare PySide6 window": round(kiosk_median / bare_median, 2),
        "peak rss_mb kiosk run --screenshot": round(max(kiosk_mb), 1),
        "peak rss_mb bare PySide6 window (reference)": round(max(bare_mb), 1),
    }


def run() -> dict[str, Any]:
    """Cold start as whole processes; then, in this process, the window built over a seeded
    store until its department grid is painted, and the memory it holds then. Taps:
    bench_tap.py (real press and release events through the tap guard)."""
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
        window.shutdown()
        window.close()
        engine.dispose()
    return {
        **cold_start(),
        "in-process window to painted grid startup_ms": round(startup_ms, 1),
        "rss_mb in-process before Qt": round(rss_before, 1),
        "rss_mb in-process at home": round(rss_home, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
