"""Consistency checks shared by the scenarios: numbering (§4), events and outbox (§5)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from kiosk.queue.events import EventType, outbox
from kiosk.queue.models import Event, Ticket


@dataclass(frozen=True)
class KioskState:
    tickets: int
    events: int
    unsynced: int


def sqlite_integrity(engine: Engine) -> None:
    with engine.connect() as connection:
        result = connection.execute(text("PRAGMA integrity_check")).scalar_one()
    assert result == "ok", f"SQLite integrity_check: {result}"


def assert_kiosk_consistent(engine: Engine, origin: str, *, synced: bool = False) -> KioskState:
    """Numbers 1..N per department and day (of this origin), each ticket issued once with its
    event, every event once, `seq` gap-free, and (unless `synced`) the outbox holding every
    event in order."""
    with Session(engine) as session:
        tickets = session.scalars(
            select(Ticket).where(Ticket.number.is_not(None), Ticket.origin == origin)
        ).all()
        events = session.scalars(select(Event).where(Event.origin == origin)).all()
        pending = outbox(session, origin, limit=10**9)
    by_line: dict[tuple[str, str], list[int]] = {}
    for ticket in tickets:
        key = (ticket.department_code, ticket.service_date.isoformat())
        by_line.setdefault(key, []).append(ticket.number or 0)
    for key, numbers in by_line.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"numbers of {key}"
    ids = Counter(e.id for e in events)
    assert max(ids.values(), default=1) == 1, "an event stored twice"
    seqs = sorted(e.seq for e in events)
    assert seqs == list(range(1, len(seqs) + 1)), f"seq of {origin} not gap-free"
    issued = [e for e in events if e.type == EventType.ISSUED]
    per_ticket = Counter(e.ticket_id for e in issued)
    assert set(per_ticket) == {t.id for t in tickets}, "a ticket without its event, or an orphan"
    assert max(per_ticket.values(), default=1) == 1, "a ticket issued twice"
    # Issue order: numbers grow with seq within each line.
    number_of = {t.id: (t.department_code, t.service_date, t.number or 0) for t in tickets}
    last: dict[tuple[str, object], int] = {}
    for event in sorted(issued, key=lambda e: e.seq):
        dept, day, number = number_of[str(event.ticket_id)]
        assert number > last.get((dept, day), 0), "ticket.issued events out of seq order"
        last[(dept, day)] = number
    if not synced:
        assert [e.seq for e in pending] == seqs, "the outbox lost or reordered an event"
    return KioskState(len(tickets), len(events), len(pending))


@dataclass(frozen=True)
class Replicated:
    tickets: int
    events: int


def assert_replicated_once(kiosk: Engine, server: Engine, origin: str) -> Replicated:
    """Every ticket and event of `origin` on the server exactly once, applied in `seq` order,
    with the kiosk's ticket states; and the kiosk's outbox empty."""
    with Session(kiosk) as session:
        k_events = session.scalars(select(Event).where(Event.origin == origin)).all()
        k_tickets = session.scalars(select(Ticket).where(Ticket.origin == origin)).all()
        pending = outbox(session, origin, limit=10**9)
    with Session(server) as session:
        s_events = session.scalars(select(Event).where(Event.origin == origin)).all()
        s_tickets = session.scalars(select(Ticket).where(Ticket.origin == origin)).all()
    assert not pending, f"{len(pending)} events still in the kiosk's outbox"
    assert all(e.rejected_reason is None for e in k_events), "the server rejected an event"
    ids = Counter(e.id for e in s_events)
    assert max(ids.values(), default=1) == 1, "an event doubled on the server"
    assert set(ids) == {e.id for e in k_events}, (
        f"events lost on the server: {len({e.id for e in k_events} - set(ids))}"
    )
    by_position = [e.seq for e in sorted(s_events, key=lambda e: e.position)]
    assert by_position == sorted(by_position), "the server applied events out of seq order"
    server_tickets = Counter(t.id for t in s_tickets)
    assert max(server_tickets.values(), default=1) == 1, "a ticket doubled on the server"
    assert set(server_tickets) == {t.id for t in k_tickets}, "tickets lost on the server"
    numbers = Counter((t.department_code, t.service_date, t.number) for t in s_tickets)
    assert max(numbers.values(), default=1) == 1, "a number doubled on the server"
    kiosk_status = {t.id: t.status for t in k_tickets}
    assert {t.id: t.status for t in s_tickets} == kiosk_status, "ticket states differ"
    return Replicated(len(s_tickets), len(s_events))
