"""The live monitor: figures, actions (audited), a pause every kiosk applies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.db import open_database
from kiosk.queue.models import AuditEntry
from kiosk.queue.service import QueueService
from server_sync.server.admin.monitor import department_lines
from tests.support.admin import Browserless
from tests.support.database import FakeClock, seed
from tests.support.server import LiveServer, sync_client


@pytest.fixture
def server_service(server_engine: Engine) -> QueueService:
    return QueueService(server_engine, origin="kiosk-direct")


def test_monitor_figures_and_actions(
    server_engine: Engine,
    server_service: QueueService,
    as_staff: Callable[[str], Browserless],
) -> None:
    first = server_service.issue("NOI").ticket
    second = server_service.issue("NOI").ticket
    server_service.issue("NHI")
    called = server_service.call_next("NOI", "101")
    assert called is not None and called.id == first.id
    server_service.no_show(first.id)

    supervisor = as_staff("lan")
    page = supervisor.get("/admin/monitor?department=NOI")
    assert page.status_code == 200
    assert "Theo dõi hàng chờ" in page.text
    assert second.code in page.text and "Xếp lại hàng" in page.text
    live = supervisor.get(
        "/admin/monitor/live?after=0&department=NOI", headers={"Accept": "application/json"}
    ).json()
    assert live["cursor"] > 0 and second.code in live["queue"]

    csrf = supervisor.csrf("/admin/monitor?department=NOI")
    answer = supervisor.post(
        f"/admin/tickets/{first.id}/requeue", {"csrf": csrf, "department_view": "NOI"}
    )
    assert answer.status_code == 303 and "done=requeue" in answer.headers["Location"]
    assert server_service.get(first.id).status == "waiting"
    answer = supervisor.post(f"/admin/tickets/{second.id}/transfer", {"csrf": csrf, "to": "NHI"})
    assert answer.status_code == 303
    assert server_service.get(second.id).status == "transferred"
    answer = supervisor.post(f"/admin/tickets/{first.id}/cancel", {"csrf": csrf})
    assert server_service.get(first.id).status == "cancelled"
    # An impossible change says why, and changes nothing.
    answer = supervisor.post(f"/admin/tickets/{first.id}/cancel", {"csrf": csrf})
    assert "failed=" in answer.headers["Location"]
    # Without the CSRF token: 403, nothing changes.
    assert supervisor.post(f"/admin/tickets/{second.id}/requeue", {}).status_code == 403

    with Session(server_engine) as session:
        actions = [
            (e.user_name, e.action, e.target)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert ("lan", "ticket.requeue", first.code) in actions
    assert ("lan", "ticket.transfer", second.code) in actions
    assert ("lan", "ticket.cancel", first.code) in actions


def test_department_figures_count_today_only(engine: Engine) -> None:
    seed(engine)
    clock = FakeClock(dt.datetime(2026, 11, 26, 1, 0, 0, 250_000, tzinfo=dt.UTC))  # 08:00
    service = QueueService(engine, origin="kiosk-direct", clock=clock)
    yesterday = service.issue("NOI").ticket  # called an hour later: must not count today
    clock.advance(hours=1)
    service.call_next("NOI", "101")
    service.serve(yesterday.id)
    clock.advance(days=1)
    waits = []
    for minutes in (1.5, 2.0, 4.25):  # three called, in two rooms, one of them served
        ticket = service.issue("NOI").ticket
        clock.advance(minutes=minutes)
        called = service.call_next("NOI", "102" if minutes == 2.0 else "101")
        assert called is not None and called.id == ticket.id
        waits.append(minutes)
        if minutes == 1.5:
            service.serve(ticket.id)
    service.issue("NOI")
    clock.advance(minutes=7, seconds=30)
    service.issue("NHI")
    today = service.service_date()
    assert today == yesterday.service_date + dt.timedelta(days=1)

    lines = {line.code: line for line in department_lines(engine, today, clock.now, {})}
    noi = lines["NOI"]
    assert (noi.waiting, noi.called, noi.served, noi.absent) == (1, 2, 1, 0)
    assert noi.rooms_active == 2 and noi.rooms_total == 3
    assert noi.average_wait_minutes == round(sum(waits) / 3, 1) == 2.6
    assert noi.longest_wait_minutes == 7
    assert lines["NHI"].waiting == 1 and lines["NHI"].average_wait_minutes is None


def test_it_staff_cannot_open_the_monitor(as_staff: Callable[[str], Browserless]) -> None:
    it = as_staff("minh")
    assert it.get("/admin/monitor").status_code == 403
    assert it.get("/admin/monitor/live").status_code == 403


def test_a_pause_from_the_console_reaches_a_kiosk(
    console: LiveServer,
    tokens: dict[str, str],
    as_staff: Callable[[str], Browserless],
    tmp_path: Path,
) -> None:
    kiosk_engine = open_database(f"sqlite:///{tmp_path / 'kiosk.db'}")
    seed(kiosk_engine)
    kiosk = QueueService(kiosk_engine, origin="kiosk-hall-1")
    client = sync_client(kiosk_engine, console.url, tokens["kiosk"])

    supervisor = as_staff("lan")
    csrf = supervisor.csrf("/admin/monitor?department=NOI")
    answer = supervisor.post(
        "/admin/departments/NOI/pause", {"csrf": csrf, "reason": "Bác sĩ đi hội chẩn"}
    )
    assert answer.status_code == 303
    page = supervisor.get("/admin/monitor?department=NOI").text
    assert "Tạm dừng trên mọi ki-ốt" in page and "Tiếp tục cấp số" in page

    client.pull()
    status = {d.code: d for d in kiosk.departments()}
    assert status["NOI"].unavailable == "paused"
    assert status["NHI"].unavailable is None

    supervisor.post("/admin/departments/NOI/resume", {"csrf": csrf})
    client.pull()
    assert {d.code: d for d in kiosk.departments()}["NOI"].unavailable is None
    client.close()
    kiosk_engine.dispose()
