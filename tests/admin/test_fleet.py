"""Fleet health: devices report through device.status events; problems come first, in red."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from kiosk.devicestatus import build_device_status, collect_device_status
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server.admin.fleet import ReportedStatus, problems_of
from server_sync.server.devices import add_device
from tests.support.admin import Browserless
from tests.support.database import seed
from tests.support.server import LiveServer, sync_client

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def test_build_device_status_is_plain_bounded_json() -> None:
    status = build_device_status(
        version="0.2.0",
        printer="paper_out",
        last_ticket="B012",
        last_ticket_at=NOW,
        disk_free_bytes=5 * 1024**3,
        rejected_reasons=["x" * 500] * 9,
        clock_offset_seconds=1.234,
        paused_departments=["NOI", "DA"],
    )
    assert status["last_ticket_at"] == "2026-12-01T03:00:00.000Z"
    assert status["disk_free_mb"] == 5120
    assert len(status["rejected_reasons"]) == 5 and len(status["rejected_reasons"][0]) == 200
    assert status["paused_departments"] == ["DA", "NOI"]
    assert status["clock_offset_seconds"] == 1.2


def test_problems_say_what_to_do() -> None:
    def status(**data: object) -> ReportedStatus:
        return ReportedStatus("k", NOW, NOW, data)

    assert problems_of("kiosk", NOW, status(printer="online"), NOW) == ()
    silent = problems_of("kiosk", NOW - dt.timedelta(hours=20), None, NOW)
    assert [p.code for p in silent] == ["silent"]
    found = problems_of(
        "kiosk",
        NOW,
        status(printer="paper_near_end", clock_offset_seconds=-400, disk_free_mb=100),
        NOW,
    )
    assert {p.code: p.severity for p in found} == {
        "printer.paper_near_end": "warn",
        "clock": "bad",
        "disk": "bad",
    }
    assert found[0].severity == "bad"
    assert "timedatectl" in found[0].hint("en") or "timedatectl" in found[1].hint("en")


def _kiosk(tmp_path: Path, name: str) -> tuple[Engine, QueueService]:
    engine = open_database(f"sqlite:///{tmp_path / name}.db")
    seed(engine)
    return engine, QueueService(engine, origin=name)


def test_fleet_lists_the_out_of_paper_kiosk_first(
    console: LiveServer,
    server_engine: Engine,
    as_staff: Callable[[str], Browserless],
    tmp_path: Path,
) -> None:
    kiosks = (("kiosk-a-healthy", "online", "NOI"), ("kiosk-z-paper", "paper_out", "NHI"))
    for name, printer, department in kiosks:
        token = add_device(server_engine, name, "kiosk")
        engine, service = _kiosk(tmp_path, name)
        service.issue(department)
        service.record_device_status(
            collect_device_status(engine, name, version="0.2.0", printer=printer, data_dir=tmp_path)
        )
        client = sync_client(engine, console.url, token, origin=name)
        assert not client.push().rejected
        client.close()
        engine.dispose()

    it = as_staff("minh")
    page = it.get("/admin/fleet")
    assert page.status_code == 200
    body = page.text
    assert body.index("kiosk-z-paper") < body.index("kiosk-a-healthy")
    assert 'class="problem"' in body and "Hết giấy" in body
    assert as_staff("lan").get("/admin/fleet").status_code == 403
