"""Event replication endpoints: kiosks push their events; everyone long-polls the feed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kiosk.queue.db import HANDOVER, is_sqlite, read_session
from kiosk.queue.events import WIRE_COLUMNS, EventType, format_timestamp
from kiosk.queue.models import DeviceRole, Event
from kiosk.queue.replication import MAX_INT32, IngestRules, NumberBlock, high_water, ingest_batch
from server_sync.server.deps import AnyDevice, ApiError, KioskDevice, StateDep
from server_sync.server.responses import AUTH_ERRORS, TOO_LARGE
from server_sync.server.schemas import (
    DepartmentCode,
    EventsAnswer,
    HighWaterAnswer,
    NumberMark,
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
# High-water marks cover this many past days besides today (numbering restarts each day).
HIGH_WATER_DAYS = 2

# While a push is judged, the interpreter is handed from thread to thread at least this often
# (`push_events`).
INGEST_SWITCH_INTERVAL_S = 0.0005


class JsonInThreadRequest(Request):
    """A request whose JSON body is parsed in the thread pool, not on the event loop: a
    1,000-event push is ~0.5 MB, 10-13 ms of `json.loads` (more when a garbage collection
    lands in it), and every other request of the worker (call-next, the boards' long-polls)
    waited on the loop meanwhile. A body that is not JSON still answers 422 as FastAPI's own
    parse does (`JSONDecodeError`)."""

    _parsed: Any

    async def json(self) -> Any:
        if not hasattr(self, "_parsed"):
            self._parsed = await run_in_threadpool(json.loads, await self.body())
        return self._parsed


class JsonInThreadRoute(APIRoute):
    """FastAPI's route with `JsonInThreadRequest` (its documented way to change the request)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JsonInThreadRequest(request.scope, request.receive))

        return handle


router = APIRouter(prefix="/api/v1", tags=["sync"], route_class=JsonInThreadRoute)


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    cursor: int
    # Each event of `events` as the answer's JSON carries it (encoded once, when checked).
    encoded: list[str] = field(default_factory=list)


_FEED_COLUMNS = (*WIRE_COLUMNS, Event.position)


def read_feed(
    engine: Engine,
    after: int,
    department: str | None,
    limit: int,
    exclude_origin: str | None = None,
    types: frozenset[str] = frozenset(),
) -> FeedPage:
    """Events after `after`, in feed order, and the cursor to continue from.

    Feed positions are given in the last statement before each writer's commit, under the feed
    counter row (`events.store_event`), so they become visible in order: everything at or
    below the highest position seen is already committed. Read as plain rows (a page can hold
    a whole push). A kiosk's own events are left out of its feed (it has them; taking them
    back would undo a restore's safety). With `types`, only events of those types are read,
    and the cursor still moves past the others (a board needs the calls, not every issue).
    An event that cannot be encoded is skipped with an error in the log: whatever is stored,
    the feed answers.
    """
    with read_session(engine) as session:
        high = session.scalar(select(func.max(Event.position))) or 0
        query = select(*_FEED_COLUMNS).where(Event.position > after, Event.position <= high)
        if department is not None:
            # A transfer out of another department brings a ticket into this one.
            query = query.where(
                or_(Event.department_code == department, Event.type == EventType.TRANSFERRED)
            )
        if exclude_origin is not None:
            query = query.where(Event.origin != exclude_origin)
        if types:
            query = query.where(Event.type.in_(sorted(types)))
        rows = session.execute(query.order_by(Event.position).limit(limit)).all()
    events: list[dict[str, Any]] = []
    encoded: list[str] = []
    for id_, origin, seq, type_, occurred_at, ticket_id, department_code, data, position in rows:
        try:
            wire = {
                "id": id_,
                "origin": origin,
                "seq": seq,
                "type": type_,
                "occurred_at": format_timestamp(occurred_at),
                "ticket_id": ticket_id,
                "department": department_code,
                "data": data,
            }
            text = json.dumps(wire, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            text.encode("utf-8")
        except (TypeError, ValueError, UnicodeError, AttributeError) as exc:
            log.error(
                "feed: skipped stored event %s at position %s that cannot be sent: %s",
                id_,
                position,
                exc,
            )
            continue
        events.append(wire)
        encoded.append(text)
    cursor = int(rows[-1][-1] or 0) if len(rows) == limit else max(high, after)
    return FeedPage(events, cursor, encoded)


def _answer(page: FeedPage) -> Response:
    """`EventsAnswer` as JSON, from the events encoded when they were read: a page of a
    thousand events is not validated and encoded again on its way out."""
    body = '{"events":[' + ",".join(page.encoded) + '],"cursor":' + str(page.cursor) + "}"
    return Response(body.encode("utf-8"), media_type="application/json")


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
    types: Annotated[
        list[EventType] | None,
        Query(alias="type", description="only events of these types (repeat the parameter)"),
    ] = None,
) -> Response:
    """Long-poll the feed: answers as soon as an event newer than `after` is committed.

    A kiosk does not get its own events back. With `type`, only those events come, and a
    long-poll also answers (with no events, a moved cursor) when only others were committed:
    a board learns that the hall changed (its counts) without reading every issue."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    cursor = after
    own = caller.origin if caller.role == DeviceRole.KIOSK else None
    only = frozenset(str(t) for t in types or ())
    while True:
        token = state.notifier.current()  # before reading: no notification slips between
        page = await run_in_threadpool(
            read_feed, state.engine, cursor, department, limit, own, only
        )
        cursor = page.cursor
        remaining = deadline - loop.time()
        if page.events or remaining <= 0 or (only and cursor > after):
            return _answer(page)
        if is_sqlite(state.engine):
            remaining = min(remaining, RECHECK_SQLITE_SECONDS)
        elif not state.notifier.listening_to_database:
            remaining = min(remaining, RECHECK_UNLISTENED_SECONDS)
        await state.notifier.wait(token, remaining)


@router.post("/sync/events", response_model=PushAnswer, responses={**AUTH_ERRORS, **TOO_LARGE})
def push_events(state: StateDep, caller: KioskDevice, body: PushBody) -> PushAnswer:
    """Judge a kiosk's events in `seq` order: accepted, duplicates, or rejected with a code.

    A kiosk pushes only under its own origin (the one registered with its device); anything
    else is refused whole. The answer names the seq the server expects next."""
    origins = {body.origin} | {event.origin for event in body.events}
    if caller.origin is None or origins != {caller.origin}:
        others = ", ".join(sorted(origins - {caller.origin or ""}))
        raise ApiError(
            403,
            "origin_not_yours",
            f"device {caller.name} pushes only under its origin {caller.origin!r}, not {others}; "
            "set kiosk.id to the device's origin, or register this kiosk with its own device",
        )
    rules = IngestRules(
        timezone=state.config.hospital.tz,
        numbering_width=state.config.numbering.width,
        priority_reasons=frozenset(state.config.queue.priority_reasons),
        block=NumberBlock(caller.numbering_offset, caller.block_size),
        now=state.now(),
        server_origin=state.origin,
    )
    # Judging a 1,000-event push is about a second of Python in this request thread, and the
    # worker's event loop (call-next, the feed's long-polls) needs the interpreter between
    # every two of its socket waits: at Python's default switch interval it got it back after
    # up to 5 ms each time, and a call-next through the pushing worker took 200-370 ms during
    # the push against 35-130 ms beside it (bench_wrk). Handed over every 0.5 ms meanwhile.
    with HANDOVER.quick(INGEST_SWITCH_INTERVAL_S):
        wires = [event.model_dump() for event in body.events]
        for attempt in range(2):
            try:
                with Session(state.engine, expire_on_commit=False) as session, session.begin():
                    outcome = ingest_batch(session, body.origin, wires, rules)
                break
            except IntegrityError:
                # Two pushes of one origin creating its counter row at the same moment: the
                # second try finds it and waits its turn.
                if attempt:
                    raise
    if outcome.accepted or outcome.closed_late:
        state.notifier.notify()
    if outcome.accepted or outcome.rejected:
        log.info(
            "%s pushed %d events (%d new, %d duplicates, %d rejected); next seq %d",
            body.origin,
            len(body.events),
            len(outcome.accepted),
            len(outcome.duplicates),
            len(outcome.rejected),
            outcome.expected_seq,
        )
    return PushAnswer(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=[
            Rejection(id=r.id, seq=r.seq, code=r.code, reason=r.reason) for r in outcome.rejected
        ],
        expected_seq=outcome.expected_seq,
    )


@router.get("/sync/high-water", response_model=HighWaterAnswer, responses=AUTH_ERRORS)
def high_water_marks(state: StateDep, caller: KioskDevice) -> HighWaterAnswer:
    """What the server holds for this kiosk's origin: a restored or rebuilt kiosk moves its
    counters past these before it issues, so it never gives a number twice."""
    if caller.origin is None:
        raise ApiError(403, "origin_not_yours", f"device {caller.name} has no kiosk origin")
    since = state.service.service_date() - dt.timedelta(days=HIGH_WATER_DAYS)
    with read_session(state.engine) as session:
        marks = high_water(session, caller.origin, since)
    return HighWaterAnswer(
        origin=marks.origin,
        last_seq=marks.last_seq,
        numbers=[
            NumberMark(department=d, service_date=day, number=n)
            for (d, day), n in sorted(marks.numbers.items())
        ],
    )
