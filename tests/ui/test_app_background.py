"""What `kiosk run` starts besides the window: background sync and the end-of-day job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from kiosk.app.backend import close_stale_tickets_in_background
from kiosk.commands.ui import start_background_sync
from kiosk.config import parse_config
from kiosk.queue.service import QueueService
from server_sync.staff import StaffClient
from tests.support.hospital import Hospital
from tests.support.server import wait_until


def test_kiosk_pushes_its_tickets_in_the_background(hospital: Hospital) -> None:
    service = hospital.kiosk_service()
    worker = start_background_sync(hospital.config, service)
    assert worker is not None
    try:
        issued = service.issue("NOI").ticket
        worker.wake()
        board = StaffClient(hospital.server.url, hospital.tokens["board"], timeout=5.0)

        def on_server() -> bool:
            return any(t.id == issued.id for t in board.queue("NOI").waiting)

        wait_until(on_server, timeout=10, what="the ticket on the server")
    finally:
        worker.stop(timeout=10)


def test_no_server_or_no_token_means_no_sync_and_no_crash(tmp_path: Path, engine: Engine) -> None:
    alone = parse_config({})
    assert start_background_sync(alone, QueueService(engine, origin="k")) is None
    missing_token = parse_config(
        {"server": {"url": "http://127.0.0.1:9", "token_file": str(tmp_path / "absent")}}
    )
    assert start_background_sync(missing_token, QueueService(engine, origin="k")) is None


def test_end_of_day_runs_off_the_ui_thread(engine: Engine) -> None:
    from tests.support.database import seed

    seed(engine)
    yesterday = QueueService(
        engine, origin="k", clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    stale = yesterday.issue("NOI").ticket
    today = QueueService(engine, origin="k")
    close_stale_tickets_in_background(today)
    wait_until(lambda: today.get(stale.id).status == "cancelled", timeout=10, what="end of day")
