"""The wire models: a department, a ticket and a department's queue as they travel over HTTP.

One set, used by the server's routes to answer (`server_sync/server/schemas.py` builds its
answers on them, so `/openapi.json` shows them) and by every client to read
(`server_sync/staff.py`) with `model_validate`. Pydantic only: no FastAPI, no SQLAlchemy, no
Qt, so the engine, the server, the clients and the screens can all import it (contract
`wire` in pyproject.toml).

Clients read tolerantly: a field they do not know is ignored, and `read_items` skips (with a
log line) one item of a list that cannot be read instead of failing the whole answer, so one
odd ticket or event can never stop a counter or a board.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, ValidationError

log = logging.getLogger(__name__)


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"


def format_timestamp(value: dt.datetime) -> str:
    """`2026-11-28T01:02:03.456Z`: UTC with milliseconds, as the API and events carry it."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _aware_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a timestamp without a time zone")
    return value.astimezone(dt.UTC)


# An aware moment, read from any ISO 8601 form and written as `format_timestamp` writes it.
Timestamp = Annotated[
    dt.datetime,
    AfterValidator(_aware_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json-unless-none"),
]


class WireModel(BaseModel):
    """Frozen; unknown fields are ignored (a newer server may send more)."""

    # defer_build: a model's validator is built when it first reads something, not when this
    # module is imported (the kiosk's first screen makes its departments with model_construct
    # and builds none).
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    @classmethod
    def read(cls, data: Any) -> Self:
        """A client's reading of one item of an answer (raises ValidationError)."""
        return cls.model_validate(data)


class Ticket(WireModel):
    """A ticket; never any personal data (the queue has none)."""

    id: str
    department: str
    number: int | None = None
    code: str
    service_date: dt.date
    priority: str | None = None
    status: TicketStatus
    origin: str = ""
    issued_at: Timestamp
    queued_at: Timestamp
    called_at: Timestamp | None = None
    last_called_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    room: str | None = None
    call_count: int = 0
    transferred_from: str | None = None
    cancel_reason: str | None = None

    @property
    def recalls(self) -> int:
        """How many times it was called again after the first call."""
        return max(0, self.call_count - 1)


class Department(WireModel):
    """A department with today's counts, as the kiosk, the counters and the boards show it."""

    code: str
    name_vi: str
    name_en: str
    prefix: str
    color: str
    rooms: list[str]
    directions_vi: str = ""
    directions_en: str = ""
    daily_capacity: int | None = None
    issued_today: int = 0
    waiting: int = 0
    serving: int = 0
    estimated_wait_minutes: int = 0
    unavailable: Literal["inactive", "paused", "full"] | None = Field(
        None, description="why tickets cannot be issued now; null when they can"
    )
    hospital_paused: bool = Field(
        False, description="paused for every kiosk from the hospital's operations console"
    )
    pause_reason: str = Field(
        "", description="the reason the console gave for that pause (kiosks show it); or empty"
    )
    paused_here: bool = Field(
        False, description="paused in this kiosk's own admin panel (a kiosk's local answer)"
    )
    room_names_vi: dict[str, str] = Field(
        default_factory=dict, description="room code -> its name, for boards and counters"
    )
    room_names_en: dict[str, str] = Field(default_factory=dict)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_vi

    def room_name(self, room: str, language: str) -> str:
        names = self.room_names_en if language == "en" else self.room_names_vi
        return names.get(room, room)


class Queue(WireModel):
    """One department's queue: who waits (call order) and who was called (newest first)."""

    department: str
    waiting: list[Ticket] = Field(description="in call order")
    called: list[Ticket] = Field(description="most recent call first")
    today: dict[str, int] = Field(
        default_factory=dict,
        description="today's tickets of the department by status, and `issued`",
    )
    cursor: int = Field(
        0, description="the event feed's position before this snapshot: long-poll from here"
    )

    @classmethod
    def read(cls, data: Any) -> Self:
        """A client's reading: a ticket that cannot be read is skipped, not the whole queue."""
        department = str(data.get("department", ""))
        return cls.model_validate(
            {
                **data,
                "waiting": read_items(Ticket, data.get("waiting"), f"{department} waiting"),
                "called": read_items(Ticket, data.get("called"), f"{department} called"),
            }
        )


class FeedEvent(WireModel):
    """What a staff screen needs of one event of the feed: its kind and the ticket it moved."""

    position: int | None = None
    type: str
    department: str | None = None
    ticket: Ticket | None = None

    @classmethod
    def read(cls, data: Any) -> Self:
        snapshot = (data.get("data") or {}).get("ticket")
        return cls.model_validate(
            {
                "position": data.get("position"),
                "type": data.get("type"),
                "department": data.get("department"),
                "ticket": snapshot,
            }
        )


Model = TypeVar("Model", bound=WireModel)


def read_items(model: type[Model], items: Any, what: str) -> list[Model]:
    """Each item that `model` can read; each that it cannot is skipped with a warning."""
    if not isinstance(items, Iterable) or isinstance(items, str | bytes | Mapping):
        if items is not None:
            log.warning("skipped %s: not a list (%s)", what, type(items).__name__)
        return []
    read: list[Model] = []
    for item in items:
        try:
            read.append(model.read(item))
        except (ValidationError, TypeError, AttributeError) as exc:
            log.warning("skipped one of %s that cannot be read: %s", what, _short(exc))
    return read


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "item"
        return f"{where}: {first['msg']} ({exc.error_count()} errors)"
    return str(exc)
