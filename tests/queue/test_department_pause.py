"""A department paused from the console: a server event that every kiosk applies."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.departments import pause_department
from kiosk.queue.errors import DepartmentUnavailable
from kiosk.queue.events import EventType, event_to_dict
from kiosk.queue.models import Event
from kiosk.queue.replication import IngestRules, NumberBlock, apply_feed_event, ingest_batch
from kiosk.queue.service import QueueService
from tests.support.database import FakeClock


def _pause(service: QueueService, paused: bool) -> dict[str, object]:
    with service.transaction() as session:
        pause_department(
            session,
            origin="server",
            code="NOI",
            paused=paused,
            reason="Bác sĩ đi hội chẩn\u202e",
            by="lan",
            now=service.now(),
        )
    with Session(service.engine) as session:
        event = session.scalars(
            select(Event)
            .where(Event.type == EventType.DEPARTMENT_PAUSED)
            .order_by(Event.seq.desc())
        ).first()
        assert event is not None
        return event_to_dict(event)


def test_a_console_pause_reaches_a_kiosk_through_the_feed(
    service: QueueService, tmp_path: object, clock: FakeClock
) -> None:
    from kiosk.queue.db import open_database
    from tests.support.database import seed

    kiosk_engine: Engine = open_database(f"sqlite:///{tmp_path}/kiosk.db")  # type: ignore[str-bytes-safe]
    seed(kiosk_engine)
    kiosk = QueueService(kiosk_engine, origin="kiosk-hall-1", clock=clock)

    wire = _pause(service, True)
    assert wire["data"] == {"paused": True, "reason": "Bác sĩ đi hội chẩn", "by": "lan"}
    status = {d.code: d for d in service.departments()}
    assert status["NOI"].unavailable == "paused"

    with Session(kiosk_engine) as session, session.begin():
        assert apply_feed_event(session, wire, clock()) == "accepted"
    assert {d.code: d for d in kiosk.departments()}["NOI"].unavailable == "paused"
    with pytest.raises(DepartmentUnavailable):
        kiosk.issue("NOI")

    with Session(kiosk_engine) as session, session.begin():
        apply_feed_event(session, _pause(service, False), clock())
    assert {d.code: d for d in kiosk.departments()}["NOI"].unavailable is None
    kiosk_engine.dispose()


def test_the_server_takes_no_pause_from_a_kiosk(service: QueueService, clock: FakeClock) -> None:
    wire = {
        "id": "5d3c8f0e-0000-4000-8000-000000000001",
        "origin": "kiosk-evil",
        "seq": 1,
        "type": str(EventType.DEPARTMENT_PAUSED),
        "occurred_at": "2026-11-28T02:00:00.000Z",
        "department": "NOI",
        "data": {"paused": True, "reason": "x", "by": "me"},
    }
    rules = IngestRules(
        timezone=service.tz,
        numbering_width=3,
        priority_reasons=frozenset(service.priority_reasons),
        block=NumberBlock(0, 1000),
        now=clock(),
        server_origin="server",
    )
    with Session(service.engine) as session, session.begin():
        outcome = ingest_batch(session, "kiosk-evil", [wire], rules)
    assert [r.code for r in outcome.rejected] == ["event_not_accepted"]
    assert {d.code: d for d in service.departments()}["NOI"].unavailable is None
