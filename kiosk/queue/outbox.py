"""How far this kiosk's own events are from the server: one query for every reader.

The kiosk screen's admin panel (`kiosk/app/backend.py`) and `kiosk doctor` read the same
counts; the sync client pushes the events themselves (`kiosk/queue/events.py::outbox`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from kiosk.queue.models import Event


@dataclass(frozen=True)
class OutboxState:
    pending: int  # not yet accepted by the server, not rejected
    oldest_pending: dt.datetime | None  # when the oldest of those happened
    rejected: int  # refused by the server (they keep their reason)
    first_rejection: str | None  # one of the reasons, for staff
    last_synced_at: dt.datetime | None


def outbox_state(connection: Session | Connection, origin: str) -> OutboxState:
    """The counts of `origin`'s events, in one query."""
    pending = Event.synced_at.is_(None) & Event.rejected_reason.is_(None)
    rejected = Event.rejected_reason.is_not(None)
    row = connection.execute(
        select(
            func.count().filter(pending),
            func.min(Event.occurred_at).filter(pending),
            func.count().filter(rejected),
            func.min(Event.rejected_reason).filter(rejected),
            func.max(Event.synced_at),
        ).where(Event.origin == origin)
    ).one()
    return OutboxState(
        pending=int(row[0] or 0),
        oldest_pending=_moment(row[1]),
        rejected=int(row[2] or 0),
        first_rejection=row[3],
        last_synced_at=_moment(row[4]),
    )


def _moment(value: Any) -> dt.datetime | None:
    """An aggregate's timestamp (SQLite may hand back text), aware in UTC."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
