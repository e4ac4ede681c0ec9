"""Each new device problem goes to the webhook once; one process sends (advisory lock)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine

from kiosk.devicestatus import build_device_status
from kiosk.queue.service import QueueService
from server_sync.server.admin.alerts import AlertLeader, send_new_problems
from server_sync.server.devices import add_device


class Receiver:
    """A webhook on 127.0.0.1 that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail:
                    self.send_response(503)
                else:
                    outer.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def test_each_problem_is_sent_once(server_engine: Engine, receiver: Receiver) -> None:
    now = dt.datetime.now(dt.UTC)
    add_device(server_engine, "kiosk-hall-2", "kiosk")
    kiosk = QueueService(server_engine, origin="kiosk-hall-2")
    kiosk.record_device_status(build_device_status(version="0.2.0", printer="paper_out"))

    receiver.fail = True
    assert send_new_problems(server_engine, receiver.url, now) == 0  # kept for the next round
    receiver.fail = False
    assert send_new_problems(server_engine, receiver.url, now) == 1
    assert send_new_problems(server_engine, receiver.url, now) == 0
    [alert] = receiver.received
    assert alert["device"] == "kiosk-hall-2" and alert["problem"] == "printer.paper_out"
    assert "Hết giấy" in str(alert["hint_vi"])

    # Paper loaded: forgotten; out again later: sent again.
    kiosk.record_device_status(build_device_status(version="0.2.0", printer="online"))
    assert send_new_problems(server_engine, receiver.url, now) == 0
    kiosk.record_device_status(build_device_status(version="0.2.0", printer="paper_out"))
    assert send_new_problems(server_engine, receiver.url, now) == 1
    assert len(receiver.received) == 2


@pytest.mark.postgres
def test_one_process_leads(postgres_url: str) -> None:
    from kiosk.queue.db import open_database

    first, second = open_database(postgres_url), open_database(postgres_url)
    one, other = AlertLeader(first), AlertLeader(second)
    try:
        assert one.lead()
        assert not other.lead()
        one.release()
        assert other.lead()
    finally:
        one.release()
        other.release()
        first.dispose()
        second.dispose()


def test_the_server_sends_problems_when_a_webhook_is_configured(
    server_engine: Engine, receiver: Receiver
) -> None:
    from kiosk.config import parse_config
    from server_sync.server import create_app
    from tests.support.server import LiveServer, wait_until

    add_device(server_engine, "kiosk-hall-2", "kiosk")
    kiosk = QueueService(server_engine, origin="kiosk-hall-2")
    kiosk.record_device_status(build_device_status(version="0.2.0", printer="cover_open"))
    config = parse_config({"console": {"webhook_url": receiver.url}})
    live = LiveServer(create_app(server_engine, config)).start()
    try:
        wait_until(lambda: len(receiver.received) >= 1, timeout=30, what="the webhook")
    finally:
        live.stop()
    assert {str(a["problem"]) for a in receiver.received} >= {"printer.cover_open"}
