"""Apply events replicated from another database (DESIGN §5); pure SQLAlchemy, no HTTP.

The central server applies the events kiosks push (`trusted=False`: only the kinds a kiosk may
originate, each checked); a kiosk applies the server's feed (`trusted=True`: the server is the
authority, its ticket snapshots replace the local state). Either way apply is idempotent on the
event id, and the event is stored in this database's own feed with its origin and `seq` kept.

The caller owns the transaction: wrap each call in a SAVEPOINT (`session.begin_nested()`) so a
rejected event leaves the accepted ones of its batch intact.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.queue.departments import apply_department_paused
from kiosk.queue.errors import DuplicateNumber, InvalidTransition, QueueError, UnknownDepartment
from kiosk.queue.events import EventType, parse_timestamp, store_event
from kiosk.queue.models import Department, Event, Ticket, TicketStatus

log = logging.getLogger("kiosk.queue")

ApplyResult = Literal["accepted", "duplicate"]

# What a kiosk may originate: it issues, it cancels a ticket whose print failed, it reports.
KIOSK_EVENT_TYPES = frozenset({EventType.ISSUED, EventType.CANCELLED, EventType.DEVICE_STATUS})

MAX_INT32 = 2**31 - 1
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
Id36 = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
Origin = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
DepartmentCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,16}$")]


def _text(max_length: int, min_length: int = 0) -> Any:
    return Field(min_length=min_length, max_length=max_length, pattern=_NO_CONTROL)


class InvalidEvent(QueueError):
    """A replicated event that cannot be applied: malformed, or at odds with what is stored."""

    code = "invalid_event"


class EventNotAccepted(QueueError):
    """An event of a kind this database does not take from that sender."""

    code = "event_not_accepted"


class TicketSnapshot(BaseModel):
    """`TicketInfo.to_dict()` as carried in `data["ticket"]`, validated before it is stored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Id36
    department: DepartmentCode
    number: int | None = Field(ge=1, le=MAX_INT32)
    code: str = _text(16, 1)
    service_date: dt.date
    priority: str | None = _text(32)
    status: TicketStatus
    origin: Origin
    issued_at: dt.datetime
    queued_at: dt.datetime
    called_at: dt.datetime | None = None
    last_called_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    room: str | None = _text(32)
    call_count: int = Field(0, ge=0, le=MAX_INT32)
    transferred_from: Id36 | None = None
    cancel_reason: str | None = _text(64)

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


def _reason(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    return f"{where}{'.' + loc if loc else ''}: {error['msg']}"


def parse_wire_event(wire_event: dict[str, Any]) -> WireEvent:
    try:
        return WireEvent.model_validate(wire_event)
    except ValidationError as exc:
        raise InvalidEvent(_reason(exc, "event")) from None
    except ValueError as exc:  # a timestamp that does not parse
        raise InvalidEvent(f"event.occurred_at: {exc}") from None


def _snapshot(event: WireEvent, key: str) -> TicketSnapshot:
    raw = event.data.get(key)
    if not isinstance(raw, dict):
        raise InvalidEvent(f"{event.type} event {event.id} carries no data.{key} object")
    try:
        return TicketSnapshot.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(_reason(exc, f"data.{key}")) from None


def apply_remote_event(
    session: Session,
    wire_event: dict[str, Any],
    now: dt.datetime,
    *,
    trusted: bool = False,
) -> ApplyResult:
    """Apply one replicated event; "duplicate" if this database already has it.

    Raises a QueueError subclass when the event is rejected (the caller rolls back its
    savepoint): `DuplicateNumber` for a second ticket with the same department, date and number
    from another issuer, `InvalidEvent`, `EventNotAccepted`, `InvalidTransition`,
    `UnknownDepartment`.
    """
    event = parse_wire_event(wire_event)
    if session.get(Event, event.id) is not None:
        return "duplicate"
    clash = session.scalars(
        select(Event.id).where(Event.origin == event.origin, Event.seq == event.seq)
    ).first()
    if clash is not None:
        raise InvalidEvent(
            f"{event.origin} already sent seq {event.seq} as event {clash}; was its database "
            "replaced? Give a rebuilt kiosk a new kiosk.id"
        )
    if not trusted and event.type not in KIOSK_EVENT_TYPES:
        raise EventNotAccepted(f"the server does not take {event.type} events from kiosks")

    if event.type == EventType.ISSUED:
        _apply_issued(session, event, trusted)
    elif event.type == EventType.DEVICE_STATUS:
        pass  # stored for staff; no ticket changes
    elif event.type == EventType.DEPARTMENT_PAUSED:
        apply_department_paused(session, event.department, event.data)
    elif trusted:
        _upsert(session, _snapshot(event, "ticket"))
        if event.type == EventType.TRANSFERRED:
            _upsert(session, _snapshot(event, "new_ticket"))
    else:
        _apply_kiosk_cancel(session, event)

    store_event(
        session,
        Event(
            id=event.id,
            origin=event.origin,
            seq=event.seq,
            type=str(event.type),
            occurred_at=event.occurred_at,
            ticket_id=event.ticket_id,
            department_code=event.department,
            data=event.data,
        ),
        now,
    )
    session.flush()
    return "accepted"


def _apply_issued(session: Session, event: WireEvent, trusted: bool) -> None:
    snap = _snapshot(event, "ticket")
    if snap.id != event.ticket_id or snap.department != event.department:
        raise InvalidEvent("data.ticket does not match the event's ticket_id and department")
    if not trusted:
        if snap.status != TicketStatus.WAITING or snap.number is None:
            raise InvalidEvent("a ticket.issued snapshot must be a waiting ticket with a number")
        if snap.origin != event.origin:
            raise InvalidEvent(f"ticket {snap.code} claims origin {snap.origin}, not the sender")
        if session.get(Ticket, snap.id) is not None:
            raise InvalidEvent(f"ticket id {snap.id} already exists")
    if snap.number is not None:
        holder = session.scalars(
            select(Ticket).where(
                Ticket.department_code == snap.department,
                Ticket.service_date == snap.service_date,
                Ticket.number == snap.number,
                Ticket.id != snap.id,
            )
        ).first()
        if holder is not None:
            raise DuplicateNumber(
                snap.department, snap.service_date.isoformat(), snap.number, holder.origin
            )
    _upsert(session, snap)


def _apply_kiosk_cancel(session: Session, event: WireEvent) -> None:
    snap = _snapshot(event, "ticket")
    if snap.id != event.ticket_id:
        raise InvalidEvent("data.ticket does not match the event's ticket_id")
    ticket = session.get(Ticket, snap.id, with_for_update=True)
    if ticket is None:
        raise InvalidEvent(f"cannot cancel ticket {snap.code}: the server has no such ticket")
    if ticket.origin != event.origin:
        raise InvalidEvent(f"{event.origin} cannot cancel {ticket.code}, issued by {ticket.origin}")
    if snap.status != TicketStatus.CANCELLED:
        raise InvalidEvent("a ticket.cancelled snapshot must have status cancelled")
    if ticket.status != TicketStatus.WAITING:
        raise InvalidTransition(ticket.code, ticket.status, "cancel", [TicketStatus.WAITING])
    # The kiosk decides only that its ticket is void; everything else stays the server's.
    ticket.status = TicketStatus.CANCELLED
    ticket.finished_at = snap.finished_at or event.occurred_at
    ticket.cancel_reason = snap.cancel_reason or str(event.data.get("reason") or "cancelled")


def _upsert(session: Session, snap: TicketSnapshot) -> Ticket:
    """Make the stored ticket equal to the snapshot (creating it if needed)."""
    if session.get(Department, snap.department) is None:
        raise UnknownDepartment(snap.department, session.scalars(select(Department.code)).all())
    ticket = session.get(Ticket, snap.id, with_for_update=True)
    if ticket is None:
        ticket = Ticket(id=snap.id)
        session.add(ticket)
    ticket.department_code = snap.department
    ticket.service_date = snap.service_date
    ticket.number = snap.number
    ticket.code = snap.code
    ticket.priority = snap.priority
    ticket.status = str(snap.status)
    ticket.origin = snap.origin
    ticket.issued_at = snap.issued_at
    ticket.queued_at = snap.queued_at
    ticket.called_at = snap.called_at
    ticket.last_called_at = snap.last_called_at
    ticket.finished_at = snap.finished_at
    ticket.room = snap.room
    ticket.call_count = snap.call_count
    ticket.transferred_from = snap.transferred_from
    ticket.cancel_reason = snap.cancel_reason
    return ticket
