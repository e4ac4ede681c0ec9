"""Scenario 5: a network printer that stops answering in the middle of a ticket.

The peer on 127.0.0.1 accepts the job, reads part of the image, then neither reads nor
answers. The print must give up after printer.timeout_seconds, the ticket must be cancelled
`print_failed` with a `device.status` event, the kiosk process must stay alive, and once the
printer answers again the next ticket prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.queue.db import open_database
from kiosk.queue.events import EventType
from kiosk.queue.models import Event, Ticket
from resilience.checks import assert_kiosk_consistent
from resilience.conftest import Recorder
from tests.printer.escpos_stream import parse_one
from tests.support.database import seed
from tests.support.server import wait_until

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "kiosk-hall-1"
TIMEOUT_SECONDS = 2.0
STALL_AFTER = 3000  # job bytes read before the printer goes silent
ONLINE = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}  # DLE EOT replies of a ready printer


class StallingPrinter:
    """An ESC/POS peer; `stalling` makes it go silent mid-job (until `close`)."""

    def __init__(self) -> None:
        self.stalling = True
        self.stalls = 0
        self.jobs: list[int] = []  # sizes of jobs received whole
        self._release = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        # A small receive window, so a silent printer stops the sender quickly.
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.port = self.server.getsockname()[1]
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer, at, job = b"", 0, False
        with conn:
            while True:
                try:
                    chunk = conn.recv(1024)
                except OSError:
                    return
                if not chunk:
                    break
                buffer += chunk
                while at < len(buffer):
                    command = parse_one(buffer, at)
                    if command is None:
                        break
                    job = job or command.name == "init"
                    if command.name == "status" and command.argument in ONLINE:
                        conn.sendall(bytes((ONLINE[command.argument],)))
                    at += command.length
                if job and self.stalling and len(buffer) >= STALL_AFTER:
                    with self._lock:
                        self.stalls += 1
                    self._release.wait(120)  # silent: reads nothing, answers nothing
                    return
        if job:
            with self._lock:
                self.jobs.append(len(buffer))

    def close(self) -> None:
        self._release.set()
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5)


class KioskProcess:
    def __init__(self, config: Path, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "resilience.kiosk_process", str(config), url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def issue(self, department: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"issue {department}\n")
        self.process.stdin.flush()
        line = self.read()
        assert line, f"the kiosk process died (exit {self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()


@pytest.mark.timeout(180)
def test_printer_silent_mid_ticket(tmp_path: Path, summary: Recorder) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    engine = open_database(url)
    seed(engine)
    peer = StallingPrinter()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\nid = "{ORIGIN}"\n\n[printer]\n'
        f'connection = "network:127.0.0.1:{peer.port}"\ntimeout_seconds = {TIMEOUT_SECONDS}\n',
        encoding="utf-8",
    )
    kiosk = KioskProcess(config, url)
    rounds = 3
    try:
        failed = []
        for _ in range(rounds):
            answer = kiosk.issue("NOI")
            assert answer["ok"] is False, answer
            assert answer["error"] == "PrintFailed", answer
            assert "\n" not in answer["message"]
            # Gave up after the configured timeout, not much later (and not before).
            assert TIMEOUT_SECONDS * 0.9 <= answer["seconds"] <= TIMEOUT_SECONDS + 5, answer
            assert kiosk.process.poll() is None, "the kiosk process died"
            failed.append(answer["ticket"])
        assert peer.stalls == rounds

        peer.stalling = False  # the printer is back
        good = kiosk.issue("NOI")
        assert good["ok"] is True, good
        wait_until(lambda: len(peer.jobs) == 1, 10, "the printer to receive the job")
    finally:
        kiosk.close()
        peer.close()

    with Session(engine) as session:
        tickets = {t.code: t for t in session.scalars(select(Ticket))}
        statuses = session.scalars(
            select(Event).where(Event.type == EventType.DEVICE_STATUS).order_by(Event.seq)
        ).all()
    for code in failed:
        assert tickets[code].status == "cancelled" and tickets[code].cancel_reason == (
            "print_failed"
        ), code
    assert tickets[good["code"]].status == "waiting"
    print_failures = [e for e in statuses if e.data.get("state") == "print_failed"]
    assert [e.data.get("ticket") for e in print_failures] == failed
    state = assert_kiosk_consistent(engine, ORIGIN)
    engine.dispose()
    summary.record(
        "5 printer silent mid-ticket",
        f"network printer reads {STALL_AFTER} B of the job, then neither reads nor answers",
        rounds,
        f"print gives up after timeout_seconds={TIMEOUT_SECONDS:g}; ticket cancelled "
        "print_failed + device.status event; kiosk process alive; next ticket prints",
        state.tickets,
    )
