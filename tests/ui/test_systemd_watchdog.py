"""The Qt event loop feeds the systemd watchdog, and stops feeding it when it is blocked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kiosk.ui.watchdog import SystemdWatchdog


class Listener:
    """Collects (time, message) datagrams on a real AF_UNIX socket in a thread."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.received: list[tuple[float, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(256)
            except TimeoutError:
                continue
            self.received.append((time.monotonic(), data))

    def messages(self) -> list[bytes]:
        return [m for _, m in self.received]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    path = tmp_path / "notify"
    listener = Listener(path)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # WatchdogSec=0.2 s: a ping every 0.1 s
    yield listener
    listener.close()


def test_ready_then_pings_that_stop_while_the_loop_is_blocked(
    qtbot: QtBot, listener: Listener
) -> None:
    watchdog = SystemdWatchdog()
    watchdog.start()
    qtbot.waitUntil(lambda: listener.messages().count(b"WATCHDOG=1") >= 3, timeout=30_000)
    assert listener.messages()[0] == b"READY=1"

    # Freeze the GUI thread the way a hung screen would: no event loop turns meanwhile.
    frozen_from = time.monotonic()
    time.sleep(1.0)
    frozen_to = time.monotonic()
    during = [
        t for t, m in listener.received if m == b"WATCHDOG=1" and frozen_from + 0.05 < t < frozen_to
    ]
    assert during == [], "no pings while the event loop is blocked"

    # The loop turns again: so do the pings.
    seen = len(listener.received)
    qtbot.waitUntil(lambda: len(listener.received) >= seen + 2, timeout=30_000)
    watchdog.stop()


def test_kiosk_run_says_ready_and_feeds_the_watchdog(tmp_path: Path, listener: Listener) -> None:
    """The real `kiosk run` process, as systemd starts it (Type=notify, WatchdogSec=)."""
    import os
    import signal
    import subprocess
    import sys

    from tests.support.kiosk import seeded_kiosk_store

    database, config = seeded_kiosk_store(tmp_path)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_DATA_DIR": str(tmp_path / "data"),
        "WATCHDOG_PID": "1",  # under cage it names cage, not us: must not matter
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(config), "run", "--database", database],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while listener.messages().count(b"WATCHDOG=1") < 2 and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr and process.stderr.read()
            threading.Event().wait(0.05)
        messages = listener.messages()
        assert messages[:1] == [b"READY=1"], messages
        assert messages.count(b"WATCHDOG=1") >= 2, messages
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
