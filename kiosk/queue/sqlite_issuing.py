"""Issuing a ticket on a kiosk's SQLite store, through the standard library's `sqlite3` alone.

The one implementation of a patient's issue on SQLite: `QueueService.issue` runs it on its
engine's driver connection inside its own transaction (BEGIN IMMEDIATE with the patient first,
the patients' lane, the commit), and `kiosk issue` runs it without SQLAlchemy at all
(`issue_directly`: importing SQLAlchemy took most of the command's time). Its statements are
written here as SQL text with named parameters, and values are stored exactly as SQLAlchemy's
SQLite types store them (`test_issue_paths` compares every stored byte with the ORM's issue):
dates as ISO text, times as naive UTC text with microseconds, the event's payload as
`json.dumps` text.

Refusals raise the queue's own errors, in the order the ORM's issue checks them: an unknown
priority, an issuing hold of this numbering block, an unknown department, an unavailable one,
a numbering block used up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.queue.errors import (
    DatabaseError,
    DepartmentUnavailable,
    IssuingOnHold,
    QueueError,
    StorageFull,
    UnknownDepartment,
    UnknownPriority,
)
from kiosk.queue.quickread import HEAD_REVISION
from kiosk.queue.records import (
    FEED_SEQUENCE,
    HOLD_FLAG,
    RECENT_SERVED,
    TICKET_FIELDS,
    IssuedTicket,
    Position,
    TicketInfo,
    hold_of,
    number_counter,
    place_of,
    seq_counter,
    unavailability,
)
from kiosk.queue.writers import (
    SQLITE_BUSY_TIMEOUT_MS,
    begin_immediate,
    configure_connection,
    gate_of,
)
from kiosk.wire import TicketStatus

if TYPE_CHECKING:
    from kiosk.config import Config

# The service's log: a kiosk's issues are logged in one place, whichever way they ran.
log = logging.getLogger("kiosk.queue.service")

ISSUED_EVENT = "ticket.issued"
SQLITE_FULL_TEXT = "database or disk is full"

# One row whatever the department: the issuing hold flag, and the department (NULLs when
# unknown) with its state, today's numbered tickets (counted only under a daily capacity)
# and how many of its rooms are active.
FACTS_SQL = (
    "SELECT (SELECT value FROM local_flags WHERE name = :hold), "
    "(SELECT set_at FROM local_flags WHERE name = :hold), "
    "d.code, d.prefix, d.active, d.paused = 1 OR d.hospital_paused = 1, d.daily_capacity, "
    "CASE WHEN d.daily_capacity IS NOT NULL THEN (SELECT count(t.number) FROM tickets AS t "
    "WHERE t.department_code = d.code AND t.service_date = :day) ELSE 0 END, "
    "d.name_vi, d.name_en, d.directions_vi, d.directions_en, d.avg_service_minutes, "
    "(SELECT count(*) FROM rooms AS r WHERE r.department_code = d.code AND r.active = 1) "
    "FROM (SELECT 1) AS one LEFT OUTER JOIN departments AS d ON d.code = :code"
)
# The day's number, the origin's event seq and the event's feed position, in one statement.
BUMP_SQL = (
    "INSERT INTO sequences (name, last) VALUES (:numbers, :first), (:seqs, 1), (:feed, 1) "
    "ON CONFLICT (name) DO UPDATE SET last = sequences.last + 1 RETURNING name, last"
)
_TICKET_COLUMNS = tuple("department_code" if f == "department" else f for f in TICKET_FIELDS)
INSERT_TICKET_SQL = (
    f"INSERT INTO tickets ({', '.join(_TICKET_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _TICKET_COLUMNS)})"
)
INSERT_EVENT_SQL = (
    "INSERT INTO events (id, origin, seq, type, occurred_at, ticket_id, department_code, data, "
    "position, stored_at) VALUES (:id, :origin, :seq, :type, :occurred_at, :ticket_id, "
    ":department_code, :data, :position, :occurred_at)"
)
# A waiting ticket's place in line, counted in the database (the line can be hundreds long at
# 7 a.m.) in one statement: those of its group (priority or not) queued earlier, the priority
# tickets (ahead of everyone else), those queued at its very instant (itself among them); with
# them, one a row, the department's latest service times today (for the estimate). Parameters
# `department`, `day`, `served`, `queued_at`. Keyed by (the ticket's group, SQLite): the
# service's Session path runs it on PostgreSQL too, with typed parameters.
WAITING_LINE_INDEX = "ix_tickets_waiting_line"
_GROUP = {True: "t.priority IS NOT NULL", False: "t.priority IS NULL"}


def _in_line(sqlite: bool, columns: str, condition: str) -> str:
    """A read of a department's waiting line today from its partial index. SQLite's
    planner takes ix_tickets_queue instead, unless told, and reads every waiting ticket's row
    (at 10,000 waiting the place took 2.5-3.3 ms, and 0.7-1.3 ms so). 'waiting' is written
    out: a partial index serves only a statement whose WHERE implies its own."""
    indexed = f" INDEXED BY {WAITING_LINE_INDEX}" if sqlite else ""
    return (
        f"SELECT {columns} FROM tickets AS t{indexed} WHERE t.department_code = :department "
        f"AND t.service_date = :day AND t.status = 'waiting' AND {condition}"
    )


def _place_sql(priority: bool, sqlite: bool) -> str:
    group = _GROUP[priority]
    earlier = _in_line(sqlite, "count(*)", f"{group} AND t.queued_at < :queued_at")
    priority_waiting = _in_line(sqlite, "count(*)", "t.priority IS NOT NULL")
    same = _in_line(sqlite, "count(*)", f"{group} AND t.queued_at = :queued_at")
    return (
        f"SELECT ({earlier}), ({priority_waiting}), ({same}), "
        "served.last_called_at, served.finished_at FROM (SELECT 1) AS one LEFT OUTER JOIN ("
        "SELECT t.last_called_at AS last_called_at, t.finished_at AS finished_at "
        "FROM tickets AS t WHERE t.department_code = :department AND t.service_date = :day "
        "AND t.status = :served AND t.last_called_at IS NOT NULL "
        f"AND t.finished_at IS NOT NULL ORDER BY t.finished_at DESC LIMIT {RECENT_SERVED}"
        ") AS served ON 1 = 1"
    )


PLACE_SQL = {
    (priority, sqlite): _place_sql(priority, sqlite)
    for priority in (True, False)
    for sqlite in (True, False)
}
# The tickets of its group queued at the ticket's very instant (exact ties), same parameters.
TIED_SQL = {
    (priority, sqlite): _in_line(
        sqlite,
        "t.priority, t.queued_at, t.number, t.id",
        f"{_GROUP[priority]} AND t.queued_at = :queued_at",
    )
    for priority in (True, False)
    for sqlite in (True, False)
}


def stored_datetime(value: dt.datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy's SQLite DateTime stores it: naive UTC text."""
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond:06d}"


def read_datetime(value: str | None) -> dt.datetime | None:
    """Stored text (`stored_datetime`) back to an aware UTC datetime."""
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


class StatementFailed(Exception):
    """A statement of the issue failed in SQLite: the statement, its parameters and the
    driver's error (the service raises it as SQLAlchemy would, e.g. a full disk)."""

    def __init__(self, sql: str, parameters: Mapping[str, Any], error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.sql = sql
        self.parameters = dict(parameters)
        self.error = error


def _run(db: sqlite3.Connection, sql: str, parameters: Mapping[str, Any]) -> list[Any]:
    try:
        return db.execute(sql, parameters).fetchall()
    except sqlite3.Error as exc:
        raise StatementFailed(sql, parameters, exc) from exc


@dataclass(frozen=True)
class IssuingRules:
    """What a kiosk's configuration says about issuing."""

    origin: str
    tz: ZoneInfo
    numbering_width: int
    numbering_offset: int
    numbering_block_size: int
    priority_reasons: tuple[str, ...]

    @classmethod
    def of(cls, config: Config) -> IssuingRules:
        return cls(
            origin=config.kiosk.id,
            tz=config.hospital.tz,
            numbering_width=config.numbering.width,
            numbering_offset=config.numbering.offset,
            numbering_block_size=config.numbering.block_size,
            priority_reasons=tuple(config.queue.priority_reasons),
        )

    def service_date(self, at: dt.datetime) -> dt.date:
        """The hospital's local date: numbering restarts at local midnight."""
        return at.astimezone(self.tz).date()

    def check_priority(self, priority: str | None) -> None:
        if priority is not None and priority not in self.priority_reasons:
            raise UnknownPriority(priority, self.priority_reasons)

    def in_block(self, department: str, number: int) -> int:
        """`number`, if it is inside this kiosk's numbering block."""
        if number > self.numbering_offset + self.numbering_block_size:
            # The server takes no number outside this kiosk's block: stop before a patient
            # holds one it would refuse (the caller's rollback gives the counter back).
            raise DepartmentUnavailable(department, "full")
        return number

    def new_ticket(
        self, department: str, prefix: str, number: int, priority: str | None, now: dt.datetime
    ) -> TicketInfo:
        """A ticket just issued: waiting, queued at the moment of its issue."""
        return TicketInfo(
            id=str(uuid.uuid4()),
            department=department,
            number=number,
            code=f"{prefix}{number:0{self.numbering_width}d}",
            service_date=self.service_date(now),
            priority=priority,
            status=TicketStatus.WAITING,
            origin=self.origin,
            issued_at=now,
            queued_at=now,
            called_at=None,
            last_called_at=None,
            finished_at=None,
            room=None,
            call_count=0,
            transferred_from=None,
            cancel_reason=None,
        )


@dataclass(frozen=True)
class IssuingFacts:
    """What issuing reads of a department, in one statement (`FACTS_SQL`)."""

    code: str
    prefix: str
    name_vi: str
    name_en: str
    directions_vi: str
    directions_en: str
    avg_service_minutes: float
    active_rooms: int


def number_ticket(
    db: sqlite3.Connection,
    rules: IssuingRules,
    department_code: str,
    priority: str | None,
    now: dt.datetime,
) -> tuple[TicketInfo, IssuingFacts]:
    """Number and store a ticket with its `ticket.issued` event, in the write transaction
    `db` is in (the caller commits): four statements."""
    rules.check_priority(priority)
    today = rules.service_date(now)
    params = {"hold": HOLD_FLAG, "day": today.isoformat(), "code": department_code}
    (hold_value, hold_set_at, code, prefix, active, paused, capacity, issued, name_vi, name_en,
     directions_vi, directions_en, minutes, rooms) = _run(db, FACTS_SQL, params)[0]  # fmt: skip
    if hold_value is not None:
        hold = hold_of(hold_value, read_datetime(hold_set_at) or now)
        # A hold taken under another numbering block no longer applies.
        if hold.offset == rules.numbering_offset:
            raise IssuingOnHold(hold.reason)
    if code is None:
        codes = [row[0] for row in _run(db, "SELECT code FROM departments", {})]
        raise UnknownDepartment(department_code, codes)
    facts = IssuingFacts(
        code, prefix, name_vi, name_en, directions_vi, directions_en, float(minutes), rooms
    )
    unavailable = unavailability(bool(active), bool(paused), capacity, lambda: int(issued))
    if unavailable:
        raise DepartmentUnavailable(code, unavailable)
    numbers, seqs = number_counter(code, today, rules.numbering_offset), seq_counter(rules.origin)
    bumped = dict(
        _run(
            db,
            BUMP_SQL,
            {
                "numbers": numbers,
                "first": rules.numbering_offset + 1,
                "seqs": seqs,
                "feed": FEED_SEQUENCE,
            },
        )
    )
    number = rules.in_block(code, int(bumped[numbers]))
    ticket = rules.new_ticket(code, prefix, number, priority, now)
    row = {
        "department_code" if name == "department" else name: getattr(ticket, name)
        for name in TICKET_FIELDS
    }
    row["service_date"] = today.isoformat()
    for name in ("issued_at", "queued_at"):
        row[name] = stored_datetime(row[name])
    _run(db, INSERT_TICKET_SQL, row)
    event = {
        "id": str(uuid.uuid4()),
        "origin": rules.origin,
        "seq": int(bumped[seqs]),
        "type": ISSUED_EVENT,
        "occurred_at": stored_datetime(now),
        "ticket_id": ticket.id,
        "department_code": code,
        "data": json.dumps({"ticket": ticket.to_dict()}),
        "position": int(bumped[FEED_SEQUENCE]),
    }
    _run(db, INSERT_EVENT_SQL, event)
    log.debug("numbered %s (%s), not committed yet", ticket.code, ticket.id)
    return ticket, facts


def place_in_line(db: sqlite3.Connection, ticket: TicketInfo, facts: IssuingFacts) -> Position:
    """The ticket's place in line and estimated wait: one statement (two on an exact tie),
    each its own read transaction when `db` is in none."""
    if ticket.status != TicketStatus.WAITING:
        return Position(ahead=0, estimated_wait_minutes=0)
    params = {
        "department": ticket.department,
        "day": ticket.service_date.isoformat(),
        "served": TicketStatus.SERVED.value,
        "queued_at": stored_datetime(ticket.queued_at),
    }
    group = ticket.priority is not None
    counts = [
        (*row[:3], read_datetime(row[3]), read_datetime(row[4]))
        for row in _run(db, PLACE_SQL[group, True], params)
    ]

    def tied() -> list[tuple[Any, ...]]:
        return [
            (priority, read_datetime(queued_at), number, id_)
            for priority, queued_at, number, id_ in _run(db, TIED_SQL[group, True], params)
        ]

    return place_of(ticket, counts, tied, lambda: facts.active_rooms, facts.avg_service_minutes)


def issued_ticket(ticket: TicketInfo, facts: IssuingFacts, position: Position) -> IssuedTicket:
    return IssuedTicket(
        ticket=ticket,
        position=position,
        department_name_vi=facts.name_vi,
        department_name_en=facts.name_en,
        directions_vi=facts.directions_vi,
        directions_en=facts.directions_en,
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue_directly(
    path: Path,
    rules: IssuingRules,
    department_code: str,
    priority: str | None,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> IssuedTicket | None:
    """Issue on the store at `path` as `QueueService.issue` does (BEGIN IMMEDIATE with the
    patient first, the same statements, COMMIT, then the place in line), without SQLAlchemy.

    None, with nothing stored, whenever this way does not apply: no store yet, a schema that
    is not Alembic's head, an unreadable file, the write lock not had within the busy timeout,
    any refusal (a hold, an unknown or unavailable department, a full block), a statement that
    failed (a full disk). The caller then issues the full way, which creates, migrates,
    refuses or reports exactly as it always does. Once COMMIT has been sent the ticket may
    exist: a failed COMMIT is raised (StorageFull for a full disk), never retried elsewhere.
    """
    if HEAD_REVISION is None or not path.is_file():
        return None
    try:
        db = sqlite3.connect(path, timeout=busy_timeout_ms / 1000)
    except sqlite3.Error:
        return None
    with contextlib.closing(db):
        try:
            configure_connection(db, busy_timeout_ms)
            versions = [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
            if versions != [HEAD_REVISION]:
                return None
            begin_immediate(
                db,
                gate=gate_of(path),
                priority=True,
                timeout_s=busy_timeout_ms / 1000,
                busy_timeout_ms=busy_timeout_ms,
            )
        except sqlite3.Error:
            return None
        try:
            ticket, facts = number_ticket(db, rules, department_code, priority, clock())
        except (QueueError, StatementFailed):
            db.execute("ROLLBACK")
            return None
        with _committing(path):
            db.execute("COMMIT")
        log.info("issued %s (%s)", ticket.code, ticket.id)
        return issued_ticket(ticket, facts, place_in_line(db, ticket, facts))


@contextlib.contextmanager
def _committing(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or SQLITE_FULL_TEXT in str(exc):
            raise StorageFull(str(path)) from exc
        reason = " ".join(str(exc).split())
        raise DatabaseError(f"cannot commit the ticket to {path}: {reason}") from exc
