"""kiosk.queue.replication without HTTP: what the server takes from a kiosk, and in what order."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.config import DEFAULT_PRIORITY_REASONS
from kiosk.queue.events import event_to_dict, parse_timestamp
from kiosk.queue.models import Event, RejectedEvent, Ticket
from kiosk.queue.replication import (
    IngestOutcome,
    IngestRules,
    NumberBlock,
    apply_feed_event,
    ingest_batch,
)
from kiosk.queue.service import QueueService
from tests.support.database import FakeClock, seed

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


DEFAULT_BLOCK = NumberBlock(0, 1000)


def rules(now: dt.datetime = NOW, block: NumberBlock = DEFAULT_BLOCK) -> IngestRules:
    return IngestRules(
        timezone=ZoneInfo("Asia/Ho_Chi_Minh"),
        numbering_width=3,
        priority_reasons=frozenset(DEFAULT_PRIORITY_REASONS),
        block=block,
        now=now,
        server_origin="server",
    )


def kiosk_events(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [event_to_dict(e) for e in session.scalars(select(Event).order_by(Event.seq))]


def push(
    engine: Engine, events: list[dict[str, Any]], origin: str = "kiosk-a", **kw: Any
) -> IngestOutcome:
    with Session(engine) as session, session.begin():
        return ingest_batch(session, origin, events, rules(**kw))


def codes(outcome: IngestOutcome) -> list[str]:
    return [r.code for r in outcome.rejected]


@pytest.fixture
def source(tmp_path: Any, clock: FakeClock) -> QueueService:
    from kiosk.queue.db import open_database

    engine = open_database(f"sqlite:///{tmp_path}/source.db")
    seed(engine)
    return QueueService(engine, origin="kiosk-a", clock=clock)


@pytest.fixture
def server(engine: Engine) -> Engine:
    seed(engine)
    return engine


def test_ingest_is_idempotent_and_keeps_origin_and_seq(
    server: Engine, source: QueueService
) -> None:
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    first = push(server, [wire])
    assert (first.accepted, first.expected_seq) == ([wire["id"]], 2)
    again = push(server, [wire])
    assert (again.duplicates, again.accepted, again.expected_seq) == ([wire["id"]], [], 2)
    with Session(server) as session:
        stored = session.scalars(select(Event)).one()
        assert (stored.origin, stored.seq, stored.position) == ("kiosk-a", 1, 1)
        assert session.scalars(select(Ticket)).one().number == 1


def test_same_id_with_other_content_is_a_conflict(server: Engine, source: QueueService) -> None:
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    push(server, [wire])
    changed = copy.deepcopy(wire)
    changed["data"]["ticket"]["priority"] = "emergency"
    outcome = push(server, [changed])
    assert codes(outcome) == ["conflict"] and not outcome.duplicates
    with Session(server) as session:
        assert session.scalars(select(Ticket)).one().priority is None


def test_a_gap_stops_the_batch_and_names_the_expected_seq(
    server: Engine, source: QueueService
) -> None:
    for _ in range(5):
        source.issue("NOI")
    events = kiosk_events(source.engine)
    outcome = push(server, [events[0], events[4], events[2]])  # seq 1, 5, 3
    assert outcome.accepted == [events[0]["id"]]
    assert outcome.expected_seq == 2
    assert not outcome.rejected
    rest = push(server, events[1:])
    assert len(rest.accepted) == 4 and rest.expected_seq == 6


def test_a_rejected_event_consumes_its_seq(server: Engine, source: QueueService) -> None:
    source.issue("NOI")
    source.issue("NOI")
    first, second = kiosk_events(source.engine)
    bad = copy.deepcopy(first)
    bad["data"]["ticket"]["priority"] = "vip_friend"
    outcome = push(server, [bad, second])
    assert codes(outcome) == ["invalid_event"]
    assert outcome.accepted == [second["id"]] and outcome.expected_seq == 3
    # Sent again as it was: the same answer, nothing stored twice.
    again = push(server, [bad])
    assert codes(again) == ["invalid_event"]
    with Session(server) as session:
        assert session.scalars(select(RejectedEvent)).one().seq == 1


def test_a_seq_already_held_under_another_id_is_seq_taken(
    server: Engine, source: QueueService
) -> None:
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    push(server, [wire])
    other = copy.deepcopy(wire)
    other["id"] = "0" * 8 + wire["id"][8:]
    assert codes(push(server, [other])) == ["seq_taken"]


def hostile(wire: dict[str, Any], **ticket: Any) -> dict[str, Any]:
    out = copy.deepcopy(wire)
    out["data"]["ticket"].update(ticket)
    return out


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"queued_at": "1970-01-01T00:00:00.000Z"}, "invalid_event"),
        ({"priority": "vip_friend"}, "invalid_event"),
        ({"status": "called", "call_count": 99, "room": "P1"}, "invalid_event"),
        ({"call_count": 99}, "invalid_event"),
        ({"service_date": "2099-01-01"}, "invalid_event"),
        ({"service_date": "2000-01-01"}, "invalid_event"),
        ({"code": "B0\u202e01"}, "invalid_event"),
        ({"code": "X001"}, "invalid_event"),
        ({"number": 1001, "code": "B1001"}, "outside_block"),
        ({"origin": "kiosk-b"}, "invalid_event"),
        ({"department": "NHI"}, "invalid_event"),
    ],
)
def test_a_pushed_ticket_must_be_what_the_kiosk_may_issue(
    server: Engine, source: QueueService, change: dict[str, Any], code: str
) -> None:
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    outcome = push(server, [hostile(wire, **change)])
    assert codes(outcome) == [code], outcome.rejected
    with Session(server) as session:
        assert session.scalars(select(Ticket)).first() is None


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": "0001-01-01T00:00:00.000Z"},
        {"occurred_at": "9999-12-31T23:59:59.000Z"},
        {"type": "ticket.called"},
        {"type": "ticket.nonsense"},
        {"type": "ticket.issued", "data": {"ticket": {"id": 5}}},
        {"data": {"note": "\ud800"}},
        {"data": {"blob": "x" * (9 * 1024)}},
    ],
)
def test_malformed_events_are_rejected_whole(
    server: Engine, source: QueueService, change: dict[str, Any]
) -> None:
    source.record_device_status({"printer": "ready"})
    [wire] = kiosk_events(source.engine)
    outcome = push(server, [{**wire, **change}])
    assert codes(outcome) in (["invalid_event"], ["event_not_accepted"]), outcome.rejected
    with Session(server) as session:
        assert session.scalars(select(Event)).first() is None


def test_a_kiosk_cannot_cancel_another_kiosks_ticket(
    server: Engine, source: QueueService, tmp_path: Any, clock: FakeClock
) -> None:
    from kiosk.queue.db import open_database

    victim_db = open_database(f"sqlite:///{tmp_path}/victim.db")
    victim = QueueService(victim_db, origin="kiosk-b", clock=clock)
    seed(victim.engine)
    ticket = victim.issue("NOI").ticket
    assert push(server, kiosk_events(victim.engine), origin="kiosk-b").accepted
    source.issue("NHI")
    forged = copy.deepcopy(kiosk_events(source.engine)[0])
    forged.update(type="ticket.cancelled", ticket_id=ticket.id, department="NOI")
    forged["data"] = {
        "ticket": {**ticket.to_dict(), "status": "cancelled", "cancel_reason": "x"},
        "reason": "x",
    }
    assert codes(push(server, [forged])) == ["invalid_event"]
    with Session(server) as session:
        assert session.get(Ticket, ticket.id).status == "waiting"  # type: ignore[union-attr]


def test_a_late_ticket_from_an_earlier_day_is_stored_closed(
    server: Engine, source: QueueService
) -> None:
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    outcome = push(server, [wire], now=NOW + dt.timedelta(days=2))
    assert outcome.accepted == [wire["id"]] and outcome.closed_late == 1
    with Session(server) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.cancel_reason) == ("cancelled", "end_of_day")
        kinds = [e.type for e in session.scalars(select(Event).order_by(Event.position))]
    assert kinds == ["ticket.issued", "ticket.cancelled"]


def test_a_ticket_issued_and_cancelled_in_one_batch_is_stored_cancelled(
    server: Engine, source: QueueService
) -> None:
    # The cancel finds the ticket among the batch's own, not yet written, tickets.
    kept = source.issue("NOI").ticket
    void = source.issue("NOI").ticket
    source.cancel(void.id, "print_failed")
    wires = kiosk_events(source.engine)
    outcome = push(server, wires)
    assert outcome.accepted == [w["id"] for w in wires] and not outcome.rejected
    with Session(server) as session:
        tickets = {t.id: t for t in session.scalars(select(Ticket))}
        events = session.scalars(select(Event).order_by(Event.position)).all()
    assert (tickets[kept.id].status, tickets[kept.id].finished_at) == ("waiting", None)
    cancelled = tickets[void.id]
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "print_failed")
    assert cancelled.finished_at == parse_timestamp(wires[2]["occurred_at"])
    assert [e.type for e in events] == ["ticket.issued", "ticket.issued", "ticket.cancelled"]
    assert [e.data for e in events] == [w["data"] for w in wires]
    # The same batch again: all duplicates, nothing written twice.
    again = push(server, wires)
    assert again.duplicates == [w["id"] for w in wires] and not again.accepted


def test_the_feed_applies_server_snapshots(server: Engine, source: QueueService) -> None:
    source.issue("NOI")
    [wire] = kiosk_events(source.engine)
    with Session(server) as session, session.begin():
        assert apply_feed_event(session, wire, NOW) == "accepted"
        assert apply_feed_event(session, wire, NOW) == "duplicate"
