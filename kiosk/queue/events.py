"""The event log: one event per state change, in the same transaction (DESIGN §5)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
import uuid
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kiosk.queue.models import Event, Sequence
from kiosk.queue.records import FEED_SEQUENCE as FEED_SEQUENCE
from kiosk.queue.records import format_timestamp as format_timestamp
from kiosk.queue.records import parse_timestamp as parse_timestamp

# Session.info key: events of this transaction still waiting for their feed position.
PENDING_POSITIONS = "kiosk_pending_feed_positions"
# Session.info key: events made here whose `seq` is given at commit (PostgreSQL).
PENDING_SEQS = "kiosk_pending_seqs"
# Stand-in seqs until commit: negative, random, so that concurrent writers' rows do not clash
# on (origin, seq) (one that did would only wait for the other's commit).
MAX_STAND_IN = 2**31 - 2


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


_BUMP: dict[str, Any] = {}  # dialect name -> the upsert, built once (building costs more)


def bump_sequence(session: Session | Connection, name: str, start: int = 1, step: int = 1) -> int:
    """Next value of a named counter (the last of `step` values), locked until this
    transaction ends (in a Session's or a Connection's transaction).

    One statement, gap-free: a rolled-back transaction gives its values back, unlike a SEQUENCE.
    """
    bind = session.get_bind() if isinstance(session, Session) else session
    dialect = bind.dialect.name
    upsert = _BUMP.get(dialect)
    if upsert is None:
        upsert = _BUMP[dialect] = (
            dialect_insert(dialect, Sequence)
            .values(name=bindparam("name"), last=bindparam("first"))
            .on_conflict_do_update(
                index_elements=[Sequence.name],
                set_={"last": Sequence.last + bindparam("step", type_=Integer)},
            )
            .returning(Sequence.last)
        )
    params = {"name": name, "first": start + step - 1, "step": step}
    return int(session.execute(upsert, params).scalar_one())


def dialect_insert(dialect: str, table: Any) -> Any:
    """The INSERT of `dialect` that takes ON CONFLICT (an upsert): PostgreSQL's or SQLite's."""
    if dialect == "postgresql":  # imported here: the kiosk (SQLite) never loads this dialect
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


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


def store_event_row(session: Session, row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """`store_event` for an event the caller inserts itself as a plain row (a push's events,
    many at once): its position is given at commit all the same."""
    row["position"] = None
    row["stored_at"] = now
    session.info.setdefault(PENDING_POSITIONS, []).append(str(row["id"]))
    return row


def _event_id(stored: Event | str) -> str:
    return stored if isinstance(stored, str) else stored.id


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@sa_event.listens_for(Session, "before_commit")
def _give_feed_positions(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: positions come with the outermost commit only
    pending = session.info.pop(PENDING_POSITIONS, None)
    seqs = session.info.pop(PENDING_SEQS, None)
    if not pending and not seqs:
        return
    # Events of a savepoint that was rolled back are no longer in the session (events
    # inserted as rows, known by id, are written only just before the commit).
    events = [e for e in pending or [] if isinstance(e, str) or e in session]
    numbered = [e for e in seqs or [] if e in session]
    if not events and not numbered:
        return
    session.flush()
    if _is_postgresql(session):
        _number_at_commit_postgresql(session, events, numbered)
        return
    last = bump_sequence(session, FEED_SEQUENCE, step=len(events))
    rows = []
    for offset, stored in enumerate(events, start=last - len(events) + 1):
        if isinstance(stored, str):
            rows.append({"event_id": stored, "position": offset})
        else:
            stored.position = offset
    session.flush()
    if rows:
        session.execute(_SET_POSITION, rows)


_SET_POSITION = text("UPDATE events SET position = :position WHERE id = :event_id")


def _number_at_commit_postgresql(
    session: Session, events: list[Event | str], numbered: list[Event]
) -> None:
    """One statement, the transaction's last before COMMIT: bump the feed counter (and the
    `seq:<origin>` counter of events made here) and write the values into the events.

    The counter rows are locked from this statement to the commit and by nothing else: no
    writer waits for another's work, only for its commit. One statement, so no Python runs
    (and waits for the interpreter lock) while the rows are held.
    """
    counts: dict[str, int] = {}
    if events:
        counts[FEED_SEQUENCE] = len(events)
    rows: dict[str, dict[str, Any]] = {}
    for ordinal, stored in enumerate(events, start=1):
        rows[_event_id(stored)] = {"pos": ordinal, "seq_name": None, "seq_ord": 0}
    for stored in numbered:
        name = f"seq:{stored.origin}"
        counts[name] = counts.get(name, 0) + 1
        row = rows.setdefault(stored.id, {"pos": 0, "seq_name": None, "seq_ord": 0})
        row["seq_name"], row["seq_ord"] = name, counts[name]
    names = list(counts)
    # Arrays, not a VALUES list: the statement has one shape whatever the batch (compiled
    # once), and a 1,000-event push sends five parameters, not five thousand.
    params: dict[str, Any] = {
        "feed": FEED_SEQUENCE,
        "n_feed": counts.get(FEED_SEQUENCE, 0),
        "names": names,
        "counts": [counts[name] for name in names],
        "ids": list(rows),
        "pos": [row["pos"] for row in rows.values()],
        "sn": [row["seq_name"] for row in rows.values()],
        "so": [row["seq_ord"] for row in rows.values()],
        "st": [counts[row["seq_name"]] if row["seq_name"] else 0 for row in rows.values()],
    }
    statement = _NUMBER_AT_COMMIT
    by_id = {e.id: e for e in (*events, *numbered) if not isinstance(e, str)}
    for event_id, position, seq in session.execute(statement, params):
        found = by_id.get(event_id)
        if found is None:
            continue  # inserted as a row: nothing in the session to update
        # Written by the statement: set without marking the objects changed.
        set_committed_value(found, "position", position)
        set_committed_value(found, "seq", seq)


# The counters in `names` order (the feed first), so concurrent writers lock them in one order.
_NUMBER_AT_COMMIT = text(
    "WITH bumped AS ("
    "INSERT INTO sequences (name, last) "
    "SELECT * FROM unnest(CAST(:names AS text[]), CAST(:counts AS integer[])) "
    "ON CONFLICT (name) DO UPDATE SET last = sequences.last + excluded.last "
    "RETURNING name, last) "
    "UPDATE events AS e SET "
    "position = CASE WHEN v.pos > 0 THEN f.last - :n_feed + v.pos ELSE e.position END, "
    "seq = CASE WHEN v.sn IS NULL THEN e.seq ELSE s.last - v.st + v.so END "
    "FROM unnest(CAST(:ids AS text[]), CAST(:pos AS integer[]), CAST(:sn AS text[]), "
    "CAST(:so AS integer[]), CAST(:st AS integer[])) AS v(id, pos, sn, so, st) "
    "LEFT JOIN bumped AS f ON f.name = :feed "
    "LEFT JOIN bumped AS s ON s.name = v.sn "
    "WHERE e.id = v.id "
    "RETURNING e.id, e.position, e.seq"
)


@sa_event.listens_for(Session, "after_rollback")
def _forget_feed_positions(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(PENDING_POSITIONS, None)
        session.info.pop(PENDING_SEQS, None)


def new_event(
    *,
    origin: str,
    type: EventType,
    now: dt.datetime,
    seq: int,
    ticket_id: str | None,
    department_code: str | None,
    data: dict[str, Any] | None,
) -> dict[str, Any]:
    """The columns of an event made here (its feed position and storage time come apart:
    `store_event`; on a kiosk's issue `sqlite_issuing`)."""
    return {
        "id": str(uuid.uuid4()),
        "origin": origin,
        "seq": seq,
        "type": str(type),
        "occurred_at": now,
        "ticket_id": ticket_id,
        "department_code": department_code,
        "data": data or {},
    }


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
    """Record a state change made here, with this origin's next gap-free `seq`.

    On PostgreSQL the seq, like the feed position, is taken in the statement just before
    COMMIT (until then the event holds a unique negative stand-in): the origin's counter row
    is not held while the transaction works. SQLite serialises its writers anyway.
    """
    postgresql = _is_postgresql(session)
    event = Event(
        **new_event(
            origin=origin,
            type=type,
            now=now,
            seq=-1 - secrets.randbelow(MAX_STAND_IN)
            if postgresql
            else bump_sequence(session, f"seq:{origin}"),
            ticket_id=ticket_id,
            department_code=department_code,
            data=data,
        )
    )
    if postgresql:
        session.info.setdefault(PENDING_SEQS, []).append(event)
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


# An event as the wire carries it (a push; the feed adds its position).
WIRE_COLUMNS = (
    Event.id,
    Event.origin,
    Event.seq,
    Event.type,
    Event.occurred_at,
    Event.ticket_id,
    Event.department_code,
    Event.data,
)


def outbox_batch(
    session: Session, origin: str, limit: int, max_bytes: int
) -> tuple[list[dict[str, Any]], bool]:
    """The next push: this origin's unsynced events in `seq` order, in wire form, at most
    `limit` of them and about `max_bytes` of JSON (always at least one), read as plain rows.
    Also whether more are waiting after them."""
    statement = (
        select(*WIRE_COLUMNS)
        .where(Event.origin == origin, Event.synced_at.is_(None), Event.rejected_reason.is_(None))
        .order_by(Event.seq)
        .limit(limit + 1)
    )
    batch: list[dict[str, Any]] = []
    size = 0
    for id_, origin_, seq, type_, occurred_at, ticket_id, department, data in session.execute(
        statement
    ):
        if len(batch) == limit:
            return batch, True
        wire = {
            "id": id_,
            "origin": origin_,
            "seq": seq,
            "type": type_,
            "occurred_at": format_timestamp(occurred_at),
            "ticket_id": ticket_id,
            "department": department,
            "data": data,
        }
        size += len(json.dumps(wire))  # as the HTTP client encodes it (ASCII, escaped)
        if batch and size > max_bytes:
            return batch, True
        batch.append(wire)
    return batch, False
