"""`kiosk server` under systemd (Type=notify): READY=1 only once the port answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_ready_is_sent_after_the_port_is_bound_and_stopping_at_the_end(tmp_path: Path) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(60)
    port = free_port()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[server]\nport = {port}\ndatabase_url = "sqlite:///{tmp_path / "server.db"}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")}
    server = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "server", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        message = notify.recv(256).decode()
        # The moment READY=1 arrives the server must answer: no retry here.
        health = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=30)
        assert health.status_code == 200
        assert message.splitlines()[0] == "READY=1"
        assert f"STATUS=listening on 127.0.0.1:{port}" in message
        server.terminate()
        assert notify.recv(256) == b"STOPPING=1"
        _, stderr = server.communicate(timeout=30)
        # uvicorn re-raises the signal after its clean shutdown; systemd counts that as clean.
        assert server.returncode in (0, -signal.SIGTERM), stderr
        assert "Application shutdown complete" in stderr
        # What the server made until it served is out of the garbage collector's sight.
        assert "start-up objects frozen out of the garbage collector" in stderr
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
        notify.close()
