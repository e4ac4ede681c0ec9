"""deploy/kiosk-session, kiosk.service's main process, with real processes: a stand-in for
cage 0.1.4 (which exits 0 however its app ended) and a stand-in for the app."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SESSION = ROOT / "deploy" / "kiosk-session"

# Like cage -d -- APP...: runs the app, exits 0 whatever became of it.
FAKE_CAGE = """#!/bin/sh
while [ "$1" != "--" ]; do shift; done
shift
"$@"
exit 0
"""


def session(tmp_path: Path, app_body: str) -> subprocess.Popen[str]:
    cage = tmp_path / "cage"
    cage.write_text(FAKE_CAGE, encoding="utf-8")
    app = tmp_path / "app"
    app.write_text(f"#!/bin/sh\n{app_body}\n", encoding="utf-8")
    for path in (cage, app):
        path.chmod(0o755)
    env = {
        **os.environ,
        "RUNTIME_DIRECTORY": str(tmp_path),
        "KIOSK_CAGE": str(cage),
        "KIOSK_APP": str(app),
    }
    return subprocess.Popen([str(SESSION)], env=env, text=True)


def app_pid(tmp_path: Path) -> int:
    pid_file = tmp_path / "app.pid"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = pid_file.read_text(encoding="utf-8").strip() if pid_file.exists() else ""
        if text:
            return int(text)
        time.sleep(0.05)
    raise AssertionError("the session wrote no app.pid")


def test_a_sigkilled_app_is_a_failure_not_a_clean_exit(tmp_path: Path) -> None:
    proc = session(tmp_path, "exec sleep 600")
    os.kill(app_pid(tmp_path), signal.SIGKILL)
    assert proc.wait(timeout=30) == 128 + signal.SIGKILL


def test_the_apps_own_exit_status_is_the_sessions(tmp_path: Path) -> None:
    assert session(tmp_path, "exit 3").wait(timeout=30) == 3
    assert session(tmp_path, "exit 0").wait(timeout=30) == 0


def test_stop_asks_the_app_to_quit_and_waits_for_the_session(tmp_path: Path) -> None:
    # The app dies of the TERM it was sent (no handler): asked to stop, that is success.
    proc = session(tmp_path, "exec sleep 600")
    app_pid(tmp_path)
    stop = subprocess.Popen(
        [str(SESSION), "stop", str(proc.pid)],
        env={**os.environ, "RUNTIME_DIRECTORY": str(tmp_path)},
    )
    # We are the session's parent here (systemd is, in the unit): reap it, so `stop` sees it go.
    assert proc.wait(timeout=30) == 0, "asked to stop: a clean exit"
    assert stop.wait(timeout=30) == 0
