"""kiosk.queue.replication without HTTP: idempotence, checks, rejections."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.errors import DuplicateNumber, InvalidTransition
from kiosk.queue.events import event_to_dict
from kiosk.queue.models import Event, Ticket
from kiosk.queue.replication import EventNotAccepted, InvalidEvent, apply_remote_event
from kiosk.queue.service import QueueService
from tests.conftest import FakeClock, seed

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


def kiosk_events(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [event_to_dict(e) for e in session.scalars(select(Event).order_by(Event.seq))]


def apply(engine: Engine, wire: dict[str, Any], trusted: bool = False) -> str:
    with Session(engine) as session, session.begin():
        return apply_remote_event(session, wire, NOW, trusted=trusted)


@pytest.fixture
def source(tmp_path: Any, clock: FakeClock) -> QueueService:
    from kiosk.queue.db import open_database

    engine = open_database(f"sqlite:///{tmp_path}/source.db")
    seed(engine)
    return QueueService(engine, origin="kiosk-a", clock=clock)


def test_apply_is_idempotent_and_keeps_origin_and_seq(engine: Engine, source: QueueService) -> None:
    seed(engine)
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    assert apply(engine, wire) == "accepted"
    assert apply(engine, wire) == "duplicate"
    with Session(engine) as session:
        stored = session.scalars(select(Event)).one()
        assert (stored.origin, stored.seq, stored.position) == ("kiosk-a", 1, 1)
        assert session.scalars(select(Ticket)).one().number == 1


def test_rejections(engine: Engine, source: QueueService, clock: FakeClock) -> None:
    seed(engine)
    ticket = source.issue("NOI").ticket
    [issued] = kiosk_events(source.engine)
    apply(engine, issued)
    other = {**issued, "id": "0" * 8 + issued["id"][8:], "origin": "kiosk-b", "seq": 1}
    other["data"] = {"ticket": {**issued["data"]["ticket"], "id": "1" * 36, "origin": "kiosk-b"}}
    other["ticket_id"] = "1" * 36
    with pytest.raises(DuplicateNumber, match=r"numbering\.offset"):
        apply(engine, other)
    with pytest.raises(InvalidEvent, match="already sent seq 1"):
        apply(engine, {**issued, "id": "2" * 36})
    with pytest.raises(InvalidEvent, match=r"data\.ticket"):
        apply(engine, {**issued, "id": "3" * 36, "seq": 9, "data": {"ticket": {"id": 5}}})
    called = {**issued, "id": "4" * 36, "seq": 10, "type": "ticket.called"}
    with pytest.raises(EventNotAccepted):
        apply(engine, called)
    server = QueueService(engine, origin="server", clock=clock)
    server.call_next("NOI", "P1")
    source.cancel(ticket.id, "print_failed")
    cancel = kiosk_events(source.engine)[-1]
    with pytest.raises(InvalidTransition):
        apply(engine, cancel)
    with pytest.raises(InvalidEvent):
        apply(engine, {"id": "x"})
