"""The kiosk's heartbeat: a `device.status` with its measured clock offset, every few minutes,
through the sync it already does, so the console's fleet page never shows stale figures."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from kiosk.app.backend import KioskBackend
from kiosk.config import Config
from kiosk.queue.db import read_session
from kiosk.queue.events import EventType
from kiosk.queue.models import Event
from kiosk.queue.service import QueueService
from printer.output import TicketPrinter
from server_sync.client import SyncWorker
from tests.support.server import LiveServer, sync_client, wait_until


def _statuses(engine: Engine) -> list[dict[str, object]]:
    with read_session(engine) as session:
        return [
            dict(data)
            for data in session.scalars(
                select(Event.data)
                .where(Event.type == EventType.DEVICE_STATUS, Event.origin == "kiosk-hall-1")
                .order_by(Event.position)
            )
        ]


def test_heartbeat_sends_status_with_clock_offset_repeatedly(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    kiosk_service: QueueService,
    server_engine: Engine,
    server_config: Config,
    tmp_path: Path,
) -> None:
    printer = TicketPrinter(server_config.printer, data_dir=tmp_path)
    backend = KioskBackend(kiosk_service, printer, server_config)
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    worker = SyncWorker(client, interval=30, base=0.01, cap=0.05)
    worker.set_heartbeat(backend.report_status, interval=0.2)
    worker.start()
    try:
        # The first status goes out right after the first round, not an interval later; later
        # ones follow while the worker keeps syncing (woken here, as each ticket wakes it).
        wait_until(lambda: len(_statuses(server_engine)) >= 1, 30, "the first heartbeat")

        def three_statuses() -> bool:
            worker.wake()
            return len(_statuses(server_engine)) >= 3

        wait_until(three_statuses, 30, "three heartbeats")
        statuses = _statuses(server_engine)
    finally:
        worker.stop()
        client.close()
    assert len(statuses) >= 3
    assert all(isinstance(s["clock_offset_seconds"], float | int) for s in statuses)
    assert all(s["kind"] == "kiosk" and s["printer"] for s in statuses)


def test_a_failing_heartbeat_does_not_stop_syncing(
    live: LiveServer, tokens: dict[str, str], kiosk_engine: Engine, kiosk_service: QueueService
) -> None:
    def broken(_offset: float | None) -> None:
        raise RuntimeError("disk gone")

    kiosk_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    worker = SyncWorker(client, interval=0.05, base=0.01, cap=0.05)
    worker.set_heartbeat(broken, interval=0.01)
    worker.start()
    try:
        wait_until(lambda: worker.last_report is not None, 30, "a sync round")
        wait_until(
            lambda: worker.last_report is not None and worker.last_report.push.accepted == 0, 30
        )
        assert worker.running and worker.failures == 0
    finally:
        worker.stop()
        client.close()
