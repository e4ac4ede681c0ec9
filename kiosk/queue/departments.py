"""Pausing a department for the whole hospital (the operations console), as an event.

The server records `department.paused` with `{"paused": bool, "reason": str, "by": str}`; every
kiosk applies it from the feed, so the department is greyed out on all of them. A kiosk's own
pause (its admin panel) is a separate flag that never leaves the kiosk.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.queue.errors import QueueError, UnknownDepartment
from kiosk.queue.events import EventType, append_event
from kiosk.queue.models import Department

MAX_REASON = 200


def pause_department(
    session: Session,
    *,
    origin: str,
    code: str,
    paused: bool,
    reason: str,
    by: str,
    now: dt.datetime,
) -> None:
    """Pause or resume `code` for every kiosk, in the caller's transaction, with its event."""
    department = session.get(Department, code, with_for_update=True)
    if department is None:
        raise UnknownDepartment(code, session.scalars(select(Department.code)).all())
    reason = _clean(" ".join(reason.split())) if paused else ""
    department.hospital_paused = paused
    department.hospital_pause_reason = reason
    append_event(
        session,
        origin=origin,
        type=EventType.DEPARTMENT_PAUSED,
        now=now,
        department_code=code,
        data={"paused": paused, "reason": reason, "by": by},
    )


def apply_department_paused(session: Session, code: str | None, data: dict[str, Any]) -> None:
    """A `department.paused` event from the server's feed, applied to this database."""
    paused = data.get("paused")
    reason = data.get("reason", "")
    if code is None or not isinstance(paused, bool) or not isinstance(reason, str):
        raise QueueError("a department.paused event needs a department and a boolean paused")
    department = session.get(Department, code)
    if department is None:
        raise UnknownDepartment(code, session.scalars(select(Department.code)).all())
    department.hospital_paused = paused
    department.hospital_pause_reason = _clean(reason)


def _clean(text: str) -> str:
    """Printable characters only (no control or bidi overrides), bounded."""
    return "".join(c for c in text if c.isprintable())[:MAX_REASON]
