"""Request and answer bodies of the HTTP API ; they make `/openapi.json` complete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.queue.events import EventType
from kiosk.queue.models import TicketStatus
from kiosk.queue.replication import MAX_INT32
from kiosk.queue.service import DepartmentStatus, Position, QueueSnapshot, TicketInfo

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


class TicketOut(BaseModel):
    """A ticket: `TicketInfo.to_dict()`; never any personal data (the queue has none)."""

    id: str
    department: str
    number: int | None
    code: str
    service_date: dt.date
    priority: str | None
    status: TicketStatus
    origin: str
    issued_at: str
    queued_at: str
    called_at: str | None
    last_called_at: str | None
    finished_at: str | None
    room: str | None
    call_count: int
    transferred_from: str | None
    cancel_reason: str | None

    @classmethod
    def of(cls, ticket: TicketInfo) -> TicketOut:
        return cls.model_validate(ticket.to_dict())


class PublicTicket(TicketOut):
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


class DepartmentOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    prefix: str
    color: str
    rooms: list[str]
    directions_vi: str
    directions_en: str
    daily_capacity: int | None
    issued_today: int
    waiting: int
    serving: int
    estimated_wait_minutes: int
    unavailable: Literal["inactive", "paused", "full"] | None
    room_names_vi: dict[str, str] = Field(
        default_factory=dict, description="room code -> its name, for boards and counters"
    )
    room_names_en: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(cls, status: DepartmentStatus) -> DepartmentOut:
        return cls.model_validate(status, from_attributes=True)


class DepartmentList(BaseModel):
    departments: list[DepartmentOut]


class QueueOut(BaseModel):
    department: str
    waiting: list[TicketOut] = Field(description="in call order")
    called: list[TicketOut] = Field(description="most recent call first")
    today: dict[str, int] = Field(
        default_factory=dict,
        description="today's tickets of the department by status, and `issued`",
    )
    cursor: int = Field(
        0, description="the event feed's position before this snapshot: long-poll from here"
    )

    @classmethod
    def of(
        cls, snapshot: QueueSnapshot, today: dict[str, int] | None = None, cursor: int = 0
    ) -> QueueOut:
        return cls(
            department=snapshot.department,
            waiting=[TicketOut.of(t) for t in snapshot.waiting],
            called=[TicketOut.of(t) for t in snapshot.called],
            today=today or {},
            cursor=cursor,
        )


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
    ticket: TicketOut | None = Field(description="null when nobody is waiting")


class EventIn(BaseModel):
    """An event in its wire form (DESIGN §5); its `data` is checked when it is applied."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")
    origin: Origin
    seq: int = Field(ge=1, le=MAX_INT32)
    type: str = Field(min_length=1, max_length=32, examples=[str(EventType.ISSUED)])
    occurred_at: str = Field(max_length=40, examples=["2026-11-28T01:02:03.456Z"])
    ticket_id: str | None = Field(None, max_length=36)
    department: str | None = Field(None, max_length=16)
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
    reason: str
    code: str


class PushAnswer(BaseModel):
    accepted: list[str]
    duplicates: list[str]
    rejected: list[Rejection]


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
