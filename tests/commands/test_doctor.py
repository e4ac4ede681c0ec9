"""`kiosk doctor`: every check passes on a healthy kiosk and fails for the right reason."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import socket
import sqlite3
import subprocess
import sys
import threading
from collections import namedtuple
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiosk.config import Config
from kiosk.doctor import Check, Level, check_disk, run_checks
from kiosk.queue.db import open_database
from kiosk.queue.models import Event
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.database import seed
from tests.support.server import LiveServer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Kiosk:
    """A kiosk's config file, token file and seeded database in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "kiosk.db"
        self.url = f"sqlite:///{self.db}"
        self.token = root / "token"
        self.token.write_text("not-a-token\n", encoding="utf-8")
        self.engine = open_database(self.url)
        seed(self.engine)
        self.settings: dict[str, str] = {
            "printer": f'connection = "preview:{root / "tickets"}"',
            "server": "",
        }

    def write(self) -> str:
        path = self.root / "kiosk.toml"
        path.write_text(
            f'[kiosk]\nid = "kiosk-hall-1"\ndatabase_url = "{self.url}"\n'
            f"[printer]\n{self.settings['printer']}\n[server]\n{self.settings['server']}\n",
            encoding="utf-8",
        )
        return str(path)

    def serve_from(self, url: str, token: str) -> None:
        self.token.write_text(token + "\n", encoding="utf-8")
        self.settings["server"] = f'url = "{url}"\ntoken_file = "{self.token}"'

    def checks(self) -> dict[str, Check]:
        return {c.name: c for c in run_checks(self.write())}


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    kiosk = Kiosk(tmp_path)
    yield kiosk
    kiosk.engine.dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    seed(engine)
    token = add_device(engine, "kiosk-hall-1", "kiosk")
    live = LiveServer(create_app(engine, Config())).start()
    yield live, token
    live.stop()
    engine.dispose()


def test_healthy_kiosk_is_all_ok(kiosk: Kiosk, server: tuple[LiveServer, str]) -> None:
    live, token = server
    kiosk.serve_from(live.url, token)
    checks = kiosk.checks()
    assert [c.name for c in checks.values()] == [
        "config",
        "database",
        "printer",
        "server",
        "clock",
        "sync",
        "numbers",
        "disk",
    ]
    assert {n: c.level for n, c in checks.items()} == dict.fromkeys(checks, Level.OK), checks


def test_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("[numbering]\noffset = -1\n", encoding="utf-8")
    checks = run_checks(str(path))
    assert len(checks) == 1 and checks[0].level == Level.FAIL
    assert "numbering.offset = -1" in checks[0].message


def test_locked_database(kiosk: Kiosk) -> None:
    holder = sqlite3.connect(kiosk.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        check = kiosk.checks()["database"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert check.level == Level.FAIL and "locked by another process" in check.message
    assert "systemctl status kiosk" in check.hint


def test_unreachable_printer_peer(kiosk: Kiosk) -> None:
    port = closed_port()
    kiosk.settings["printer"] = f'connection = "network:127.0.0.1:{port}"'
    check = kiosk.checks()["printer"]
    assert check.level == Level.FAIL and "offline" in check.message
    assert f"port {port}" in check.hint


def test_server_down(kiosk: Kiosk) -> None:
    kiosk.serve_from(f"http://127.0.0.1:{closed_port()}", "whatever")
    check = kiosk.checks()["server"]
    assert check.level == Level.FAIL and "cannot reach" in check.message
    assert "/api/v1/health" in check.hint


def test_wrong_token(kiosk: Kiosk, server: tuple[LiveServer, str]) -> None:
    live, _token = server
    kiosk.serve_from(live.url, "wrong-token")
    check = kiosk.checks()["server"]
    assert check.level == Level.FAIL and "refused this kiosk's token" in check.message
    assert "add-device kiosk-hall-1 --role kiosk" in check.hint


class SkewedServer(BaseHTTPRequestHandler):
    """A server whose clock is ten minutes ahead: its Date header says so."""

    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "version": "x", "database": "ok", "departments": []})
        self.send_response(200)
        skewed = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        self.send_header("Date", email.utils.format_datetime(skewed, usegmt=True))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def date_time_string(self, timestamp: float | None = None) -> str:
        skewed = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        return email.utils.format_datetime(skewed, usegmt=True)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_clock_skew(kiosk: Kiosk) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SkewedServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        kiosk.serve_from(f"http://127.0.0.1:{httpd.server_address[1]}", "t")
        checks = kiosk.checks()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert checks["server"].level == Level.OK
    clock = checks["clock"]
    assert clock.level == Level.FAIL and "behind the server" in clock.message
    assert 590 <= int(clock.message.split()[4]) <= 610
    assert "NTP" in clock.hint


def test_rejected_and_old_unsynced_events(kiosk: Kiosk, server: tuple[LiveServer, str]) -> None:
    live, token = server
    kiosk.serve_from(live.url, token)
    service = QueueService(
        kiosk.engine,
        origin="kiosk-hall-1",
        clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    service.issue("NOI")
    sync = kiosk.checks()["sync"]
    assert sync.level == Level.WARN and "1 event(s) not yet on the server" in sync.message
    with Session(kiosk.engine) as session, session.begin():
        session.execute(update(Event).values(rejected_reason="duplicate number 1 of NOI"))
    sync = kiosk.checks()["sync"]
    assert sync.level == Level.FAIL and "duplicate number 1 of NOI" in sync.message


def test_disk_nearly_full(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**10, 10**10 - 10**7, 10**7))
    check = check_disk(tmp_path / "not" / "yet")
    assert check.level == Level.FAIL and str(tmp_path) in check.message


def test_command_prints_lines_and_exits_non_zero_on_a_fault(kiosk: Kiosk) -> None:
    kiosk.settings["printer"] = f'connection = "network:127.0.0.1:{closed_port()}"'
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", kiosk.write()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK    config")
    assert any(line.startswith("FAIL  printer") for line in lines)
    assert "1 failed" in result.stdout
    assert "Traceback" not in result.stderr
