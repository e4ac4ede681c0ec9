"""The live monitor: figures, actions (audited), a pause every kiosk applies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.db import open_database
from kiosk.queue.models import AuditEntry
from kiosk.queue.service import QueueService
from tests.support.admin import Browserless
from tests.support.database import seed
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
