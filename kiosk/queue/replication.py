"""Apply events replicated from another database (DESIGN §5, §11); pure SQLAlchemy, no HTTP.

Two directions, two levels of trust:
- **The server ingests what a kiosk pushes** (`ingest_batch`): the kiosk is not trusted. Each
  event is checked by type against the server's own state and rules (department, the kiosk's
  registered numbering block, code, priority groups, service date, timestamps, consistent
  status, safe text, bounded size) before anything is stored; it is applied only in unbroken
  `seq` order; a rejected event is recorded and consumes its seq; the same id with other
  content is a `conflict`, never a duplicate.
- **A kiosk applies the server's feed** (`apply_feed_event`): the server is the authority, its
  ticket snapshots replace the local state. Still parsed strictly, so one event the kiosk
  cannot read is skipped, never stored half.

Either way apply is idempotent on the event id, and the event is stored in this database's own
feed with its origin and `seq` kept. The caller owns the transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Dialect,
    Table,
    TextClause,
    and_,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from kiosk.queue.departments import apply_department_paused
from kiosk.queue.errors import DuplicateNumber, InvalidTransition, QueueError, UnknownDepartment
from kiosk.queue.events import (
    EventType,
    append_event,
    dialect_insert,
    event_to_dict,
    format_timestamp,
    parse_timestamp,
    store_event_row,
)
from kiosk.queue.models import Department, Event, RejectedEvent, Ticket, TicketStatus
from kiosk.queue.models import Sequence as Counter
from kiosk.queue.service import TicketInfo
from kiosk.queue.validation import UnsafeText, canonical_json, check_json, check_text, json_size

log = logging.getLogger(__name__)

ApplyResult = Literal["accepted", "duplicate"]

# What a kiosk may originate: it issues, it cancels a ticket whose print failed, it reports.
KIOSK_EVENT_TYPES = frozenset({EventType.ISSUED, EventType.CANCELLED, EventType.DEVICE_STATUS})

MAX_INT32 = 2**31 - 1
# A pushed event's `data`, as canonical JSON.
MAX_DATA_BYTES = 8 * 1024
# A kiosk's clock may run this much ahead of the server's before its events are refused.
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
# An offline kiosk may bring events this old; older ones are refused.
MAX_EVENT_AGE = dt.timedelta(days=31)
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
REASON_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_UUID = re.compile(UUID_PATTERN)
_REASON = re.compile(REASON_PATTERN)

Id36 = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
Origin = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
DepartmentCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,16}$")]


def _safe(value: str | None) -> str | None:
    if value is not None:
        check_text(value, "text")
    return value


SafeText = Annotated[str, AfterValidator(_safe)]


def _text(max_length: int, min_length: int = 0) -> Any:
    return Field(min_length=min_length, max_length=max_length)


class InvalidEvent(QueueError):
    """A replicated event that cannot be applied: malformed, or at odds with what is stored."""

    code = "invalid_event"


class EventNotAccepted(QueueError):
    """An event of a kind this database does not take from that sender."""

    code = "event_not_accepted"


class EventConflict(QueueError):
    """An event id already known here with other content: never taken as a duplicate."""

    code = "conflict"


class OutsideBlock(QueueError):
    """A ticket number outside the numbering block the server registered for its kiosk."""

    code = "outside_block"


class SeqTaken(QueueError):
    """A seq the server already holds under another event id (a store behind the server)."""

    code = "seq_taken"


class TicketSnapshot(BaseModel):
    """`TicketInfo.to_dict()` as carried in `data["ticket"]`, validated before it is stored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Id36
    department: DepartmentCode
    number: int | None = Field(ge=1, le=MAX_INT32)
    code: SafeText = _text(16, 1)
    service_date: dt.date
    priority: SafeText | None = _text(32)
    status: TicketStatus
    origin: Origin
    issued_at: dt.datetime
    queued_at: dt.datetime
    called_at: dt.datetime | None = None
    last_called_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    room: SafeText | None = _text(32)
    call_count: int = Field(0, ge=0, le=MAX_INT32)
    transferred_from: Id36 | None = None
    cancel_reason: SafeText | None = _text(64)

    @field_validator("issued_at", "queued_at", "called_at", "last_called_at", "finished_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a timestamp with a time zone")
        return value.astimezone(dt.UTC) if value is not None else None


class WireEvent(BaseModel):
    """An event in its wire form (`kiosk.queue.events.event_to_dict`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Id36
    origin: Origin
    seq: int = Field(ge=1, le=MAX_INT32)
    type: EventType
    occurred_at: dt.datetime
    ticket_id: Id36 | None = None
    department: DepartmentCode | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        return parse_timestamp(value) if isinstance(value, str) else value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("a timestamp with a time zone")
        return value.astimezone(dt.UTC)

    @field_validator("data")
    @classmethod
    def _clean_data(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_json(value, "data")
        return value


def _reason(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{where}{'.' + loc if loc else ''}: {error['msg']}"


def parse_wire_event(wire_event: dict[str, Any]) -> WireEvent:
    try:
        return WireEvent.model_validate(wire_event)
    except ValidationError as exc:
        raise InvalidEvent(_reason(exc, "event")) from None
    except (ValueError, UnsafeText) as exc:  # a timestamp that does not parse, unsafe text
        raise InvalidEvent(f"event: {exc}") from None


def _snapshot(event: WireEvent, key: str) -> TicketSnapshot:
    raw = event.data.get(key)
    if not isinstance(raw, dict):
        raise InvalidEvent(f"{event.type} event {event.id} carries no data.{key} object")
    try:
        return TicketSnapshot.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(_reason(exc, f"data.{key}")) from None


def content_hash(wire_event: dict[str, Any]) -> str:
    """A digest of what an event says, in one spelling: the same event sent twice has the
    same digest, an event id reused for other content does not."""
    normal = dict(wire_event)
    occurred = normal.get("occurred_at")
    if isinstance(occurred, str):
        with contextlib.suppress(ValueError):
            normal["occurred_at"] = format_timestamp(parse_timestamp(occurred))
    keys = ("id", "origin", "seq", "type", "occurred_at", "ticket_id", "department", "data")
    picked = {key: normal.get(key) for key in keys}
    picked.setdefault("data", {})
    if picked["data"] is None:
        picked["data"] = {}
    return hashlib.sha256(canonical_json(picked).encode("ascii")).hexdigest()


# -- the server ingests a kiosk's push ----------------------------------------------------


@dataclass(frozen=True)
class NumberBlock:
    """The ticket numbers a kiosk may give: offset + 1 ... offset + size."""

    offset: int
    size: int

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.offset < number <= self.offset + self.size

    def __str__(self) -> str:
        return f"{self.offset + 1}–{self.offset + self.size}"


@dataclass(frozen=True)
class IngestRules:
    """What the server holds a kiosk's events to: its own config and the kiosk's registration."""

    timezone: ZoneInfo
    numbering_width: int
    priority_reasons: frozenset[str]
    block: NumberBlock
    now: dt.datetime
    server_origin: str
    clock_tolerance: dt.timedelta = CLOCK_TOLERANCE
    max_age: dt.timedelta = MAX_EVENT_AGE

    def service_date(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.timezone).date()


@dataclass(frozen=True)
class Rejection:
    id: str
    seq: int
    code: str
    reason: str


@dataclass
class IngestOutcome:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # The seq the server expects next from this origin: a batch stops at a gap, and the kiosk
    # resends from here.
    expected_seq: int = 1
    # Tickets of a past service date that arrived late: stored, then closed as end-of-day.
    closed_late: int = 0


def received_counter(origin: str) -> str:
    return f"received:{origin}"


def last_received_seq(session: Session, origin: str, *, lock: bool = False) -> int:
    """The highest seq of `origin` this server has judged (accepted or rejected).

    Kept in a counter row, which a push locks so that two pushes of one kiosk apply in order;
    pushes of different kiosks do not wait for each other.
    """
    name = received_counter(origin)
    statement = select(Counter).where(Counter.name == name)
    if lock:
        statement = statement.with_for_update()
    row = session.scalars(statement).first()
    if row is None:
        # First push of this origin (or a database from before the counter existed).
        last = _judged_seq(session, origin)
        if not lock:
            return last
        row = Counter(name=name, last=last)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another push of this origin created it first
            row = session.scalars(statement).one()
    return row.last


def _judged_seq(session: Session, origin: str) -> int:
    stored = session.scalar(select(func.max(Event.seq)).where(Event.origin == origin)) or 0
    rejected = (
        session.scalar(select(func.max(RejectedEvent.seq)).where(RejectedEvent.origin == origin))
        or 0
    )
    return max(stored, rejected)


@dataclass
class _Batch:
    """What one push has judged so far, and what the database held when it began: the events
    of a batch are checked against these in memory, and written together at its end."""

    # Events judged in this batch: id -> (digest, None) if stored, (digest, (code, reason))
    # if rejected; and which id took each seq.
    judged: dict[str, tuple[str, tuple[str, str] | None]] = field(default_factory=dict)
    seq_holders: dict[int, str] = field(default_factory=dict)
    # Tickets stored by this batch (not yet written: id -> its row, as judged; a cancel or a
    # late close later in the batch changes the row), and every ticket id / (department,
    # service date, number) known: the database's, fetched at the start, and this batch's.
    # Rows written with plain multi-row INSERTs at the batch's end (no ORM object each: an
    # ORM Ticket per issued ticket cost more than judging it).
    new_events: list[dict[str, Any]] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    ticket_ids: set[str] = field(default_factory=set)
    # Departments read once per batch (the session's identity map holds them only weakly).
    departments: dict[str, Department | None] = field(default_factory=dict)
    numbers: dict[tuple[str, dt.date, int], str] = field(default_factory=dict)


def ingest_batch(
    session: Session, origin: str, wire_events: Sequence[dict[str, Any]], rules: IngestRules
) -> IngestOutcome:
    """Judge a kiosk's batch event by event in `seq` order, inside the caller's transaction.

    Every event is validated completely before anything of it is written, so a rejected one
    leaves nothing behind (no savepoint per event). What the checks need from the database
    (known event ids, ticket ids and numbers) is fetched for the whole batch in a few
    queries; the accepted tickets and events are written together at the end (multi-row
    INSERTs). A known id answers "duplicate" (same content) or `conflict`; a seq below the
    expected one under a new id is `seq_taken`; a gap stops the batch. A rejected event is
    recorded and consumes its seq.
    """
    last = last_received_seq(session, origin, lock=True)
    outcome = IngestOutcome(expected_seq=last + 1)
    known_ids = _known_ids(session, [str(w.get("id")) for w in wire_events])
    batch = _prefetch_tickets(session, wire_events)
    with session.no_autoflush:
        for wire in sorted(wire_events, key=_seq_of):
            if not _judge(session, origin, wire, rules, outcome, known_ids, batch):
                break  # a gap: the kiosk resends from expected_seq
    _insert_rows(session, batch)
    if outcome.expected_seq - 1 > last:
        counter = session.get(Counter, received_counter(origin))
        assert counter is not None
        counter.last = outcome.expected_seq - 1
    session.flush()
    return outcome


def _judge(
    session: Session,
    origin: str,
    wire: dict[str, Any],
    rules: IngestRules,
    outcome: IngestOutcome,
    known_ids: set[str],
    batch: _Batch,
) -> bool:
    """Judge one event of a batch; False when the batch stops here (a gap in seq)."""
    event_id = str(wire.get("id"))
    seq = _seq_of(wire)
    digest = content_hash(wire)
    known: Literal["duplicate"] | tuple[str, str] | None
    if event_id in batch.judged:
        known = _judged_again(event_id, digest, batch.judged[event_id])
    elif event_id in known_ids:
        known = _known_answer(session, event_id, digest)
    else:
        known = None
    if known == "duplicate":
        outcome.duplicates.append(event_id)
        return True
    if known is not None:
        outcome.rejected.append(Rejection(event_id, seq, known[0], known[1]))
        return True
    if seq < outcome.expected_seq:
        holder = batch.seq_holders.get(seq) or _holder_of_seq(session, origin, seq)
        outcome.rejected.append(
            Rejection(
                event_id,
                seq,
                SeqTaken.code,
                f"seq {seq} of {origin} is already held by event {holder}: this kiosk's "
                "store is behind the server (restored from a backup?); it moves past the "
                "server's high-water marks and sends this event again under a new seq",
            )
        )
        return True
    if seq > outcome.expected_seq:
        return False
    try:
        closed = _apply_pushed(session, wire, rules, batch)
    except QueueError as exc:
        log.warning("rejected event %s (seq %d) from %s: %s", event_id, seq, origin, exc)
        session.add(
            RejectedEvent(
                id=event_id,
                origin=origin,
                seq=seq,
                code=exc.code,
                reason=str(exc),
                content_hash=digest,
                received_at=rules.now,
            )
        )
        outcome.rejected.append(Rejection(event_id, seq, exc.code, str(exc)))
        batch.judged[event_id] = (digest, (exc.code, str(exc)))
    else:
        outcome.accepted.append(event_id)
        outcome.closed_late += closed
        batch.judged[event_id] = (digest, None)
    batch.seq_holders[seq] = event_id
    outcome.expected_seq = seq + 1
    return True


def _judged_again(
    event_id: str, digest: str, first: tuple[str, tuple[str, str] | None]
) -> Literal["duplicate"] | tuple[str, str]:
    """An id sent twice in one batch: answered as if the first had been stored before."""
    first_digest, rejection = first
    if rejection is None:
        if first_digest == digest:
            return "duplicate"
        return (
            EventConflict.code,
            f"event {event_id} is already stored with other content; a kiosk never changes "
            "an event it sent",
        )
    if first_digest == digest:
        return rejection
    return (
        EventConflict.code,
        f"event {event_id} was already received (and rejected) with other content",
    )


def _prefetch_tickets(session: Session, wire_events: Sequence[dict[str, Any]]) -> _Batch:
    """The stored tickets a batch's issued tickets could clash with (same id, or the same
    number of the department that day), in one query: a superset, matched exactly later."""
    batch = _Batch()
    ids: set[str] = set()
    departments: set[str] = set()
    numbers: set[int] = set()
    dates: set[dt.date] = set()
    for wire in wire_events:
        data = wire.get("data")
        ticket = data.get("ticket") if isinstance(data, dict) else None
        if not isinstance(ticket, dict):
            continue
        if isinstance(ticket.get("id"), str):
            ids.add(ticket["id"])
        number, department, day = ticket.get("number"), ticket.get("department"), None
        with contextlib.suppress(TypeError, ValueError):
            day = dt.date.fromisoformat(str(ticket.get("service_date")))
        if isinstance(number, int) and isinstance(department, str) and day is not None:
            numbers.add(number)
            departments.add(department)
            dates.add(day)
    if not ids and not numbers:
        return batch
    same_number = and_(
        _among(session, Ticket.number, sorted(numbers)),
        Ticket.department_code.in_(sorted(departments)),
        Ticket.service_date.in_(sorted(dates)),
    )
    rows = session.execute(
        select(
            Ticket.id, Ticket.origin, Ticket.department_code, Ticket.service_date, Ticket.number
        ).where(
            or_(_among(session, Ticket.id, sorted(ids)), same_number)
            if numbers
            else _among(session, Ticket.id, sorted(ids))
        )
    ).all()
    for row in rows:
        batch.ticket_ids.add(row.id)
        if row.number is not None:
            batch.numbers[(row.department_code, row.service_date, row.number)] = row.origin
    return batch


def _known_ids(session: Session, ids: list[str]) -> set[str]:
    """Which of these event ids this server has already seen (stored or rejected): two
    queries for a whole batch instead of two per event."""
    found: set[str] = set()
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        found.update(session.scalars(select(Event.id).where(_among(session, Event.id, chunk))))
        found.update(
            session.scalars(
                select(RejectedEvent.id).where(_among(session, RejectedEvent.id, chunk))
            )
        )
    return found


def _among(session: Session, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(array)`, one parameter: the statement
    reads the same whatever the batch, where a 500-value IN list is 500 placeholders that
    SQLAlchemy renders and psycopg parses again at every push (~10 ms of Python each)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(
            ColumnElement[bool], column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        )
    return cast(ColumnElement[bool], column.in_(values))


def _seq_of(wire: dict[str, Any]) -> int:
    seq = wire.get("seq")
    return seq if isinstance(seq, int) else 0


def _known_answer(
    session: Session, event_id: str, digest: str
) -> Literal["duplicate"] | tuple[str, str] | None:
    """How an event id already seen is answered again: None when the id is new."""
    stored = session.get(Event, event_id)
    if stored is not None:
        if content_hash(event_to_dict(stored)) == digest:
            return "duplicate"
        return (
            EventConflict.code,
            f"event {event_id} is already stored with other content; a kiosk never changes "
            "an event it sent",
        )
    rejected = session.get(RejectedEvent, event_id)
    if rejected is not None:
        if rejected.content_hash == digest:
            return (rejected.code, rejected.reason)
        return (
            EventConflict.code,
            f"event {event_id} was already received (and rejected) with other content",
        )
    return None


def _holder_of_seq(session: Session, origin: str, seq: int) -> str:
    holder = session.scalars(
        select(Event.id).where(Event.origin == origin, Event.seq == seq)
    ).first()
    if holder is None:
        holder = session.scalars(
            select(RejectedEvent.id).where(RejectedEvent.origin == origin, RejectedEvent.seq == seq)
        ).first()
    return holder or "(unknown)"


def _apply_pushed(session: Session, wire: dict[str, Any], rules: IngestRules, batch: _Batch) -> int:
    """Validate and store one pushed event; returns 1 when it was closed as end-of-day."""
    if json_size(wire.get("data") or {}) > MAX_DATA_BYTES:
        raise InvalidEvent(f"event data is larger than {MAX_DATA_BYTES} bytes")
    event = parse_wire_event(wire)
    if event.type not in KIOSK_EVENT_TYPES:
        raise EventNotAccepted(f"the server does not take {event.type} events from kiosks")
    if not _UUID.match(event.id):
        raise InvalidEvent("event.id: a UUID in lower-case hex")
    _check_time(event.occurred_at, rules, "event.occurred_at")
    closed = 0
    if event.type == EventType.ISSUED:
        closed = _ingest_issued(session, event, rules, batch)
    elif event.type == EventType.CANCELLED:
        _apply_kiosk_cancel(session, event, batch)
    batch.new_events.append(store_event_row(session, _event_row(event), rules.now))
    if closed:
        _close_late_ticket(session, event, rules, batch)
    return closed


def _check_time(value: dt.datetime, rules: IngestRules, where: str) -> None:
    if value > rules.now + rules.clock_tolerance:
        raise InvalidEvent(
            f"{where} {format_timestamp(value)} is in the future of the server's clock "
            f"({format_timestamp(rules.now)}); set the kiosk's clock (NTP)"
        )
    if value < rules.now - rules.max_age:
        raise InvalidEvent(
            f"{where} {format_timestamp(value)} is older than {rules.max_age.days} days"
        )


def _ingest_issued(session: Session, event: WireEvent, rules: IngestRules, batch: _Batch) -> int:
    snap = _snapshot(event, "ticket")
    if snap.id != event.ticket_id or snap.department != event.department:
        raise InvalidEvent("data.ticket does not match the event's ticket_id and department")
    if not _UUID.match(snap.id):
        raise InvalidEvent("data.ticket.id: a UUID in lower-case hex")
    if snap.origin != event.origin:
        raise InvalidEvent(f"ticket {snap.code} claims origin {snap.origin}, not the sender")
    # A new ticket is waiting, never called, moved or finished, and entered the line when it
    # was issued: a kiosk cannot buy a place in line.
    fresh = (
        snap.status == TicketStatus.WAITING
        and snap.call_count == 0
        and snap.room is None
        and snap.called_at is None
        and snap.last_called_at is None
        and snap.finished_at is None
        and snap.transferred_from is None
        and snap.cancel_reason is None
    )
    if not fresh:
        raise InvalidEvent("a ticket.issued snapshot must be a new waiting ticket (never called)")
    if snap.issued_at != event.occurred_at or snap.queued_at != snap.issued_at:
        raise InvalidEvent("data.ticket.issued_at and queued_at must be the event's occurred_at")
    if snap.service_date != rules.service_date(snap.issued_at):
        raise InvalidEvent(
            f"data.ticket.service_date {snap.service_date} is not the hospital's date of its "
            f"issue time ({rules.service_date(snap.issued_at)})"
        )
    if snap.priority is not None and snap.priority not in rules.priority_reasons:
        raise InvalidEvent(
            f"data.ticket.priority {snap.priority!r} is not one of the server's priority groups "
            f"({', '.join(sorted(rules.priority_reasons))})"
        )
    if snap.department not in batch.departments:
        batch.departments[snap.department] = session.get(Department, snap.department)
    department = batch.departments[snap.department]
    if department is None:
        raise UnknownDepartment(snap.department, session.scalars(select(Department.code)).all())
    if snap.number not in rules.block:
        raise OutsideBlock(
            f"number {snap.number} is outside this kiosk's numbering block {rules.block}; "
            "make numbering.offset in its config match its registration on the server"
        )
    assert snap.number is not None
    expected_code = f"{department.prefix}{snap.number:0{rules.numbering_width}d}"
    if snap.code != expected_code:
        raise InvalidEvent(f"data.ticket.code {snap.code!r} should be {expected_code!r}")
    # Both clashes from what the batch fetched at its start and what it stored since.
    if snap.id in batch.ticket_ids:
        raise InvalidEvent(f"ticket id {snap.id} already exists")
    key = (snap.department, snap.service_date, snap.number)
    holder = batch.numbers.get(key)
    if holder is not None:
        raise DuplicateNumber(snap.department, snap.service_date.isoformat(), snap.number, holder)
    batch.tickets[snap.id] = _snapshot_row(snap)  # inserted with the batch's rows
    batch.ticket_ids.add(snap.id)
    batch.numbers[key] = snap.origin
    # Late from an earlier day (an offline kiosk): kept for the record, never in today's line.
    return 1 if snap.service_date < rules.service_date(rules.now) else 0


def _close_late_ticket(
    session: Session, event: WireEvent, rules: IngestRules, batch: _Batch
) -> None:
    row = batch.tickets[str(event.ticket_id)]
    row.update(
        status=str(TicketStatus.CANCELLED), finished_at=rules.now, cancel_reason="end_of_day"
    )
    ticket = Ticket(**row)  # transient, only read: the row is inserted with the batch's
    append_event(
        session,
        origin=rules.server_origin,
        type=EventType.CANCELLED,
        now=rules.now,
        ticket_id=ticket.id,
        department_code=ticket.department_code,
        data={"ticket": TicketInfo.of(ticket).to_dict(), "reason": "end_of_day"},
    )


def _apply_kiosk_cancel(session: Session, event: WireEvent, batch: _Batch) -> None:
    snap = _snapshot(event, "ticket")
    if snap.id != event.ticket_id:
        raise InvalidEvent("data.ticket does not match the event's ticket_id")
    # A ticket of this batch is still its row; a stored one is read (and locked).
    row = batch.tickets.get(snap.id)
    stored = None if row is not None else session.get(Ticket, snap.id, with_for_update=True)
    if row is not None:
        origin, code, status = row["origin"], row["code"], row["status"]
    elif stored is not None:
        origin, code, status = stored.origin, stored.code, stored.status
    else:
        raise InvalidEvent(f"cannot cancel ticket {snap.code}: the server has no such ticket")
    if origin != event.origin:
        raise InvalidEvent(f"{event.origin} cannot cancel {code}, issued by {origin}")
    if snap.status != TicketStatus.CANCELLED:
        raise InvalidEvent("a ticket.cancelled snapshot must have status cancelled")
    reason = snap.cancel_reason or str(event.data.get("reason") or "cancelled")
    if not _REASON.match(reason):
        raise InvalidEvent("data.ticket.cancel_reason: lower-case letters, digits and _")
    if status != TicketStatus.WAITING:
        raise InvalidTransition(code, status, "cancel", [TicketStatus.WAITING])
    # The kiosk decides only that its ticket is void; everything else stays the server's.
    if row is not None:
        row.update(
            status=str(TicketStatus.CANCELLED), finished_at=event.occurred_at, cancel_reason=reason
        )
    else:
        assert stored is not None
        stored.status = TicketStatus.CANCELLED
        stored.finished_at = event.occurred_at
        stored.cancel_reason = reason


# -- a kiosk applies the server's feed ----------------------------------------------------


@dataclass(frozen=True)
class FeedEvent:
    """One event of the server's feed, read before any write lock is taken: the parsed event
    (or why it cannot be read) and its ticket snapshots in the order they apply, each parsed
    (or why it cannot be). Whether it applies is decided against the store, in that order:
    unreadable, already stored ("duplicate"), a seq the origin already sent under another id,
    then each snapshot unreadable or of a department this store does not know."""

    wire: dict[str, Any]
    event: WireEvent | None
    error: QueueError | None = None
    snapshots: tuple[TicketSnapshot | QueueError, ...] = ()

    @property
    def id(self) -> str:
        return str(self.wire.get("id"))


def read_feed_event(wire_event: dict[str, Any]) -> FeedEvent:
    """Validate one event of the feed (pydantic, no database): the CPU of applying it, done
    outside the transaction that writes it."""
    try:
        event = parse_wire_event(wire_event)
    except InvalidEvent as exc:
        return FeedEvent(wire_event, None, exc)
    if event.type in (EventType.DEPARTMENT_PAUSED, EventType.DEVICE_STATUS):
        keys: tuple[str, ...] = ()
    elif event.type == EventType.TRANSFERRED:
        keys = ("ticket", "new_ticket")
    else:
        keys = ("ticket",)
    snapshots: list[TicketSnapshot | QueueError] = []
    for key in keys:
        try:
            snapshots.append(_snapshot(event, key))
        except InvalidEvent as exc:
            snapshots.append(exc)
    return FeedEvent(wire_event, event, snapshots=tuple(snapshots))


def apply_feed_event(session: Session, wire_event: dict[str, Any], now: dt.datetime) -> ApplyResult:
    """Apply one event of the server's feed; "duplicate" if this database already has it.

    Raises a QueueError subclass when the event cannot be applied (nothing of it is stored).
    """
    [outcome] = apply_feed_events(session, [read_feed_event(wire_event)], now)
    if isinstance(outcome, QueueError):
        raise outcome
    return outcome


def apply_feed_events(
    session: Session, events: Sequence[FeedEvent], now: dt.datetime
) -> list[ApplyResult | QueueError]:
    """Apply events of the server's feed in order, inside the caller's transaction, set-based:
    what the store already holds is read in three queries for them all, then the tickets'
    snapshots are written in one upsert (the last snapshot of each ticket: the server's state
    replaces the local one, as each event applied in turn would leave it) and the events in
    one INSERT; their feed positions follow at commit, in this order.

    One outcome per event: "accepted", "duplicate", or the QueueError why it cannot be applied
    (nothing of such an event is stored; the caller logs and skips it).
    """
    readable = [e.event for e in events if e.event is not None]
    stored = _stored_events(session, readable)
    departments: list[str] | None = None
    tickets: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    outcomes: list[ApplyResult | QueueError] = []
    for item in events:
        event = item.event
        if event is None:
            outcomes.append(item.error or InvalidEvent(f"event {item.id} cannot be read"))
            continue
        if event.id in stored.ids:
            outcomes.append("duplicate")
            continue
        clash = stored.seqs.get((event.origin, event.seq))
        try:
            if clash is not None:
                raise seq_clash(event, clash)
            if event.type == EventType.DEPARTMENT_PAUSED:
                apply_department_paused(session, event.department, event.data)
            snaps: list[TicketSnapshot] = []
            for snap in item.snapshots:
                if isinstance(snap, QueueError):
                    raise snap
                if departments is None:
                    departments = list(session.scalars(select(Department.code)))
                if snap.department not in departments:
                    raise UnknownDepartment(snap.department, departments)
                snaps.append(snap)
        except QueueError as exc:
            outcomes.append(exc)
            continue
        for snap in snaps:
            tickets.pop(snap.id, None)  # the last snapshot wins, written in that order
            tickets[snap.id] = _snapshot_row(snap)
        rows.append(store_event_row(session, _event_row(event), now))
        stored.ids.add(event.id)
        stored.seqs[(event.origin, event.seq)] = event.id
        outcomes.append("accepted")
    _upsert_tickets(session, list(tickets.values()))
    _insert_events(session, rows)
    return outcomes


def seq_clash(event: WireEvent, holder: str) -> InvalidEvent:
    return InvalidEvent(
        f"{event.origin} already sent seq {event.seq} as event {holder}; was its database "
        "replaced? Give a rebuilt kiosk a new kiosk.id"
    )


@dataclass
class _Stored:
    """Which event ids, and which (origin, seq) under which id, the store already holds."""

    ids: set[str]
    seqs: dict[tuple[str, int], str]


def _stored_events(session: Session, events: Sequence[WireEvent]) -> _Stored:
    if not events:
        return _Stored(set(), {})
    ids = set(session.scalars(select(Event.id).where(Event.id.in_({e.id for e in events}))))
    pairs = {(e.origin, e.seq) for e in events}
    # Not `(origin, seq) IN (VALUES ...)`: SQLite scans the whole table for that.
    held = session.execute(
        select(Event.origin, Event.seq, Event.id).where(
            Event.origin.in_({origin for origin, _ in pairs}),
            Event.seq.in_({seq for _, seq in pairs}),
        )
    )
    found = {(origin, seq): event_id for origin, seq, event_id in held}
    return _Stored(ids, {pair: found[pair] for pair in pairs & found.keys()})


def _event_row(event: WireEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "origin": event.origin,
        "seq": event.seq,
        "type": str(event.type),
        "occurred_at": event.occurred_at,
        "ticket_id": event.ticket_id,
        "department_code": event.department,
        "data": event.data,
        "synced_at": None,
        "rejected_reason": None,
    }


_TICKETS = cast(Table, Ticket.__table__)
_EVENTS = cast(Table, Event.__table__)
_TICKET_ATTRIBUTES = tuple(column.key for column in _TICKETS.columns)


def _insert_rows(session: Session, batch: _Batch) -> None:
    """The batch's new tickets (as judged, a late one already closed) and events, each in
    one multi-row INSERT; the events' feed positions follow at commit (`store_event_row`)."""
    _insert(
        session,
        _TICKETS,
        [{key: row.get(key) for key in _TICKET_ATTRIBUTES} for row in batch.tickets.values()],
    )
    _insert_events(session, batch.new_events)


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert(session, _EVENTS, rows)


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows with every column of `table`. On PostgreSQL one statement whatever the number of
    rows (`_unnest_insert`): an executemany sends one INSERT per row, each row's parameters
    processed and sent apart (~70 us of Python a row); elsewhere an executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    keys = [column.key for column in table.columns]
    session.execute(
        _unnest_insert(table, session.get_bind().dialect),
        {key: [row[key] for row in rows] for key in keys},
    )


# table name -> its INSERT of many rows, built once
_UNNEST_INSERTS: dict[str, TextClause] = {}


def _unnest_insert(table: Table, dialect: Dialect) -> TextClause:
    """INSERT ... SELECT from one array per column (`unnest`), bound with the column's own
    type, so each value is processed as a row's would be (aware UTC datetimes). A JSON column
    comes as one JSON array of the rows' values instead (`json_array_elements`), encoded in
    one call: psycopg escapes each element of a text array in Python, quote by quote."""
    statement = _UNNEST_INSERTS.get(table.name)
    if statement is not None:
        return statement
    quote = dialect.identifier_preparer.quote
    columns = list(table.columns)
    plain = [column for column in columns if not isinstance(column.type, JSON)]
    documents = [column for column in columns if isinstance(column.type, JSON)]
    arrays = ", ".join(
        f"CAST(:{column.key} AS {column.type.compile(dialect=dialect)}[])" for column in plain
    )
    source = (
        f"unnest({arrays}) WITH ORDINALITY AS v({', '.join(f'c{i}' for i in range(len(plain)))}, n)"
    )
    picked = {column.key: f"v.c{i}" for i, column in enumerate(plain)}
    for i, column in enumerate(documents):
        source += (
            f" JOIN json_array_elements(CAST(:{column.key} AS json)) WITH ORDINALITY "
            f"AS j{i}(value, n) ON j{i}.n = v.n"
        )
        picked[column.key] = f"j{i}.value"
    names = ", ".join(quote(column.name) for column in columns)
    values = ", ".join(picked[column.key] for column in columns)
    statement = _UNNEST_INSERTS[table.name] = text(
        f"INSERT INTO {quote(table.name)} ({names}) SELECT {values} FROM {source}"
    ).bindparams(
        *(bindparam(column.key, type_=ARRAY(column.type)) for column in plain),
        *(bindparam(column.key, type_=column.type) for column in documents),
    )
    return statement


def _upsert_tickets(session: Session, rows: list[dict[str, Any]]) -> None:
    """Make the stored tickets equal to these snapshot rows (creating them if needed): one
    INSERT ... ON CONFLICT (id) DO UPDATE. Ticket objects the session holds are expired."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    upsert = _UPSERT_TICKETS.get(dialect)
    if upsert is None:
        statement = dialect_insert(dialect, _TICKETS)
        upsert = _UPSERT_TICKETS[dialect] = statement.on_conflict_do_update(
            index_elements=[_TICKETS.c.id],
            set_={key: statement.excluded[key] for key in rows[0] if key != "id"},
        )
    session.execute(upsert, rows)
    for row in rows:
        held = session.identity_map.get(identity_key(Ticket, row["id"]))
        if held is not None:
            session.expire(held)


# dialect name -> the tickets' upsert, built once (building costs more than running it)
_UPSERT_TICKETS: dict[str, Any] = {}


def _snapshot_row(snap: TicketSnapshot) -> dict[str, Any]:
    """A ticket's columns as the snapshot gives them (the fields are named as the columns,
    but for the department)."""
    row = snap.model_dump()
    row["department_code"] = row.pop("department")
    row["status"] = str(snap.status)
    return row


# -- high-water marks ---------------------------------------------------------------------


@dataclass(frozen=True)
class HighWater:
    """What the server holds for one origin: its last seq and its highest number per
    department and service date (the kiosk's counters must never fall behind these)."""

    origin: str
    last_seq: int
    numbers: dict[tuple[str, dt.date], int]


def high_water(session: Session, origin: str, since: dt.date) -> HighWater:
    rows = session.execute(
        select(Ticket.department_code, Ticket.service_date, func.max(Ticket.number))
        .where(Ticket.origin == origin, Ticket.service_date >= since, Ticket.number.is_not(None))
        .group_by(Ticket.department_code, Ticket.service_date)
    ).all()
    return HighWater(
        origin=origin,
        last_seq=last_received_seq(session, origin),
        numbers={(str(d), day): int(n) for d, day, n in rows if n is not None},
    )
