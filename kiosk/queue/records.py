"""The queue's plain records: a ticket as the outside world sees it, its place in line, the
issuing hold and the counters' names. Standard library only (no SQLAlchemy, no pydantic), so
that `kiosk issue` can issue without loading either (`kiosk/queue/sqlite_issuing.py`)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# How many of today's served tickets make the "recent" average service time.
RECENT_SERVED = 20
# Fewer measured services than this: trust the department's configured average instead.
MIN_MEASURED = 3
FEED_SEQUENCE = "feed"
HOLD_FLAG = "issuing_hold"


def format_timestamp(value: dt.datetime) -> str:
    """`2026-11-28T01:02:03.456Z`: UTC with milliseconds, as events carry it."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(dt.UTC)


def number_counter(department: str, day: dt.date, offset: int) -> str:
    return f"number:{department}:{day.isoformat()}:{offset}"


def seq_counter(origin: str) -> str:
    return f"seq:{origin}"


@dataclass(frozen=True)
class Hold:
    """Issuing waits for the server's high-water marks; `offset` is the numbering block the
    store was using (an operator who moves the kiosk to another block lifts the hold)."""

    reason: str
    offset: int
    since: dt.datetime


def hold_of(value: str, set_at: dt.datetime) -> Hold:
    """The hold that the flag's stored value and time say."""
    try:
        parsed = json.loads(value)
        return Hold(str(parsed["reason"]), int(parsed["offset"]), set_at)
    except (ValueError, KeyError, TypeError):
        return Hold("unreadable hold flag", 0, set_at)


@dataclass(frozen=True)
class TicketInfo:
    """A ticket as the outside world sees it (no ORM object leaves a transaction)."""

    id: str
    department: str
    number: int | None
    code: str
    service_date: dt.date
    priority: str | None
    status: str
    origin: str
    issued_at: dt.datetime
    queued_at: dt.datetime
    called_at: dt.datetime | None
    last_called_at: dt.datetime | None
    finished_at: dt.datetime | None
    room: str | None
    call_count: int
    transferred_from: str | None
    cancel_reason: str | None

    @classmethod
    def of(cls, ticket: Any) -> TicketInfo:
        """From a stored ticket (an ORM `Ticket`: not named here, so that issuing through
        sqlite3 alone loads no SQLAlchemy)."""
        return cls(
            id=ticket.id,
            department=ticket.department_code,
            number=ticket.number,
            code=ticket.code,
            service_date=ticket.service_date,
            priority=ticket.priority,
            status=ticket.status,
            origin=ticket.origin,
            issued_at=ticket.issued_at,
            queued_at=ticket.queued_at,
            called_at=ticket.called_at,
            last_called_at=ticket.last_called_at,
            finished_at=ticket.finished_at,
            room=ticket.room,
            call_count=ticket.call_count,
            transferred_from=ticket.transferred_from,
            cancel_reason=ticket.cancel_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, also the snapshot carried by every ticket event."""
        out: dict[str, Any] = {}
        # Field by field, not `asdict` (which deep-copies every value: they are immutable).
        for key in TICKET_FIELDS:
            value = getattr(self, key)
            if isinstance(value, dt.datetime):
                out[key] = format_timestamp(value)
            elif isinstance(value, dt.date):
                out[key] = value.isoformat()
            else:
                out[key] = value
        return out


@dataclass(frozen=True)
class Position:
    ahead: int
    estimated_wait_minutes: int


@dataclass(frozen=True)
class IssuedTicket:
    ticket: TicketInfo
    position: Position
    department_name_vi: str
    department_name_en: str
    directions_vi: str
    directions_en: str


TICKET_FIELDS = tuple(TicketInfo.__dataclass_fields__)


def unavailability(
    active: bool, paused: bool, capacity: int | None, issued: Callable[[], int]
) -> str | None:
    """Why a department issues no number now (`issued`: how many it gave today), or None."""
    if not active:
        return "inactive"
    if paused:
        return "paused"
    if capacity is not None and issued() >= capacity:
        return "full"
    return None


def mean_service_minutes(
    served: Iterable[tuple[dt.datetime | None, dt.datetime | None]], configured: float
) -> float:
    """The mean of measured services (last call to finish), unless fewer than MIN_MEASURED:
    then the configured average."""
    durations: list[float] = [
        (finished - called).total_seconds() / 60
        for called, finished in served
        if finished is not None and called is not None and finished >= called
    ]
    if len(durations) < MIN_MEASURED:
        return configured
    return sum(durations) / len(durations)


def estimate_minutes(ahead: int, average_minutes: float, rooms: int) -> int:
    if ahead <= 0:
        return 0
    # Rooms of a department work in parallel: the line moves that many times faster.
    return max(1, math.ceil(ahead * average_minutes / max(1, rooms)))


def call_order_key(ticket: Any) -> tuple[bool, dt.datetime, int, str]:
    """The call order of a ticket (a TicketInfo or a stored Ticket), as a sort key."""
    return order_key(ticket.priority, ticket.queued_at, ticket.number, ticket.id)


def order_key(
    priority: str | None, queued_at: dt.datetime, number: int | None, id_: str
) -> tuple[bool, dt.datetime, int, str]:
    # Priority first, then place in line; the number and id only break exact ties.
    return (priority is None, queued_at, number or 0, id_)


def place_of(
    ticket: TicketInfo,
    counts: Sequence[Sequence[Any]],
    tied: Callable[[], Iterable[tuple[Any, ...]]],
    rooms: Callable[[], int],
    configured_minutes: float,
) -> Position:
    """A waiting ticket's place in line and estimated wait, from the rows of the place query
    (`sqlite_issuing.PLACE_SQL`: the counts, then the latest service times, one a row);
    `tied`: the tickets queued at its very instant (read only when there are such), `rooms`:
    how many of its department's rooms are active."""
    earlier, priority_waiting, same_instant = counts[0][:3]
    ahead = (earlier or 0) + (0 if ticket.priority else priority_waiting or 0)
    if (same_instant or 0) > 1:
        # Exact ties in place are broken like the call order breaks them.
        mine = call_order_key(ticket)
        ahead += sum(1 for other in tied() if order_key(*other) < mine)
    if ahead <= 0:
        return Position(ahead, 0)
    served = [(row[3], row[4]) for row in counts]
    minutes = mean_service_minutes(served, configured_minutes)
    return Position(ahead, estimate_minutes(ahead, minutes, rooms()))
