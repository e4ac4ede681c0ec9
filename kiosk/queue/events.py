"""The event log: one event per state change, in the same transaction (DESIGN §5)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.queue.models import Event, Sequence

FEED_SEQUENCE = "feed"
# Session.info key: events of this transaction still waiting for their feed position.
PENDING_POSITIONS = "kiosk_pending_feed_positions"


class EventType(enum.StrEnum):
    ISSUED = "ticket.issued"
    CALLED = "ticket.called"
    RECALLED = "ticket.recalled"
    SERVED = "ticket.served"
    NO_SHOW = "ticket.no_show"
    REQUEUED = "ticket.requeued"
    TRANSFERRED = "ticket.transferred"
    CANCELLED = "ticket.cancelled"
    DEVICE_STATUS = "device.status"
    # The operations console paused (or resumed) a department for every kiosk.
    DEPARTMENT_PAUSED = "department.paused"


def bump_sequence(session: Session, name: str, start: int = 1, step: int = 1) -> int:
    """Next value of a named counter (the last of `step` values), locked until this
    transaction ends.

    One statement, gap-free: a rolled-back transaction gives its values back, unlike a SEQUENCE.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # imported here: the kiosk (SQLite) never loads this dialect
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(Sequence)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(Sequence)
    upsert = (
        statement.values(name=name, last=start + step - 1)
        .on_conflict_do_update(index_elements=[Sequence.name], set_={"last": Sequence.last + step})
        .returning(Sequence.last)
    )
    return int(session.execute(upsert).scalar_one())


def format_timestamp(value: dt.datetime) -> str:
    """`2026-11-28T01:02:03.456Z`: UTC with milliseconds, as events carry it."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(dt.UTC)


def store_event(session: Session, event: Event, now: dt.datetime) -> Event:
    """Add an event to this database's feed; its position is given at commit.

    Feed readers must never skip an event that commits late, yet no writer may hold a lock
    that every other writer needs while it works. So the position is taken in the last
    statement before COMMIT (`_give_feed_positions`): the counter row is locked only across
    that statement and the commit, and positions still become visible in order — whoever
    holds position P has committed before anyone can take P + 1. Until then it is NULL, and
    readers (`position > cursor`) do not see the event.
    """
    event.position = None
    event.stored_at = now
    session.add(event)
    session.info.setdefault(PENDING_POSITIONS, []).append(event)
    return event


@sa_event.listens_for(Session, "before_commit")
def _give_feed_positions(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: positions come with the outermost commit only
    pending = session.info.pop(PENDING_POSITIONS, None)
    if not pending:
        return
    # Events of a savepoint that was rolled back are no longer in the session.
    events = [e for e in pending if e in session]
    if not events:
        return
    session.flush()
    last = bump_sequence(session, FEED_SEQUENCE, step=len(events))
    for offset, stored in enumerate(events, start=last - len(events) + 1):
        stored.position = offset
    session.flush()


@sa_event.listens_for(Session, "after_rollback")
def _forget_feed_positions(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(PENDING_POSITIONS, None)


def append_event(
    session: Session,
    *,
    origin: str,
    type: EventType,
    now: dt.datetime,
    ticket_id: str | None = None,
    department_code: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Record a state change made here, with this origin's next gap-free `seq`."""
    event = Event(
        id=str(uuid.uuid4()),
        origin=origin,
        seq=bump_sequence(session, f"seq:{origin}"),
        type=str(type),
        occurred_at=now,
        ticket_id=ticket_id,
        department_code=department_code,
        data=data or {},
    )
    return store_event(session, event, now)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The wire form of an event (DESIGN §5)."""
    return {
        "id": event.id,
        "origin": event.origin,
        "seq": event.seq,
        "type": event.type,
        "occurred_at": format_timestamp(event.occurred_at),
        "ticket_id": event.ticket_id,
        "department": event.department_code,
        "data": event.data,
    }


def outbox(session: Session, origin: str, limit: int = 500) -> list[Event]:
    """This origin's events not yet accepted by the server, in `seq` order."""
    statement = (
        select(Event)
        .where(Event.origin == origin, Event.synced_at.is_(None), Event.rejected_reason.is_(None))
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(session.scalars(statement))
