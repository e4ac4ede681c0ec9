"""The live monitor: every department's queue now, one department's waiting list, and the
supervisor's actions on it (cancel, transfer, requeue, pause for every kiosk)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kiosk.queue.db import read_session
from kiosk.queue.departments import pause_department
from kiosk.queue.errors import QueueError
from kiosk.queue.models import Department, Event, Room, Ticket, TicketStatus
from kiosk.queue.service import TicketInfo
from kiosk.queue.stats import microseconds_between
from server_sync.server.admin.accounts import Staff, audit
from server_sync.server.admin.i18n import translator
from server_sync.server.admin.web import (
    ConsoleRoute,
    FormDep,
    Supervisor,
    client_address,
    render,
    templates,
)
from server_sync.server.deps import ServerState, StateDep

router = APIRouter(prefix="/admin", route_class=ConsoleRoute, include_in_schema=False)

MAX_WAIT_SECONDS = 30.0
# A waiter looks at the database this often too (writes by another process on SQLite, or a
# PostgreSQL listener that is reconnecting); otherwise the feed's notifier wakes it.
RECHECK_SECONDS = 2.0
S = TicketStatus
CodePath = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_]+$")]
TicketPath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@dataclass
class DepartmentLine:
    code: str
    name_vi: str
    name_en: str
    color: str
    waiting: int = 0
    called: int = 0
    served: int = 0
    absent: int = 0
    longest_wait_minutes: int | None = None
    average_wait_minutes: float | None = None
    rooms_active: int = 0
    rooms_total: int = 0
    hospital_paused: bool = False
    pause_reason: str = ""
    paused_at_kiosks: list[str] = field(default_factory=list)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_vi


def department_lines(
    engine: Engine, today: dt.date, now: dt.datetime, kiosk_pauses: dict[str, list[str]]
) -> list[DepartmentLine]:
    """Every active department's figures for today, in display order (a few grouped queries)."""
    with read_session(engine) as session:
        lines: dict[str, DepartmentLine] = {}
        room_counts = dict(
            session.execute(
                select(Room.department_code, func.count())
                .where(Room.active.is_(True))
                .group_by(Room.department_code)
            ).all()
        )
        for department in session.scalars(
            select(Department)
            .where(Department.active.is_(True))
            .order_by(Department.sort_order, Department.code)
        ):
            lines[department.code] = DepartmentLine(
                code=department.code,
                name_vi=department.name_vi,
                name_en=department.name_en,
                color=department.color,
                rooms_total=int(room_counts.get(department.code, 0)),
                hospital_paused=department.hospital_paused,
                pause_reason=department.hospital_pause_reason,
                paused_at_kiosks=sorted(kiosk_pauses.get(department.code, [])),
            )
        # One grouped read of today's tickets: per department and status, how many, the
        # oldest place in line, the sum and count of waits so far (exact microseconds, added
        # up by the database) and the rooms calling.
        wait = microseconds_between(engine.dialect.name, Ticket.queued_at, Ticket.called_at)
        wait_so_far = case((wait >= 0, wait))
        waits: dict[str, tuple[int, int]] = {}
        for code, status, count, oldest, wait_sum, wait_count, rooms in session.execute(
            select(
                Ticket.department_code,
                Ticket.status,
                func.count(),
                func.min(Ticket.queued_at),
                func.sum(wait_so_far),
                func.count(wait_so_far),
                func.count(func.distinct(Ticket.room)),
            )
            # Naming the departments lets the (department, day) index find today's tickets
            # without reading the table's history.
            .where(Ticket.department_code.in_(list(lines)), Ticket.service_date == today)
            .group_by(Ticket.department_code, Ticket.status)
        ):
            line = lines.get(code)
            if line is None:
                continue
            if wait_count:
                total, counted = waits.get(code, (0, 0))
                waits[code] = (total + int(wait_sum), counted + wait_count)
            if status == S.WAITING:
                line.waiting = count
                if oldest is not None:
                    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
                    line.longest_wait_minutes = max(0, int((now - oldest).total_seconds() // 60))
            elif status == S.CALLED:
                line.called = count
                line.rooms_active = rooms
            elif status == S.SERVED:
                line.served = count
            elif status == S.NO_SHOW:
                line.absent = count
        for code, (total, counted) in waits.items():
            lines[code].average_wait_minutes = round(total / counted / 60_000_000, 1)
        return list(lines.values())


SHOWN_WAITING = 150


@dataclass(frozen=True)
class QueueRow:
    id: str
    code: str
    priority: str | None
    status: str
    room: str | None
    queued_at: dt.datetime
    last_called_at: dt.datetime | None


@dataclass
class QueueView:
    waiting: list[QueueRow]
    waiting_total: int
    called: list[QueueRow]


_ROW = (
    Ticket.id,
    Ticket.code,
    Ticket.priority,
    Ticket.status,
    Ticket.room,
    Ticket.queued_at,
    Ticket.last_called_at,
)


def queue_of(engine: Engine, code: str, today: dt.date, called_limit: int = 10) -> QueueView:
    """The first of one department's line in call order (priority first, then place in line),
    how many wait in all, and the latest calls: a few columns, however long the line."""
    with read_session(engine) as session:
        waiting_now = (
            Ticket.department_code == code,
            Ticket.service_date == today,
            Ticket.status == S.WAITING,
        )
        waiting = [
            QueueRow(*row)
            for row in session.execute(
                select(*_ROW)
                .where(*waiting_now)
                .order_by(
                    Ticket.priority.is_(None),
                    Ticket.queued_at,
                    func.coalesce(Ticket.number, 0),
                    Ticket.id,
                )
                .limit(SHOWN_WAITING)
            )
        ]
        total = session.scalar(select(func.count()).where(*waiting_now)) or 0
        called = [
            QueueRow(*row)
            for row in session.execute(
                select(*_ROW)
                .where(
                    Ticket.department_code == code,
                    Ticket.service_date == today,
                    Ticket.last_called_at.is_not(None),
                    Ticket.status != S.TRANSFERRED,
                )
                .order_by(Ticket.last_called_at.desc())
                .limit(called_limit)
            )
        ]
        return QueueView(waiting, int(total), called)


def absent_today(engine: Engine, code: str, today: dt.date) -> list[TicketInfo]:
    with read_session(engine) as session:
        rows = session.scalars(
            select(Ticket)
            .where(
                Ticket.department_code == code,
                Ticket.service_date == today,
                Ticket.status == S.NO_SHOW,
            )
            .order_by(Ticket.finished_at.desc())
            .limit(50)
        )
        return [TicketInfo.of(t) for t in rows]


def feed_position(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.max(Event.position))) or 0)


def kiosk_pauses(engine: Engine) -> dict[str, list[str]]:
    """Department -> kiosks that paused it in their own admin panel (from device.status)."""
    from server_sync.server.admin.fleet import latest_statuses

    paused: dict[str, list[str]] = {}
    for origin, status in latest_statuses(engine).items():
        for code in status.data.get("paused_departments", []) or []:
            if isinstance(code, str):
                paused.setdefault(code, []).append(origin)
    return paused


@dataclass
class MonitorView:
    cursor: int
    lines: list[DepartmentLine]
    selected: str | None
    queue: QueueView | None
    absent: list[TicketInfo]
    now: dt.datetime

    def minutes_since(self, moment: dt.datetime) -> int:
        return max(0, int((self.now - moment).total_seconds() // 60))


def monitor_view(state: ServerState, selected: str | None) -> MonitorView:
    cursor = feed_position(state.engine)
    now = state.now()
    today = state.service.service_date(now)
    lines = department_lines(state.engine, today, now, kiosk_pauses(state.engine))
    codes = [line.code for line in lines]
    if selected not in codes:
        selected = codes[0] if codes else None
    queue = queue_of(state.engine, selected, today) if selected else None
    absent = absent_today(state.engine, selected, today) if selected else []
    return MonitorView(cursor, lines, selected, queue, absent, now)


def _fragments(request: Request, staff: Staff, view: MonitorView) -> dict[str, str]:
    from server_sync.server.admin.web import language

    lang = language(request)
    context: dict[str, Any] = {"t": translator(lang), "lang": lang, "staff": staff, "view": view}
    return {
        "summary": templates.get_template("monitor_summary.html").render(**context),
        "queue": templates.get_template("monitor_queue.html").render(**context),
    }


@router.get("/monitor")
def monitor_page(
    request: Request,
    state: StateDep,
    staff: Supervisor,
    department: Annotated[str | None, Query(max_length=16)] = None,
    done: Annotated[str | None, Query(max_length=32)] = None,
    failed: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    view = monitor_view(state, department)
    return render(
        request,
        "monitor.html",
        staff=staff,
        view=view,
        fragments=_fragments(request, staff, view),
        done=done,
        failed=failed,
    )


@router.get("/monitor/live")
async def monitor_live(
    request: Request,
    state: StateDep,
    staff: Supervisor,
    after: Annotated[int, Query(ge=0)] = 0,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 0.0,
    department: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Long-poll: answers when the feed moves past `after` (or after `wait` seconds, so the
    waiting times stay current), with the monitor's two parts rendered again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        token = state.notifier.current()
        position = await run_in_threadpool(feed_position, state.engine)
        remaining = deadline - loop.time()
        if position != after or remaining <= 0 or await request.is_disconnected():
            break
        await state.notifier.wait(token, min(remaining, RECHECK_SECONDS))
    view = await run_in_threadpool(monitor_view, state, department)
    body = {"cursor": view.cursor, **_fragments(request, staff, view)}
    return JSONResponse(body)


def _back(code: str | None, **flash: str) -> Response:
    from urllib.parse import urlencode

    query = urlencode({k: v for k, v in {"department": code, **flash}.items() if v})
    return RedirectResponse(f"/admin/monitor?{query}", status_code=303)


def _record(
    state: ServerState,
    staff: Staff,
    request: Request,
    action: str,
    target: str,
    detail: dict[str, Any],
) -> None:
    with Session(state.engine) as session, session.begin():
        audit(session, state.now(), staff.name, action, target, detail, client_address(request))


async def _ticket_action(
    request: Request,
    state: StateDep,
    staff: Staff,
    ticket_id: str,
    action: str,
    form: dict[str, str],
) -> Response:
    code = form.get("department_view") or None
    try:
        before = await run_in_threadpool(state.service.get, ticket_id)
        if action == "cancel":
            after = await run_in_threadpool(state.service.cancel, ticket_id, "console")
        elif action == "requeue":
            after = await run_in_threadpool(state.service.requeue, ticket_id)
        else:
            target = form.get("to", "")
            after = await run_in_threadpool(state.service.transfer, ticket_id, target)
    except QueueError as exc:
        return _back(code, failed=str(exc)[:300])
    state.notifier.notify()
    detail = {"department": before.department, "from": before.status, "to": after.status}
    if action == "transfer":
        detail["to_department"] = after.department
    await run_in_threadpool(_record, state, staff, request, f"ticket.{action}", before.code, detail)
    return _back(code or before.department, done=action)


@router.post("/tickets/{ticket_id}/cancel")
async def cancel_ticket(
    request: Request, state: StateDep, staff: Supervisor, form: FormDep, ticket_id: TicketPath
) -> Response:
    return await _ticket_action(request, state, staff, ticket_id, "cancel", form)


@router.post("/tickets/{ticket_id}/requeue")
async def requeue_ticket(
    request: Request, state: StateDep, staff: Supervisor, form: FormDep, ticket_id: TicketPath
) -> Response:
    return await _ticket_action(request, state, staff, ticket_id, "requeue", form)


@router.post("/tickets/{ticket_id}/transfer")
async def transfer_ticket(
    request: Request, state: StateDep, staff: Supervisor, form: FormDep, ticket_id: TicketPath
) -> Response:
    return await _ticket_action(request, state, staff, ticket_id, "transfer", form)


def _set_pause(
    state: ServerState, staff: Staff, request: Request, code: str, paused: bool, reason: str
) -> None:
    """The pause, its event and its audit line: one transaction."""
    with state.service.transaction() as session:
        now = state.now()
        pause_department(
            session,
            origin=state.origin,
            code=code,
            paused=paused,
            reason=reason,
            by=staff.name,
            now=now,
        )
        audit(
            session,
            now,
            staff.name,
            "department.pause" if paused else "department.resume",
            code,
            {"reason": reason} if paused else {},
            client_address(request),
        )


@router.post("/departments/{code}/pause")
async def pause(
    request: Request, state: StateDep, staff: Supervisor, form: FormDep, code: CodePath
) -> Response:
    return await _pause_or_resume(request, state, staff, code, True, form.get("reason", ""))


@router.post("/departments/{code}/resume")
async def resume(
    request: Request, state: StateDep, staff: Supervisor, form: FormDep, code: CodePath
) -> Response:
    return await _pause_or_resume(request, state, staff, code, False, "")


async def _pause_or_resume(
    request: Request, state: ServerState, staff: Staff, code: str, paused: bool, reason: str
) -> Response:
    try:
        await run_in_threadpool(_set_pause, state, staff, request, code, paused, reason)
    except QueueError as exc:
        return _back(code, failed=str(exc)[:300])
    state.notifier.notify()
    return _back(code, done="pause" if paused else "resume")
