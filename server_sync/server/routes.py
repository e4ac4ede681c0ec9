"""The JSON API under /api/v1: departments, tickets, counter actions, devices."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kiosk.queue.errors import UnknownDepartment, UnknownRoom
from kiosk.queue.models import DeviceRole
from kiosk.queue.service import TicketInfo
from server_sync.server.deps import (
    AdminDevice,
    AnyDevice,
    ApiError,
    Caller,
    CounterDevice,
    ServerState,
    StateDep,
    allowed_roles,
    invalid_field,
    known_caller,
    note_visit,
    server_version,
)
from server_sync.server.devices import list_devices
from server_sync.server.guards import RETRY_AFTER_SECONDS
from server_sync.server.responses import AUTH_ERRORS, CONFLICT, NOT_FOUND, TOO_LARGE
from server_sync.server.schemas import (
    CallBody,
    CallNextAnswer,
    CallNextBody,
    CancelBody,
    DepartmentList,
    DeviceList,
    DeviceOut,
    Health,
    PublicTicket,
    QueueOut,
    TicketOut,
    TransferBody,
    department_out,
    queue_out,
    ticket_out,
)

DepartmentPath = Annotated[
    str, Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_]+$", examples=["NOI"])
]
TicketPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]

router = APIRouter(prefix="/api/v1")


@router.get("/health", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
async def health(state: StateDep) -> Health:
    if not await state.database_probe.check():
        raise ApiError(
            503,
            "database_unavailable",
            "database unreachable",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return Health(status="ok", version=server_version(), database=state.engine.dialect.name)


@router.get("/departments", response_model=DepartmentList, responses=AUTH_ERRORS, tags=["queue"])
def departments(state: StateDep, caller: AnyDevice) -> DepartmentList:
    return DepartmentList(departments=[department_out(d) for d in state.service.departments()])


@router.get(
    "/departments/{code}/queue",
    response_model=QueueOut,
    responses={**AUTH_ERRORS, **NOT_FOUND},
    tags=["queue"],
)
def department_queue(state: StateDep, caller: AnyDevice, code: DepartmentPath) -> QueueOut:
    # The feed position first: every change after it is in the feed, so a screen that
    # long-polls from here misses nothing (it may see a change twice; applying is idempotent).
    cursor = state.service.feed_position()
    snapshot = state.service.snapshot(code)
    return queue_out(snapshot, state.service.today_counts(snapshot.department), cursor)


async def call_next(
    state: StateDep, caller: CounterDevice, code: DepartmentPath, body: CallNextBody
) -> Response:
    """The busiest write. On PostgreSQL its one statement is awaited here, on the event loop,
    on a connection of call-next's own psycopg pool (`pgpool`): no hop to a worker thread and
    back. On SQLite it runs in a worker thread, as a plain `def` endpoint would. The wake-up
    of the feed's readers and the answer are made here on the event loop, the answer
    serialised once by its model (FastAPI would validate the returned model again and
    serialise it through `response_model`, which still documents it).

    A well-formed call from a counter whose token this process already knows skips FastAPI's
    dependency solving (`CallNextRoute`); every other request goes through it."""
    try:
        pool = state.call_pool
        if pool is not None:
            ticket, new = await state.service.call_next_in_room_async(
                pool, code, body.room, body.request_id
            )
        else:
            ticket, new = await run_in_threadpool(
                state.service.call_next_in_room, code, body.room, body.request_id
            )
    except UnknownRoom as exc:
        raise invalid_field("body", "room", exc.code, str(exc), body.room) from None
    if ticket is not None and new:
        state.notifier.notify()
        if state.call_announcer is not None:
            # Its session sent no NOTIFY from the trigger (pgpool): the other processes hear now.
            state.call_announcer.announce()
    answer = CallNextAnswer(ticket=None if ticket is None else ticket_out(ticket))
    return Response(answer.model_dump_json(by_alias=True), media_type="application/json")


_DEPARTMENT_CODE = re.compile(r"[A-Za-z0-9_]{1,16}")
_JSON = "application/json"


class CallNextRoute(APIRoute):
    """Call-next's route: FastAPI declares it (validation, the 401/403/422 answers,
    `/openapi.json`), and a request that is plainly well-formed skips FastAPI's generic
    dependency solving, about an eighth of a call-next's CPU (py-spy; README).

    The short way is taken only when everything the generic way would check is already
    known to pass: a `Bearer` token this process has looked up (`ServerState.cached_caller`,
    cleared at once in every process when a device changes) of a device allowed to call,
    a department code of the path's pattern, a body sent as `application/json` that is a
    valid `CallNextBody`. Anything else (no or unknown token, another role, another content
    type, a body or code that does not validate) goes the generic way, so every refusal is
    FastAPI's own answer. Both ways run the same endpoint function."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        generic = super().get_route_handler()

        async def handler(request: Request) -> Response:
            shortcut = await _call_next_shortcut(request)
            if shortcut is None:
                return await generic(request)
            return await call_next(*shortcut)

        return handler


_COUNTER_ROLES = allowed_roles(DeviceRole.COUNTER)


async def _call_next_shortcut(
    request: Request,
) -> tuple[ServerState, Caller, str, CallNextBody] | None:
    """The endpoint's arguments when the request needs none of FastAPI's checks, else None."""
    state: ServerState = request.app.state.kiosk
    caller = known_caller(state, request.headers.get("authorization"))
    if caller is None or caller.role not in _COUNTER_ROLES:
        return None
    code = request.path_params.get("code")
    if not isinstance(code, str) or _DEPARTMENT_CODE.fullmatch(code) is None:
        return None
    if request.headers.get("content-type") != _JSON:
        return None
    try:
        body = CallNextBody.model_validate(json.loads(await request.body()))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError included
        return None
    await note_visit(state, caller)
    return state, caller, code, body


router.add_api_route(
    "/departments/{code}/call-next",
    call_next,
    methods=["POST"],
    response_model=CallNextAnswer,
    responses={**AUTH_ERRORS, **NOT_FOUND, **TOO_LARGE},
    tags=["counter"],
    route_class_override=CallNextRoute,
)


def _check_room(state: StateDep, department: str, room: str) -> None:
    """A call names one of the department's rooms: otherwise 422 on `room`, with the list."""
    try:
        state.service.check_room(department, room)
    except UnknownRoom as exc:
        raise invalid_field("body", "room", exc.code, str(exc), room) from None


def _changed(state: StateDep, ticket: TicketInfo) -> TicketOut:
    state.notifier.notify()
    return ticket_out(ticket)


TICKET_ACTION = {
    "response_model": TicketOut,
    "responses": {**AUTH_ERRORS, **NOT_FOUND, **CONFLICT, **TOO_LARGE},
}


@router.post("/tickets/{ticket_id}/call", tags=["counter"], **TICKET_ACTION)  # type: ignore[arg-type]
def call(
    state: StateDep, caller: CounterDevice, ticket_id: TicketPath, body: CallBody
) -> TicketOut:
    _check_room(state, state.service.get(ticket_id).department, body.room)
    return _changed(state, state.service.call(ticket_id, body.room))


@router.post("/tickets/{ticket_id}/recall", tags=["counter"], **TICKET_ACTION)  # type: ignore[arg-type]
def recall(state: StateDep, caller: CounterDevice, ticket_id: TicketPath) -> TicketOut:
    return _changed(state, state.service.recall(ticket_id))


@router.post("/tickets/{ticket_id}/serve", tags=["counter"], **TICKET_ACTION)  # type: ignore[arg-type]
def serve(state: StateDep, caller: CounterDevice, ticket_id: TicketPath) -> TicketOut:
    return _changed(state, state.service.serve(ticket_id))


@router.post("/tickets/{ticket_id}/no-show", tags=["counter"], **TICKET_ACTION)  # type: ignore[arg-type]
def no_show(state: StateDep, caller: CounterDevice, ticket_id: TicketPath) -> TicketOut:
    return _changed(state, state.service.no_show(ticket_id))


@router.post("/tickets/{ticket_id}/requeue", tags=["counter"], **TICKET_ACTION)  # type: ignore[arg-type]
def requeue(state: StateDep, caller: CounterDevice, ticket_id: TicketPath) -> TicketOut:
    return _changed(state, state.service.requeue(ticket_id))


@router.post("/tickets/{ticket_id}/cancel", tags=["counter"], **TICKET_ACTION)  # type: ignore[arg-type]
def cancel(
    state: StateDep,
    caller: CounterDevice,
    ticket_id: TicketPath,
    body: Annotated[CancelBody | None, Body()] = None,
) -> TicketOut:
    reason = body.reason if body is not None else "cancelled"
    return _changed(state, state.service.cancel(ticket_id, reason))


@router.post(
    "/tickets/{ticket_id}/transfer",
    response_model=TicketOut,
    responses={**AUTH_ERRORS, **NOT_FOUND, **CONFLICT, **TOO_LARGE},
    tags=["counter"],
)
def transfer(
    state: StateDep, caller: CounterDevice, ticket_id: TicketPath, body: TransferBody
) -> TicketOut:
    state.service.get(ticket_id)  # an unknown ticket is a 404, before the body is judged
    try:
        moved = state.service.transfer(ticket_id, body.department)
    except UnknownDepartment as exc:
        raise invalid_field("body", "department", exc.code, str(exc), body.department) from None
    return _changed(state, moved)


@router.get(
    "/tickets/{ticket_id}", response_model=PublicTicket, responses=NOT_FOUND, tags=["public"]
)
def public_ticket(state: StateDep, ticket_id: TicketPath) -> PublicTicket:
    """Anyone holding the (unguessable) id: the patient's phone, through the QR code."""
    ticket = state.service.get(ticket_id)
    position = state.service.position(ticket_id)
    names = state.service.department_names(ticket.department)
    return PublicTicket.build(ticket, position, names, state.config.server_status_url(ticket.id))


@router.get("/devices", response_model=DeviceList, responses=AUTH_ERRORS, tags=["admin"])
def devices(state: StateDep, caller: AdminDevice) -> DeviceList:
    return DeviceList(
        devices=[
            DeviceOut(
                name=d.name,
                role=d.role,
                created_at=d.created_at,
                revoked_at=d.revoked_at,
                last_seen_at=d.last_seen_at,
            )
            for d in list_devices(state.engine)
        ]
    )
