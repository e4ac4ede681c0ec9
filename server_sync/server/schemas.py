"""Request and answer bodies of the HTTP API ; they make `/openapi.json` complete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.queue.events import EventType
from kiosk.queue.replication import MAX_INT32
from kiosk.queue.service import DepartmentStatus, Position, QueueSnapshot, TicketInfo
from kiosk.wire import Department, Queue, Ticket

# Printable text that fits the database column (PostgreSQL refuses NUL bytes).
RoomCode = Annotated[
    str,
    Field(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["P101"]),
]
DepartmentCode = Annotated[
    str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_]+$", examples=["NOI"])
]
Origin = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", examples=["kiosk-hall-1"])
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorAnswer(BaseModel):
    detail: str
    code: str = Field(description="machine-readable kind, e.g. invalid_transition")


class Health(BaseModel):
    status: Literal["ok", "error"]
    version: str
    database: str = Field(description="the database backend: sqlite or postgresql")
    detail: str | None = None


# The department and the ticket travel as the wire models every client reads (kiosk/wire.py).
TicketOut = Ticket
DepartmentOut = Department
QueueOut = Queue


class PublicTicket(Ticket):
    """What the patient's phone sees (`GET /tickets/{id}`)."""

    department_name_vi: str
    department_name_en: str
    ahead: int = Field(description="people ahead in line while waiting, else 0")
    estimated_wait_minutes: int
    status_url: str

    @classmethod
    def build(
        cls, ticket: TicketInfo, position: Position, names: tuple[str, str], status_url: str
    ) -> PublicTicket:
        return cls.model_validate(
            {
                **ticket.to_dict(),
                "department_name_vi": names[0],
                "department_name_en": names[1],
                "ahead": position.ahead,
                "estimated_wait_minutes": position.estimated_wait_minutes,
                "status_url": status_url,
            }
        )


def ticket_out(ticket: TicketInfo) -> Ticket:
    return Ticket.model_validate(ticket, from_attributes=True)


def department_out(status: DepartmentStatus) -> Department:
    return status  # the engine's department status is the wire model


def queue_out(snapshot: QueueSnapshot, today: dict[str, int], cursor: int) -> Queue:
    return Queue(
        department=snapshot.department,
        waiting=[ticket_out(t) for t in snapshot.waiting],
        called=[ticket_out(t) for t in snapshot.called],
        today=today,
        cursor=cursor,
    )


class DepartmentList(BaseModel):
    departments: list[Department]


RequestId = Annotated[
    str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", examples=["c0ffee42"])
]


class CallNextBody(_Body):
    room: RoomCode
    request_id: RequestId | None = Field(
        None,
        description="idempotency key: a retry with the same id answers the ticket that id "
        "already called instead of calling another",
    )


class CallBody(_Body):
    room: RoomCode


class TransferBody(_Body):
    department: DepartmentCode


class CancelBody(_Body):
    reason: str = Field("cancelled", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")


class CallNextAnswer(BaseModel):
    ticket: Ticket | None = Field(description="null when nobody is waiting")


class EventIn(BaseModel):
    """An event in its wire form (DESIGN §5); its content is checked when it is applied."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=36, max_length=36, pattern=r"^[0-9a-f-]+$")
    origin: Origin
    seq: int = Field(ge=1, le=MAX_INT32)
    type: str = Field(min_length=1, max_length=32, examples=[str(EventType.ISSUED)])
    occurred_at: str = Field(max_length=40, examples=["2026-11-28T01:02:03.456Z"])
    ticket_id: str | None = Field(None, max_length=36, pattern=r"^[0-9a-f-]+$")
    department: str | None = Field(None, max_length=16, pattern=r"^[A-Za-z0-9_]+$")
    data: dict[str, Any] = Field(default_factory=dict)


class EventOut(BaseModel):
    id: str
    origin: str
    seq: int
    type: str
    occurred_at: str
    ticket_id: str | None
    department: str | None
    data: dict[str, Any]


class PushBody(_Body):
    origin: Origin
    events: list[EventIn] = Field(max_length=1000)


class Rejection(BaseModel):
    id: str
    seq: int
    reason: str
    code: str = Field(
        description="machine-readable: invalid_event, event_not_accepted, conflict, seq_taken, "
        "outside_block, duplicate_number, unknown_department, invalid_transition"
    )


class PushAnswer(BaseModel):
    accepted: list[str]
    duplicates: list[str]
    rejected: list[Rejection]
    expected_seq: int = Field(
        description="the seq the server expects next from this origin; a batch stops at a gap "
        "and the kiosk resends from here"
    )


class NumberMark(BaseModel):
    department: str
    service_date: dt.date
    number: int


class HighWaterAnswer(BaseModel):
    """What the server holds for the calling kiosk's origin."""

    origin: str
    last_seq: int = Field(description="the highest seq of this origin the server has judged")
    numbers: list[NumberMark] = Field(
        description="the highest ticket number per department and service date (recent days)"
    )


class EventsAnswer(BaseModel):
    events: list[EventOut]
    cursor: int = Field(description="pass as `after` next time")


class DeviceOut(BaseModel):
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_seen_at: dt.datetime | None


class DeviceList(BaseModel):
    devices: list[DeviceOut]
