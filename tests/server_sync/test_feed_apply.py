"""The kiosk's set-based apply of pulled pages leaves the store exactly as the ORM path did,
event by event in a savepoint each (as at 1e88f05, kept below as the reference)."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.db import open_database
from kiosk.queue.departments import apply_department_paused, pause_department
from kiosk.queue.errors import QueueError, UnknownDepartment
from kiosk.queue.events import EventType, event_to_dict, store_event
from kiosk.queue.models import Department, Event, Ticket
from kiosk.queue.replication import (
    InvalidEvent,
    TicketSnapshot,
    _snapshot,
    apply_feed_event,
    parse_wire_event,
    seq_clash,
)
from kiosk.queue.service import QueueService
from server_sync import client as client_module
from server_sync.client import PullResult
from tests.support.database import FakeClock, seed
from tests.support.server import sync_client

ME = "kiosk-hall-1"
PAGE = 8


def reference_apply(session: Session, wire: dict[str, Any], now: dt.datetime) -> str:
    """`apply_feed_event` as it was: pydantic per event, ORM objects, one flush each."""
    event = parse_wire_event(wire)
    if session.get(Event, event.id) is not None:
        return "duplicate"
    clash = session.scalars(
        select(Event.id).where(Event.origin == event.origin, Event.seq == event.seq)
    ).first()
    if clash is not None:
        raise seq_clash(event, clash)
    if event.type == EventType.DEPARTMENT_PAUSED:
        apply_department_paused(session, event.department, event.data)
    elif event.type != EventType.DEVICE_STATUS:
        keys = ["ticket", "new_ticket"] if event.type == EventType.TRANSFERRED else ["ticket"]
        for key in keys:
            snap = _snapshot(event, key)
            if session.get(Department, snap.department) is None:
                codes = session.scalars(select(Department.code)).all()
                raise UnknownDepartment(snap.department, codes)
            ticket = session.get(Ticket, snap.id) or Ticket(id=snap.id)
            session.add(ticket)
            for name in TicketSnapshot.model_fields:
                value = getattr(snap, name)
                column = "department_code" if name == "department" else name
                setattr(ticket, column, str(value) if name == "status" else value)
    row = Event(
        id=event.id,
        origin=event.origin,
        seq=event.seq,
        type=str(event.type),
        occurred_at=event.occurred_at,
        ticket_id=event.ticket_id,
        department_code=event.department,
        data=event.data,
    )
    store_event(session, row, now)
    return "accepted"


def reference_pull(engine: Engine, pages: list[list[dict[str, Any]]], now: dt.datetime) -> Any:
    """The old client: a savepoint per event, skipping (and logging) what cannot apply."""
    result = PullResult()
    for page in pages:
        with Session(engine) as session, session.begin():
            for wire in page:
                if wire.get("origin") == ME:
                    result.duplicates += 1
                    continue
                try:
                    with session.begin_nested():
                        outcome = reference_apply(session, wire, now)
                except QueueError as exc:
                    result.skipped.append((str(wire.get("id")), str(exc)))
                    continue
                if outcome == "accepted":
                    result.applied += 1
                else:
                    result.duplicates += 1
    return result


def new_pull(
    engine: Engine,
    pages: list[list[dict[str, Any]]],
    now: dt.datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """The client as it is: `pull()` against pages served without HTTP."""
    client = sync_client(engine, "http://127.0.0.1:9", "token", origin=ME)
    client.pull_page = PAGE
    client.clock = lambda: now
    served = iter(enumerate(pages, start=1))

    def request(*_: Any, **__: Any) -> dict[str, Any]:
        cursor, page = next(served, (len(pages), []))
        return {"events": page, "cursor": cursor * PAGE}

    monkeypatch.setattr(client, "_request", request)
    try:
        return client.pull()
    finally:
        client.close()


def server_feed(tmp_path: Path, clock: FakeClock) -> list[dict[str, Any]]:
    """A day at the hospital: another kiosk issues, counters call, serve, requeue, transfer and
    cancel, the console pauses a department, a kiosk reports; and this kiosk's own events."""
    engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    seed(engine)
    other = QueueService(engine, origin="kiosk-b", clock=clock, numbering_offset=500)
    mine = QueueService(engine, origin=ME, clock=clock)
    counters = QueueService(engine, origin="server", clock=clock)
    tickets = [other.issue(code).ticket for code in ["NOI", "NOI", "NHI", "NOI", "NHI", "NOI"]]
    mine.issue("NOI")
    clock.advance(minutes=3)
    first = counters.call_next("NOI", "101")
    assert first is not None
    counters.serve(first.id)
    called = counters.call_next("NOI", "101")
    assert called is not None
    counters.no_show(called.id)
    counters.requeue(called.id)
    clock.advance(minutes=1)
    counters.transfer(tickets[2].id, "NOI")
    counters.cancel(tickets[3].id, reason="left")
    with Session(engine) as session, session.begin():
        pause_department(
            session, origin="server", code="NHI", paused=True, reason="họp", by="lan", now=clock()
        )
    other.record_device_status({"printer": "ok"})
    other.issue("NOI")
    with Session(engine) as session:
        feed = [event_to_dict(e) for e in session.scalars(select(Event).order_by(Event.position))]
    engine.dispose()
    return feed


def variant(wire: dict[str, Any], seq: int, **changes: Any) -> dict[str, Any]:
    """Another event with the content of `wire` and its own id and seq."""
    made = copy.deepcopy(wire)
    made.update(id=str(uuid.uuid4()), seq=seq, **changes)
    return made


def pulled_pages(feed: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    def of(kind: str) -> list[dict[str, Any]]:
        return [w for w in feed if w["type"] == kind]

    issued, called, transferred = of("ticket.issued"), of("ticket.called"), of("ticket.transferred")
    extra: list[dict[str, Any]] = []
    # A ticket of a department this kiosk does not know, and a transfer to one.
    unknown = variant(issued[0], 900, ticket_id=str(uuid.uuid4()))
    unknown["data"]["ticket"].update(id=unknown["ticket_id"], department="ZZZ")
    extra.append(unknown)
    to_unknown = variant(transferred[0], 901, origin="server")
    to_unknown["data"]["new_ticket"]["department"] = "ZZZ"
    extra.append(to_unknown)
    # Unreadable: a timestamp, a snapshot field, no snapshot, a transfer's new ticket.
    extra.append(variant(issued[1], 902, occurred_at="yesterday"))
    bad_snapshot = variant(issued[1], 903)
    bad_snapshot["data"]["ticket"]["call_count"] = -1
    extra.append(bad_snapshot)
    extra.append(variant(called[0], 904, data={}))
    bad_new = variant(transferred[0], 905)
    bad_new["data"]["new_ticket"]["status"] = "lost"
    extra.append(bad_new)
    # A seq its origin already sent under another id.
    extra.append(variant(called[0], called[0]["seq"]))
    # An older snapshot arriving after a newer one (the server's order is what counts).
    extra.append(variant(issued[0], 906, origin="server"))
    # A department.paused without its flag.
    pause = of("department.paused")[0]
    extra.append(variant(pause, 907, data={"reason": "x"}))
    stream = list(feed)
    stream[3:3] = [stream[5], stream[0]]  # duplicates inside a page, and one already applied
    stream[9:9] = extra[:4]
    stream += extra[4:] + feed[:3] + [stream[-1]]  # duplicates in later pages
    stream.insert(1, stream[6])  # out of order: a later snapshot before an earlier one
    return [stream[at : at + PAGE] for at in range(0, len(stream), PAGE)]


def table(engine: Engine, model: Any) -> list[tuple[Any, ...]]:
    columns = list(model.__table__.columns)
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(*columns).order_by(columns[0]))]


@pytest.mark.parametrize(("step", "chunk"), [(10, 50), (3, 7), (1, 1)])
def test_set_based_apply_matches_the_orm_path_row_for_row(
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    step: int,
    chunk: int,
) -> None:
    monkeypatch.setattr(client_module, "APPLY_STEP", step)
    monkeypatch.setattr(client_module, "APPLY_CHUNK", chunk)
    monkeypatch.setattr(client_module, "APPLY_SECONDS", 3600.0)
    pages = pulled_pages(server_feed(tmp_path, clock))
    now = clock.advance(minutes=5)
    stores = {}
    for name in ("old", "new"):
        stores[name] = open_database(f"sqlite:///{tmp_path / name}.db")
        seed(stores[name])
    old = reference_pull(stores["old"], pages, now)
    with caplog.at_level(logging.WARNING, logger="server_sync.client"):
        new = new_pull(stores["new"], pages, now, monkeypatch)

    assert (new.applied, new.duplicates, new.skipped) == (old.applied, old.duplicates, old.skipped)
    assert [r.getMessage() for r in caplog.records if r.name == "server_sync.client"] == [
        f"skipped server event {event_id}: {reason}" for event_id, reason in old.skipped
    ]
    # Every kind of case was met.
    assert old.applied > 10 and old.duplicates >= 6 and len(old.skipped) == 8
    reasons = " ".join(reason for _, reason in old.skipped)
    for expected in ("ZZZ", "occurred_at", "call_count", "new_ticket", "already sent seq"):
        assert expected in reasons
    for model in (Ticket, Event, Department):
        assert table(stores["new"], model) == table(stores["old"], model)
    for engine in stores.values():
        engine.dispose()


def test_one_event_applies_and_raises_as_before(tmp_path: Path, clock: FakeClock) -> None:
    feed = server_feed(tmp_path, clock)
    engine = open_database(f"sqlite:///{tmp_path / 'one.db'}")
    seed(engine)
    with Session(engine) as session, session.begin():
        ticket = session.get(Ticket, feed[0]["ticket_id"])  # held by the session: refreshed
        assert apply_feed_event(session, feed[0], clock()) == "accepted"
        assert apply_feed_event(session, feed[0], clock()) == "duplicate"
        ticket = session.get(Ticket, feed[0]["ticket_id"])
        assert ticket is not None and ticket.code == feed[0]["data"]["ticket"]["code"]
        with pytest.raises(InvalidEvent, match="already sent seq"):
            apply_feed_event(session, variant(feed[0], feed[0]["seq"]), clock())
    engine.dispose()
