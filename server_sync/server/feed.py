"""Event replication endpoints: kiosks push their events; everyone long-polls the feed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kiosk.queue.db import is_sqlite, read_session
from kiosk.queue.errors import QueueError
from kiosk.queue.events import EventType, event_to_dict
from kiosk.queue.models import Event
from kiosk.queue.replication import MAX_INT32, ApplyResult, apply_remote_event
from server_sync.server.deps import (
    AnyDevice,
    KioskDevice,
    ServerState,
    StateDep,
    invalid_field,
)
from server_sync.server.routes import AUTH_ERRORS
from server_sync.server.schemas import (
    DepartmentCode,
    EventIn,
    EventOut,
    EventsAnswer,
    PushAnswer,
    PushBody,
    Rejection,
)

log = logging.getLogger("kiosk.server")

MAX_WAIT_SECONDS = 60.0
MAX_PAGE = 1000
# A waiter looks again this often when no database notification can reach it (another
# process writing to the same SQLite file, or the PostgreSQL listener reconnecting).
RECHECK_SQLITE_SECONDS = 5.0
RECHECK_UNLISTENED_SECONDS = 1.0

router = APIRouter(prefix="/api/v1", tags=["sync"])


@dataclass(frozen=True)
class FeedPage:
    events: list[EventOut]
    cursor: int


def read_feed(engine: Engine, after: int, department: str | None, limit: int) -> FeedPage:
    """Events after `after`, in feed order, and the cursor to continue from.

    Feed positions come from a locked counter row in the writing transaction, so they become
    visible in order: everything at or below the highest position seen is already committed.
    """
    with read_session(engine) as session:
        high = session.scalar(select(func.max(Event.position))) or 0
        query = select(Event).where(Event.position > after, Event.position <= high)
        if department is not None:
            # A transfer out of another department brings a ticket into this one.
            query = query.where(
                or_(Event.department_code == department, Event.type == EventType.TRANSFERRED)
            )
        rows = session.scalars(query.order_by(Event.position).limit(limit)).all()
        events = [EventOut.model_validate(event_to_dict(e)) for e in rows]
        cursor = rows[-1].position if len(rows) == limit else max(high, after)
        return FeedPage(events, cursor)


@router.get("/events", response_model=EventsAnswer, responses=AUTH_ERRORS)
async def events(
    state: StateDep,
    caller: AnyDevice,
    after: Annotated[
        int, Query(ge=0, le=MAX_INT32, description="the cursor of the last answer")
    ] = 0,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_SECONDS, description="seconds to wait for news")
    ] = 0.0,
    department: Annotated[DepartmentCode | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
) -> EventsAnswer:
    """Long-poll the feed: answers as soon as an event newer than `after` is committed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    cursor = after
    while True:
        token = state.notifier.current()  # before reading: no notification slips between
        page = await run_in_threadpool(read_feed, state.engine, cursor, department, limit)
        cursor = page.cursor
        remaining = deadline - loop.time()
        if page.events or remaining <= 0:
            return EventsAnswer(events=page.events, cursor=cursor)
        if is_sqlite(state.engine):
            remaining = min(remaining, RECHECK_SQLITE_SECONDS)
        elif not state.notifier.listening_to_database:
            remaining = min(remaining, RECHECK_UNLISTENED_SECONDS)
        await state.notifier.wait(token, remaining)


@router.post(
    "/sync/events",
    response_model=PushAnswer,
    responses=AUTH_ERRORS,
)
def push_events(state: StateDep, caller: KioskDevice, body: PushBody) -> PushAnswer:
    """Apply a kiosk's events in `seq` order; each is accepted, a duplicate, or rejected."""
    if body.origin == state.origin:
        raise invalid_field(
            "body", "origin", "origin", "this is the server's own origin", body.origin
        )
    answer = PushAnswer(accepted=[], duplicates=[], rejected=[])
    with Session(state.engine, expire_on_commit=False) as session, session.begin():
        for event in sorted(body.events, key=lambda e: e.seq):
            if event.origin != body.origin:
                answer.rejected.append(
                    Rejection(
                        id=event.id,
                        code="origin",
                        reason=f"event origin {event.origin!r} is not the batch's {body.origin!r}",
                    )
                )
                continue
            try:
                result = _apply(session, state, event)
            except QueueError as exc:
                log.warning("rejected event %s from %s: %s", event.id, body.origin, exc)
                answer.rejected.append(Rejection(id=event.id, code=exc.code, reason=str(exc)))
                continue
            (answer.accepted if result == "accepted" else answer.duplicates).append(event.id)
    if answer.accepted:
        state.notifier.notify()
        log.info(
            "%s pushed %d events (%d new, %d duplicates, %d rejected)",
            body.origin,
            len(body.events),
            len(answer.accepted),
            len(answer.duplicates),
            len(answer.rejected),
        )
    return answer


def _apply(session: Session, state: ServerState, event: EventIn) -> ApplyResult:
    wire = event.model_dump()
    for attempt in range(2):
        try:
            with session.begin_nested():
                return apply_remote_event(session, wire, state.now())
        except IntegrityError:
            # Another request committed the same event or number meanwhile; the second
            # attempt sees it and answers "duplicate" or names the conflict.
            if attempt:
                raise QueueError(
                    f"event {event.id} conflicts with one stored at the same moment"
                ) from None
    raise AssertionError("unreachable")
