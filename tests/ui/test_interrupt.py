"""Ctrl-C ends `kiosk run`: the real process, the real signal (Qt's loop used to swallow it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.kiosk import seeded_kiosk_store

ROOT = Path(__file__).resolve().parents[2]


def test_ctrl_c_ends_kiosk_run_with_status_130(tmp_path: Path) -> None:
    database, config = seeded_kiosk_store(tmp_path)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(tmp_path / "d")}
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(config), "run", "--database", database],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    running = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "running (fullscreen" in line:
                running.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert running.wait(120), "".join(lines)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(10)
        process.stderr.close()
    assert not any("KeyboardInterrupt" in line for line in lines), "".join(lines)
