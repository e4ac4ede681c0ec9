"""The queue service: issue, call and move tickets; each change is one transaction with its event.

No Qt, no HTTP. The kiosk runs it over SQLite, the central server over PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    TextClause,
    bindparam,
    column,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TextualSelect

from kiosk.config import DEFAULT_PRIORITY_REASONS, Config
from kiosk.queue.db import PATIENTS, PRIORITY, READ_ONLY, SINGLE_READS, read_session
from kiosk.queue.errors import (
    DepartmentUnavailable,
    InvalidTransition,
    IssuingOnHold,
    RequestIdReused,
    StorageFull,
    UnknownDepartment,
    UnknownRoom,
    UnknownTicket,
)
from kiosk.queue.events import (
    FEED_SEQUENCE,
    EventType,
    append_event,
    bump_sequence,
)
from kiosk.queue.models import (
    CallRequest,
    Department,
    Event,
    Room,
    Ticket,
    TicketStatus,
)
from kiosk.queue.records import (
    RECENT_SERVED,
    TICKET_FIELDS,
    call_order_key,
    estimate_minutes,
    mean_service_minutes,
    place_of,
    unavailability,
)
from kiosk.queue.records import IssuedTicket as IssuedTicket
from kiosk.queue.records import Position as Position
from kiosk.queue.records import TicketInfo as TicketInfo
from kiosk.queue.sqlite_issuing import (
    PLACE_SQL,
    SQLITE_FULL_TEXT,
    TIED_SQL,
    IssuingRules,
    StatementFailed,
    issued_ticket,
    number_ticket,
    place_in_line,
)
from kiosk.queue.store import Hold, issuing_hold, number_counter, seq_counter
from kiosk.queue.validation import plain_json
from kiosk.wire import Department as DepartmentModel

if TYPE_CHECKING:  # the server's driver and pool (its extra); a kiosk never calls them
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

S = TicketStatus
# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], TicketStatus]] = {
    "call": (frozenset({S.WAITING}), S.CALLED),
    "recall": (frozenset({S.CALLED}), S.CALLED),
    "serve": (frozenset({S.CALLED}), S.SERVED),
    "no_show": (frozenset({S.CALLED}), S.NO_SHOW),
    "requeue": (frozenset({S.NO_SHOW}), S.WAITING),
    "transfer": (frozenset({S.WAITING, S.CALLED}), S.TRANSFERRED),
    "cancel": (frozenset({S.WAITING}), S.CANCELLED),
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# A department with today's counts: the wire model itself (the kiosk's screen, the API).
DepartmentStatus = DepartmentModel


@dataclass(frozen=True)
class Whereabouts:
    """Where a ticket's patient should be: department, room names, a transfer's new ticket."""

    name_vi: str
    name_en: str
    color: str
    directions_vi: str
    directions_en: str
    room_vi: str
    room_en: str
    moved_to: str | None  # the new ticket's id after a transfer


@dataclass(frozen=True)
class QueueSnapshot:
    department: str
    waiting: list[TicketInfo] = field(default_factory=list)  # in call order
    called: list[TicketInfo] = field(default_factory=list)  # most recent first


# SQLite's text for SQLITE_FULL; PostgreSQL's SQLSTATE for disk_full.
SQLITE_FULL_MESSAGE = SQLITE_FULL_TEXT
POSTGRES_DISK_FULL = "53100"


def is_storage_full(exc: DBAPIError) -> bool:
    """Whether a database error means that the disk under the database is full."""
    orig = exc.orig
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL":
        return True
    if getattr(orig, "sqlstate", None) == POSTGRES_DISK_FULL:
        return True
    return SQLITE_FULL_MESSAGE in str(orig).lower()


def _storage_place(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or "in-memory database"
    return url.render_as_string(hide_password=True)


class QueueService:
    """All queue operations; every public method is one transaction."""

    def __init__(
        self,
        engine: Engine,
        *,
        origin: str,
        timezone: str | ZoneInfo = "Asia/Ho_Chi_Minh",
        numbering_width: int = 3,
        numbering_offset: int = 0,
        numbering_block_size: int = 100_000,
        max_priority_in_row: int = 3,
        priority_reasons: Sequence[str] = DEFAULT_PRIORITY_REASONS,
        max_recalls: int | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.engine = engine
        self.origin = origin
        self.tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.numbering_width = numbering_width
        self.numbering_offset = numbering_offset
        self.numbering_block_size = numbering_block_size
        self.max_priority_in_row = max_priority_in_row
        self.priority_reasons = tuple(priority_reasons)
        # A recall beyond this many marks the ticket absent (None: recalls without limit).
        self.max_recalls = max_recalls
        self.clock = clock
        # Made once: an engine with options costs ~20 us to make, twice an issue.
        self._patient_engine = engine.execution_options(**{PRIORITY: True})
        self._single_reads = engine.execution_options(**{READ_ONLY: True, SINGLE_READS: True})
        # Issuing on SQLite (`sqlite_issuing`) reads its rules from here.
        self._rules = IssuingRules(
            origin=origin,
            tz=self.tz,
            numbering_width=numbering_width,
            numbering_offset=numbering_offset,
            numbering_block_size=numbering_block_size,
            priority_reasons=self.priority_reasons,
        )

    @classmethod
    def from_config(
        cls, engine: Engine, config: Config, *, origin: str | None = None, clock: Clock = utc_now
    ) -> QueueService:
        return cls(
            engine,
            origin=origin or config.kiosk.id,
            timezone=config.hospital.tz,
            numbering_width=config.numbering.width,
            numbering_offset=config.numbering.offset,
            numbering_block_size=config.numbering.block_size,
            max_priority_in_row=config.queue.max_priority_in_row,
            priority_reasons=config.queue.priority_reasons,
            max_recalls=config.counter.max_recalls,
            clock=clock,
        )

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, priority: bool = False) -> Iterator[Session]:
        """One write transaction: everything in it commits together or not at all.

        `priority`: a patient is waiting for it (issuing): on SQLite it gets the write lock
        before background writers (sync, maintenance) that are waiting too.

        A full disk (SQLite's SQLITE_FULL, PostgreSQL's disk_full) becomes StorageFull: the
        transaction is rolled back and everything committed before stays intact.
        """
        bind = self.engine.execution_options(**{PRIORITY: True}) if priority else self.engine
        with (
            self._storage_errors(),
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _storage_errors(self) -> Iterator[None]:
        """A full disk (SQLite's SQLITE_FULL, PostgreSQL's disk_full) raised as StorageFull."""
        try:
            yield
        except DBAPIError as exc:
            if is_storage_full(exc):
                raise StorageFull(_storage_place(self.engine)) from exc
            raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with read_session(self.engine) as session:
            yield session

    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return now.astimezone(dt.UTC)

    def service_date(self, at: dt.datetime | None = None) -> dt.date:
        """The hospital's local date: numbering restarts at local midnight."""
        return (at or self.now()).astimezone(self.tz).date()

    # -- issuing ------------------------------------------------------------------------

    def issue(self, department_code: str, priority: str | None = None) -> IssuedTicket:
        """Give the next number of a department; it exists once this returns (committed).

        The write transaction only numbers and stores the ticket; its place in line is read
        after the commit (a read transaction, which waits for no writer and makes none wait),
        so SQLite's write lock is held for as short a time as issuing can take.

        On SQLite (a kiosk) both run on the engine's driver connection (`sqlite3`), no ORM, no
        SQLAlchemy execute path (it cost more CPU than SQLite's own work), with the statements
        of `sqlite_issuing` that `kiosk issue` also runs without SQLAlchemy: the department
        with its state and the hold flag in one statement, the number with the event's seq and
        feed position in another, one INSERT each for the ticket and the event; after the
        commit, the place in line in one statement that is its own read transaction (no
        BEGIN; only a tie at the very same instant reads the tied tickets in a second one).
        The transaction stays SQLAlchemy's (BEGIN IMMEDIATE with the patient first, COMMIT). On
        PostgreSQL the Session's commit gives the event its seq and position (`append_event`).
        """
        if self.engine.dialect.name != "sqlite":
            return self._issue_in_session(department_code, priority)
        # The other threads of this process step aside meanwhile (`PATIENTS`): a patient
        # waits neither for their write transactions nor for the interpreter they compute in.
        with PATIENTS.patient():
            with (
                self._storage_errors(),
                self._patient_engine.begin() as connection,
                _as_sqlalchemy_errors(),
            ):
                ticket, facts = number_ticket(
                    _driver(connection), self._rules, department_code, priority, self.now()
                )
            # Only now is it issued: a full disk at the commit raised StorageFull above.
            log.info("issued %s (%s)", ticket.code, ticket.id)
            with self._single_reads.connect() as connection, _as_sqlalchemy_errors():
                return issued_ticket(
                    ticket, facts, place_in_line(_driver(connection), ticket, facts)
                )

    def rehearse_issue(self, department_code: str) -> IssuedTicket:
        """Everything `issue` does, in a transaction rolled back at the end: nothing is stored,
        and every statement of issuing is prepared and cached (a kiosk warms up with it)."""
        if self.engine.dialect.name != "sqlite":
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    return self.issue_in(session, department_code)
                finally:
                    session.rollback()
        with (
            self.engine.connect() as connection,
            connection.begin() as transaction,
            _as_sqlalchemy_errors(),
        ):
            try:
                driver = _driver(connection)
                ticket, facts = number_ticket(
                    driver, self._rules, department_code, None, self.now()
                )
                return issued_ticket(ticket, facts, place_in_line(driver, ticket, facts))
            finally:
                transaction.rollback()

    def _issue_in_session(self, department_code: str, priority: str | None) -> IssuedTicket:
        with self.transaction(priority=True) as session:
            ticket, department = self._number(session, department_code, priority)
        log.info("issued %s (%s)", ticket.code, ticket.id)
        with self.reading() as session:
            position = self._position(
                session, ticket, self._department(session, ticket.department_code)
            )
        return self._issued(ticket, department, position)

    def issue_in(
        self, session: Session, department_code: str, priority: str | None = None
    ) -> IssuedTicket:
        """Issue inside the caller's transaction (its place in line as that transaction sees
        it)."""
        ticket, department = self._number(session, department_code, priority)
        return self._issued(ticket, department, self._position(session, ticket, department))

    @staticmethod
    def _issued(ticket: Ticket, department: Department, position: Position) -> IssuedTicket:
        return IssuedTicket(
            ticket=TicketInfo.of(ticket),
            position=position,
            department_name_vi=department.name_vi,
            department_name_en=department.name_en,
            directions_vi=department.directions_vi,
            directions_en=department.directions_en,
        )

    def _number(
        self, session: Session, department_code: str, priority: str | None
    ) -> tuple[Ticket, Department]:
        self._rules.check_priority(priority)
        hold = self.issuing_hold(session)
        if hold is not None:
            raise IssuingOnHold(hold.reason)
        department = self._department(session, department_code)
        now = self.now()
        today = self.service_date(now)
        unavailable = self._unavailable(session, department, today)
        if unavailable:
            raise DepartmentUnavailable(department.code, unavailable)
        number = self._next_number(session, department.code, today)
        ticket = Ticket(
            **_ticket_row(
                self._rules.new_ticket(department.code, department.prefix, number, priority, now)
            )
        )
        session.add(ticket)
        session.flush()
        self._record(session, EventType.ISSUED, ticket, now)
        log.debug("numbered %s (%s), not committed yet", ticket.code, ticket.id)
        return ticket, department

    def _next_number(self, executor: Session | Connection, department: str, day: dt.date) -> int:
        number = bump_sequence(
            executor,
            number_counter(department, day, self.numbering_offset),
            start=self.numbering_offset + 1,
        )
        return self._rules.in_block(department, number)

    def issuing_hold(self, session: Session | None = None) -> Hold | None:
        """Why this store may not issue yet (restored or new, waiting for the server's
        high-water marks), or None. A hold taken under another numbering block no longer
        applies: the operator moved this kiosk to a block the server holds nothing of."""
        if session is None:
            with self.reading() as reading:
                return self.issuing_hold(reading)
        return self._applying(issuing_hold(session))

    def _applying(self, hold: Hold | None) -> Hold | None:
        if hold is None or hold.offset != self.numbering_offset:
            return None
        return hold

    # -- calling and moving -------------------------------------------------------------

    def call_next(self, department_code: str, room: str) -> TicketInfo | None:
        """Call the next ticket in line; two callers never get the same one."""
        with self.transaction() as session:
            return self.call_next_in(session, department_code, room)

    def call_next_in(self, session: Session, department_code: str, room: str) -> TicketInfo | None:
        """`call_next` inside the caller's transaction (with e.g. an idempotency record)."""
        department = self._department(session, department_code)
        now = self.now()
        today = self.service_date(now)
        prefer_normal = self._priority_streak(session, department.code, today) >= (
            self.max_priority_in_row
        )
        # False sorts first: priority tickets lead unless the normal line is owed a turn.
        first = Ticket.priority.is_not(None) if prefer_normal else Ticket.priority.is_(None)
        statement = (
            select(Ticket)
            .where(
                Ticket.department_code == department.code,
                Ticket.service_date == today,
                Ticket.status == S.WAITING,
            )
            .order_by(first, Ticket.queued_at, func.coalesce(Ticket.number, 0), Ticket.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        ticket = session.scalars(statement).first()
        if ticket is None:
            return None
        self._call(session, ticket, room, now)
        return TicketInfo.of(ticket)

    def call_next_once(
        self, department_code: str, room: str, request_id: str
    ) -> tuple[TicketInfo | None, bool]:
        """Call next at most once per request id; (ticket, whether it was called just now).

        The request's row and the call commit in one transaction. A concurrent duplicate blocks
        on the row's primary key, fails when the first commits, and then reads its answer.
        A request id already used for another department raises RequestIdReused.
        """
        for attempt in range(2):
            try:
                with self.transaction() as session:
                    known = session.get(CallRequest, request_id)
                    if known is not None:
                        if known.department_code != department_code:
                            raise RequestIdReused(request_id, known.department_code)
                        if known.ticket_id is None:
                            return None, False
                        ticket = session.get(Ticket, known.ticket_id)
                        return (None if ticket is None else TicketInfo.of(ticket)), False
                    record = CallRequest(
                        request_id=request_id,
                        department_code=department_code,
                        room=room,
                        ticket_id=None,
                        created_at=self.now(),
                    )
                    session.add(record)
                    session.flush()
                    called = self.call_next_in(session, department_code, room)
                    record.ticket_id = None if called is None else called.id
                    return called, True
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def call_next_in_room(
        self, department_code: str, room: str, request_id: str | None = None
    ) -> tuple[TicketInfo | None, bool]:
        """A counter's "call next" from `room`, as the server answers it: UnknownRoom (or
        UnknownDepartment) unless `room` is one of the department's active rooms; with a
        `request_id`, at most one call per id (as `call_next_once`). Returns (ticket, whether
        it was called just now).

        On PostgreSQL it is one plain SQL statement, its own transaction, no ORM: the room
        check, the request id, the ticket's update and the event with its seq and feed
        position (`_CALL_NEXT_SQL`; see `events.store_event` for why the position is taken
        in the last step before the commit).
        """
        if self.engine.dialect.name != "postgresql":
            self.check_room(department_code, room)
            if request_id is None:
                return self.call_next(department_code, room), True
            return self.call_next_once(department_code, room, request_id)
        try:
            with self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                return _call_next_postgresql(self, connection, department_code, room, request_id)
        except _NotARoom:
            self.check_room(department_code, room)  # raises UnknownRoom or UnknownDepartment
            return None, True  # a room added just now: nobody was called
        except DBAPIError as exc:
            if is_storage_full(exc):
                raise StorageFull(_storage_place(self.engine)) from exc
            raise

    async def call_next_in_room_async(
        self,
        pool: AsyncConnectionPool[AsyncConnection[Any]],
        department_code: str,
        room: str,
        request_id: str | None = None,
    ) -> tuple[TicketInfo | None, bool]:
        """`call_next_in_room` on PostgreSQL through psycopg's own async connections (`pool`,
        autocommit connections to this service's database), awaited on the caller's event
        loop: no worker thread, no SQLAlchemy around the statement. The same statement
        (`_CALL_NEXT_SQL`, compiled for psycopg), answers and errors.

        The pool does not test a connection before handing it out (a round trip per call):
        when one broke under the statement (PostgreSQL restarted), the pool's other idle
        connections are checked and, with a request id, the call is made once more on a
        sound one - the id makes that safe if the first try committed. Without an id the
        call is not replayed (it may have committed): the caller gets the error (503).
        """
        for attempt in (1, 2):
            try:
                return await _call_next_pooled(self, pool, department_code, room, request_id)
            except _ConnectionLost as lost:
                if attempt == 2 or request_id is None:
                    await pool.check()
                    raise lost.error from lost.__cause__
                log.warning("call-next: database connection lost (%s); trying again", lost)
                await pool.check()
            except _NotARoom:
                # Rare: which error (UnknownRoom, UnknownDepartment), read in a thread.
                await asyncio.to_thread(self.check_room, department_code, room)
                return None, True  # a room added just now: nobody was called
            except DBAPIError as exc:
                if is_storage_full(exc):
                    raise StorageFull(_storage_place(self.engine)) from exc
                raise
        raise AssertionError("unreachable")

    def forget_call_requests(self, before: dt.datetime) -> int:
        """Delete the "call next" request ids recorded before `before`; how many went."""
        with self.transaction() as session:
            result = session.execute(delete(CallRequest).where(CallRequest.created_at < before))
            return int(getattr(result, "rowcount", 0) or 0)

    def call(self, ticket_id: str, room: str) -> TicketInfo:
        """Call one ticket out of order (a patient who must go first)."""
        with self.transaction() as session:
            ticket = self._ticket(session, ticket_id, lock=True)
            self._check(ticket, "call")
            self._call(session, ticket, room, self.now())
            return TicketInfo.of(ticket)

    def recall(self, ticket_id: str) -> TicketInfo:
        """Call the patient again; a recall beyond `max_recalls` marks the ticket absent
        (`no_show`) instead, whichever counter sends it."""
        with self.transaction() as session:
            ticket = self._ticket(session, ticket_id, lock=True)
            target = self._check(ticket, "recall")
            now = self.now()
            recalls = max(0, ticket.call_count - 1)
            if self.max_recalls is not None and recalls >= self.max_recalls:
                ticket.status = self._check(ticket, "no_show")
                self._apply_finish(ticket, now)
                self._record(session, EventType.NO_SHOW, ticket, now)
                log.info("%s: no answer after %d recalls; marked absent", ticket.code, recalls)
            else:
                ticket.status = target
                self._apply_recall(ticket, now)
                self._record(session, EventType.RECALLED, ticket, now)
            return TicketInfo.of(ticket)

    def serve(self, ticket_id: str) -> TicketInfo:
        return self._change(ticket_id, "serve", EventType.SERVED, self._apply_finish)

    def no_show(self, ticket_id: str) -> TicketInfo:
        return self._change(ticket_id, "no_show", EventType.NO_SHOW, self._apply_finish)

    def requeue(self, ticket_id: str) -> TicketInfo:
        return self._change(ticket_id, "requeue", EventType.REQUEUED, self._apply_requeue)

    def cancel(self, ticket_id: str, reason: str = "cancelled") -> TicketInfo:
        def apply(ticket: Ticket, now: dt.datetime) -> None:
            ticket.finished_at = now
            ticket.cancel_reason = reason

        return self._change(ticket_id, "cancel", EventType.CANCELLED, apply, {"reason": reason})

    def transfer(self, ticket_id: str, department_code: str) -> TicketInfo:
        """Send a patient to another department: a new waiting ticket there, same code."""
        with self.transaction() as session:
            ticket = self._ticket(session, ticket_id, lock=True)
            target = self._department(session, department_code)
            self._check(ticket, "transfer")
            if target.code == ticket.department_code:
                raise InvalidTransition(
                    ticket.code, ticket.status, "transfer to its own department", []
                )
            now = self.now()
            moved = Ticket(
                id=str(uuid.uuid4()),
                department_code=target.code,
                service_date=ticket.service_date,
                number=None,  # takes no number from the target's sequence
                code=ticket.code,
                priority=ticket.priority,
                status=S.WAITING,
                origin=self.origin,
                issued_at=ticket.issued_at,
                queued_at=now,
                call_count=0,
                transferred_from=ticket.id,
            )
            ticket.status = S.TRANSFERRED
            ticket.finished_at = now
            session.add(moved)
            session.flush()
            self._record(
                session,
                EventType.TRANSFERRED,
                ticket,
                now,
                {"to_department": target.code, "new_ticket": TicketInfo.of(moved).to_dict()},
            )
            return TicketInfo.of(moved)

    def close_stale_tickets(self) -> int:
        """End of day: cancel tickets still waiting from earlier service dates (`end_of_day`),
        so yesterday's line never shows up in today's counts or calls."""
        reason = "end_of_day"
        with self.transaction() as session:
            now = self.now()
            stale = session.scalars(
                select(Ticket)
                .where(Ticket.service_date < self.service_date(now), Ticket.status == S.WAITING)
                .order_by(Ticket.service_date, Ticket.queued_at)
                .with_for_update(skip_locked=True)
            ).all()
            for ticket in stale:
                ticket.status = S.CANCELLED
                ticket.finished_at = now
                ticket.cancel_reason = reason
                self._record(session, EventType.CANCELLED, ticket, now, {"reason": reason})
            if stale:
                log.info("end of day: cancelled %d tickets left waiting", len(stale))
            return len(stale)

    def record_device_status(self, status: dict[str, Any]) -> None:
        """A `device.status` event (printer faults, start-up) for staff and the server.

        Text is made plain first (a driver's message may hold line breaks or worse): the
        server refuses control characters in what a kiosk sends."""
        with self.transaction() as session:
            append_event(
                session,
                origin=self.origin,
                type=EventType.DEVICE_STATUS,
                now=self.now(),
                data=plain_json(status),
            )

    # -- reading ------------------------------------------------------------------------

    def get(self, ticket_id: str) -> TicketInfo:
        with self.reading() as session:
            return TicketInfo.of(self._ticket(session, ticket_id))

    def position(self, ticket_id: str) -> Position:
        """People ahead of a ticket and the estimated wait in minutes."""
        with self.reading() as session:
            ticket = self._ticket(session, ticket_id)
            department = self._department(session, ticket.department_code)
            return self._position(session, ticket, department)

    def feed_position(self) -> int:
        """The event feed's latest position (0 when empty): a snapshot read after it is newer."""
        with self.reading() as session:
            return int(session.scalar(select(func.max(Event.position))) or 0)

    def today_counts(self, department_code: str) -> dict[str, int]:
        """Today's tickets of a department by status, and `issued` (numbered ones)."""
        with self.reading() as session:
            rows = session.execute(
                select(Ticket.status, func.count(), func.count(Ticket.number))
                .where(
                    Ticket.department_code == department_code,
                    Ticket.service_date == self.service_date(),
                )
                .group_by(Ticket.status)
            ).all()
        today = {"issued": 0}
        for status, total, numbered in rows:
            today[str(status)] = int(total)
            today["issued"] += int(numbered)
        return today

    def check_room(self, department_code: str, room: str) -> None:
        """Raise UnknownRoom unless `room` is the code of one of the department's active
        rooms (UnknownDepartment for an unknown department): a call names a real room."""
        with self.reading() as session:
            department = self._department(session, department_code)
            valid = [r.code for r in department.rooms if r.active]
            if room not in valid:
                raise UnknownRoom(department.code, room, valid)

    def department_names(self, code: str) -> tuple[str, str]:
        """(Vietnamese, English) name of a department; its code twice if it is unknown."""
        with self.reading() as session:
            department = session.get(Department, code)
            return (code, code) if department is None else (department.name_vi, department.name_en)

    def whereabouts(self, ticket: TicketInfo) -> Whereabouts:
        """The names the patient's status page shows for a ticket (its code when unknown)."""
        with self.reading() as session:
            department = session.get(Department, ticket.department)
            room = None
            if ticket.room:
                room = session.scalars(
                    select(Room).where(
                        Room.department_code == ticket.department, Room.code == ticket.room
                    )
                ).first()
            moved_to = None
            if ticket.status == TicketStatus.TRANSFERRED:
                moved = session.scalars(select(Ticket).where(Ticket.transferred_from == ticket.id))
                target = moved.first()
                moved_to = target.id if target else None
            return Whereabouts(
                name_vi=department.name_vi if department else ticket.department,
                name_en=department.name_en if department else ticket.department,
                color=department.color if department else "#1f6feb",
                directions_vi=department.directions_vi if department else "",
                directions_en=department.directions_en if department else "",
                room_vi=room.name_vi if room else ticket.room or "",
                room_en=(room.name_en or room.name_vi) if room else ticket.room or "",
                moved_to=moved_to,
            )

    def snapshot(self, department_code: str, called_limit: int = 10) -> QueueSnapshot:
        with self.reading() as session:
            department = self._department(session, department_code)
            today = self.service_date()
            waiting = self._waiting(session, department.code, today)
            called = session.scalars(
                select(Ticket)
                .where(
                    Ticket.department_code == department.code,
                    Ticket.service_date == today,
                    Ticket.last_called_at.is_not(None),
                    Ticket.status != S.TRANSFERRED,
                )
                .order_by(Ticket.last_called_at.desc())
                .limit(called_limit)
            ).all()
            return QueueSnapshot(
                department=department.code,
                waiting=[TicketInfo.of(t) for t in waiting],
                called=[TicketInfo.of(t) for t in called],
            )

    def departments(self, include_inactive: bool = False) -> list[DepartmentStatus]:
        """Every department with its live counts, in display order."""
        with self.reading() as session:
            today = self.service_date()
            query = select(Department).order_by(Department.sort_order, Department.code)
            if not include_inactive:
                query = query.where(Department.active.is_(True))
            result = []
            for department in session.scalars(query):
                counts = self._counts(session, department.code, today)
                active_rooms = [r for r in department.rooms if r.active]
                rooms = [r.code for r in active_rooms]
                result.append(
                    DepartmentStatus(
                        code=department.code,
                        name_vi=department.name_vi,
                        name_en=department.name_en,
                        prefix=department.prefix,
                        color=department.color,
                        rooms=rooms,
                        directions_vi=department.directions_vi,
                        directions_en=department.directions_en,
                        daily_capacity=department.daily_capacity,
                        issued_today=counts["issued"],
                        waiting=counts[S.WAITING],
                        serving=counts[S.CALLED],
                        estimated_wait_minutes=self._estimate(
                            session, department, today, counts[S.WAITING]
                        ),
                        unavailable=self._unavailable(session, department, today, counts),
                        hospital_paused=department.hospital_paused,
                        pause_reason=(
                            department.hospital_pause_reason if department.hospital_paused else ""
                        ),
                        paused_here=department.paused,
                        room_names_vi={r.code: r.name_vi for r in active_rooms},
                        room_names_en={r.code: r.name_en for r in active_rooms},
                    )
                )
            return result

    def department_codes(self) -> list[str]:
        with self.reading() as session:
            return list(session.scalars(select(Department.code).order_by(Department.code)))

    def set_paused(self, department_code: str, paused: bool) -> None:
        """Staff pause or resume issuing for a department (kiosk admin panel)."""
        with self.transaction() as session:
            self._department(session, department_code).paused = paused

    def tickets_on(self, service_date: dt.date) -> list[TicketInfo]:
        with self.reading() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.service_date == service_date)
                .order_by(Ticket.department_code, Ticket.issued_at, Ticket.code)
            )
            return [TicketInfo.of(t) for t in tickets]

    # -- internals ----------------------------------------------------------------------

    def _department(self, session: Session, code: str) -> Department:
        department = session.get(Department, code)
        if department is None:
            raise UnknownDepartment(code, session.scalars(select(Department.code)).all())
        return department

    def _ticket(self, session: Session, ticket_id: str, lock: bool = False) -> Ticket:
        ticket = session.get(Ticket, ticket_id, with_for_update=lock or None)
        if ticket is None:
            raise UnknownTicket(ticket_id)
        return ticket

    @staticmethod
    def _check(ticket: Ticket, action: str) -> TicketStatus:
        allowed_from, target = TRANSITIONS[action]
        if ticket.status not in allowed_from:
            raise InvalidTransition(
                ticket.code, ticket.status, action.replace("_", "-"), allowed_from
            )
        return target

    def _record(
        self,
        session: Session,
        type: EventType,
        ticket: Ticket,
        now: dt.datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        append_event(
            session,
            origin=self.origin,
            type=type,
            now=now,
            ticket_id=ticket.id,
            department_code=ticket.department_code,
            data={"ticket": TicketInfo.of(ticket).to_dict(), **(extra or {})},
        )

    def _change(
        self,
        ticket_id: str,
        action: str,
        event_type: EventType,
        apply: Callable[[Ticket, dt.datetime], None],
        extra: dict[str, Any] | None = None,
    ) -> TicketInfo:
        with self.transaction() as session:
            ticket = self._ticket(session, ticket_id, lock=True)
            target = self._check(ticket, action)
            now = self.now()
            ticket.status = target
            apply(ticket, now)
            self._record(session, event_type, ticket, now, extra)
            return TicketInfo.of(ticket)

    def _call(self, session: Session, ticket: Ticket, room: str, now: dt.datetime) -> None:
        self._check(ticket, "call")
        ticket.status = S.CALLED
        ticket.room = room
        ticket.call_count += 1
        ticket.called_at = ticket.called_at or now
        ticket.last_called_at = now
        self._record(session, EventType.CALLED, ticket, now, {"room": room})

    @staticmethod
    def _apply_recall(ticket: Ticket, now: dt.datetime) -> None:
        ticket.call_count += 1
        ticket.last_called_at = now

    @staticmethod
    def _apply_finish(ticket: Ticket, now: dt.datetime) -> None:
        ticket.finished_at = now

    @staticmethod
    def _apply_requeue(ticket: Ticket, now: dt.datetime) -> None:
        # Back in line behind those waiting now; the next call counts afresh.
        ticket.queued_at = now
        ticket.finished_at = None
        ticket.room = None

    def _waiting(self, session: Session, department: str, day: dt.date) -> list[Ticket]:
        tickets = session.scalars(
            select(Ticket).where(
                Ticket.department_code == department,
                Ticket.service_date == day,
                Ticket.status == S.WAITING,
            )
        ).all()
        return sorted(tickets, key=call_order_key)

    def _priority_streak(self, session: Session, department: str, day: dt.date) -> int:
        """How many of the latest first calls in a row went to priority tickets."""
        recent = session.scalars(
            select(Ticket.priority)
            .where(
                Ticket.department_code == department,
                Ticket.service_date == day,
                Ticket.called_at.is_not(None),
            )
            .order_by(Ticket.called_at.desc(), Ticket.id.desc())
            .limit(self.max_priority_in_row)
        ).all()
        streak = 0
        for priority in recent:
            if priority is None:
                break
            streak += 1
        return streak

    def _counts(self, session: Session, department: str, day: dt.date) -> dict[str, int]:
        rows = session.execute(
            select(Ticket.status, func.count(), func.count(Ticket.number))
            .where(Ticket.department_code == department, Ticket.service_date == day)
            .group_by(Ticket.status)
        ).all()
        counts = {str(status): 0 for status in S}
        issued = 0
        for status, total, numbered in rows:
            counts[status] = total
            issued += numbered
        counts["issued"] = issued
        return counts

    def _unavailable(
        self,
        session: Session,
        department: Department,
        day: dt.date,
        counts: dict[str, int] | None = None,
    ) -> str | None:
        return unavailability(
            department.active,
            department.paused or department.hospital_paused,
            department.daily_capacity,
            lambda: (counts or self._counts(session, department.code, day))["issued"],
        )

    def _average_service_minutes(
        self, session: Session, department: Department, day: dt.date
    ) -> float:
        """Mean service time of today's latest served tickets, else the configured average."""
        rows = session.execute(
            _recent_service_times(), {"department": department.code, "day": day, "served": S.SERVED}
        ).all()
        served = [(row[0], row[1]) for row in rows]
        return mean_service_minutes(served, department.avg_service_minutes)

    def _estimate(self, session: Session, department: Department, day: dt.date, ahead: int) -> int:
        if ahead <= 0:
            return 0
        minutes = self._average_service_minutes(session, department, day)
        return estimate_minutes(ahead, minutes, _active_rooms(department))

    def _position(self, session: Session, ticket: Ticket, department: Department) -> Position:
        return self._place(
            session,
            TicketInfo.of(ticket),
            lambda: _active_rooms(department),
            department.avg_service_minutes,
        )

    def _place(
        self,
        executor: Session | Connection,
        ticket: TicketInfo,
        rooms: Callable[[], int],
        configured_minutes: float,
    ) -> Position:
        """A ticket's place in line and estimated wait; `rooms`: how many of its department's
        rooms are active, `configured_minutes`: its configured average service time."""
        if ticket.status != S.WAITING:
            return Position(ahead=0, estimated_wait_minutes=0)
        # Counted in the database (the line can be hundreds long at 7 a.m.), in one query:
        # those of the same group queued earlier, priority tickets (ahead of everyone else),
        # and those queued at the very same instant (this ticket among them); with them, one
        # a row, the department's latest service times today (for the estimate).
        params = {
            "department": ticket.department,
            "day": ticket.service_date,
            "served": S.SERVED,
            "queued_at": ticket.queued_at,
        }
        priority, sqlite = ticket.priority is not None, self.engine.dialect.name == "sqlite"
        return place_of(
            ticket,
            executor.execute(_place_in_line(priority, sqlite), params).all(),
            lambda: executor.execute(_tied_in_line(priority, sqlite), params).all(),
            rooms,
            configured_minutes,
        )


def _driver(connection: Connection) -> sqlite3.Connection:
    """The SQLite driver's own connection under `connection` (in its transaction)."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


@contextmanager
def _as_sqlalchemy_errors() -> Iterator[None]:
    """A failed statement of `sqlite_issuing` raised as SQLAlchemy raises a driver's error
    (OperationalError, IntegrityError, ... with `orig` and the statement): a full disk is
    then StorageFull (`_storage_errors`), as everywhere else."""
    try:
        yield
    except StatementFailed as failed:
        error = DBAPIError.instance(failed.sql, failed.parameters, failed.error, sqlite3.Error)
        raise error from failed.error


def _active_rooms(department: Department) -> int:
    return sum(1 for room in department.rooms if room.active)


def _ticket_row(ticket: TicketInfo) -> dict[str, Any]:
    """A ticket's columns (`tickets`) from its outside form."""
    row = {name: getattr(ticket, name) for name in TICKET_FIELDS}
    row["department_code"] = row.pop("department")
    return row


# Statements of the place in line, built once with parameters (building one costs more than
# running it: issuing reads the place in line for every ticket).
_STATEMENTS: dict[str, Any] = {}


def _recent_service_times() -> Any:
    statement = _STATEMENTS.get("served")
    if statement is None:
        statement = _STATEMENTS["served"] = (
            select(Ticket.last_called_at, Ticket.finished_at)
            .where(
                Ticket.department_code == bindparam("department"),
                Ticket.service_date == bindparam("day", type_=Ticket.service_date.type),
                Ticket.status == bindparam("served"),
                Ticket.last_called_at.is_not(None),
                Ticket.finished_at.is_not(None),
            )
            .order_by(Ticket.finished_at.desc())
            .limit(RECENT_SERVED)
        )
    return statement


def _place_in_line(priority: bool, sqlite: bool) -> TextualSelect:
    """`sqlite_issuing.PLACE_SQL` on a Session (PostgreSQL's issue, or SQLite's in a caller's
    transaction), its values converted by the columns' own types."""
    key = f"place:{priority}:{sqlite}"
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = (
            text(PLACE_SQL[priority, sqlite])
            .bindparams(*_line_parameters())
            .columns(
                column("earlier", Integer),
                column("priority_waiting", Integer),
                column("same", Integer),
                column("last_called_at", Ticket.last_called_at.type),
                column("finished_at", Ticket.finished_at.type),
            )
        )
    return statement


def _tied_in_line(priority: bool, sqlite: bool) -> TextualSelect:
    key = f"tied:{priority}:{sqlite}"
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = (
            text(TIED_SQL[priority, sqlite])
            .bindparams(*_line_parameters())
            .columns(
                column("priority", String),
                column("queued_at", Ticket.queued_at.type),
                column("number", Integer),
                column("id", String),
            )
        )
    return statement


def _line_parameters() -> tuple[Any, ...]:
    return (
        bindparam("day", type_=Ticket.service_date.type),
        bindparam("queued_at", type_=Ticket.queued_at.type),
    )


# -- call next on PostgreSQL, without the ORM ---------------------------------------------

_TICKET_COLUMNS = (
    "id, department_code, number, code, service_date, priority, status, origin, issued_at, "
    "queued_at, called_at, last_called_at, finished_at, room, call_count, transferred_from, "
    "cancel_reason"
)

# The whole call, one statement run as its own transaction (autocommit): one round trip, and
# the counter rows it bumps are held only from its last step to its commit inside PostgreSQL
# (no network round trip, no Python, while other writers wait for them). In order:
# - `picked` picks the next ticket (SKIP LOCKED: concurrent counters each get another one),
#   locks and calls it; only if the room is one of the department's active rooms and the
#   request id (if any) is not already answered. Priority tickets lead unless the department's
#   latest `:streak` first calls all went to priority tickets (`turn`);
# - `requested` remembers the request id with its answer (the ticket, or NULL when nobody
#   waits). A plain INSERT: a concurrent duplicate waits for the first one's commit and then
#   fails on the key, which rolls its whole statement back (its ticket is not called);
# - `bumped` bumps the feed counter and this server's seq counter (the feed first, as
#   `events._number_at_commit_postgresql` does, so writers never deadlock). It reads
#   `requested` (count), so a duplicate waits for its key before it takes the counter rows;
# - `stored` writes the call's event, its data the called ticket as `TicketInfo.to_dict()`
#   gives it (timestamps UTC with milliseconds, cut, not rounded).
_TS = "to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
_TICKET_JSON = (
    "json_build_object('id', p.id, 'department', p.department_code, 'number', p.number,"
    " 'code', p.code, 'service_date', p.service_date, 'priority', p.priority,"
    " 'status', p.status, 'origin', p.origin,"
    f" 'issued_at', {_TS.format('p.issued_at')}, 'queued_at', {_TS.format('p.queued_at')},"
    f" 'called_at', {_TS.format('p.called_at')},"
    f" 'last_called_at', {_TS.format('p.last_called_at')},"
    f" 'finished_at', {_TS.format('p.finished_at')}, 'room', p.room,"
    " 'call_count', p.call_count, 'transferred_from', p.transferred_from,"
    " 'cancel_reason', p.cancel_reason)"
)
# The head of one class of the line (`IS NULL`: tickets without priority, `IS NOT NULL`: with),
# read in queue order from that class's own partial index (`ix_tickets_next_plain`/`_priority`):
# the first ticket no other counter holds; nobody when the room is not the department's or the
# request id is answered already (`go`, a one-time filter checked before the line is read, so no
# ticket is locked needlessly). The statuses are written out, not parameters: the statement runs
# with one generic plan per connection (server_sync/server/pgpool.py), and such a plan can use
# a partial index only when the statement itself implies the index's WHERE clause.
_HEAD_OF_CLASS = (
    "(SELECT w.id FROM tickets AS w"
    " WHERE w.department_code = :department AND w.service_date = :day AND w.status = 'waiting'"
    " AND w.priority {} AND (SELECT go FROM free)"
    " ORDER BY w.queued_at, COALESCE(w.number, 0), w.id LIMIT 1 FOR UPDATE SKIP LOCKED)"
)
_NORMAL_HEAD = _HEAD_OF_CLASS.format("IS NULL")
_PRIORITY_HEAD = _HEAD_OF_CLASS.format("IS NOT NULL")
# psycopg converts a query's placeholders once and caches the result only for queries of at
# most 4,096 bytes (`psycopg._queries.MAX_CACHED_STATEMENT_LENGTH`); longer ones are parsed again
# on every call (~6 % of a call-next's CPU). A test keeps this statement under that length.
_CALL_NEXT_SQL = text(
    "WITH room_ok AS (SELECT EXISTS (SELECT 1 FROM rooms AS r"
    " WHERE r.department_code = :department AND r.code = :room AND r.active) AS ok), "
    "free AS (SELECT (SELECT ok FROM room_ok) AND NOT EXISTS (SELECT 1 FROM call_requests AS q"
    " WHERE q.request_id = CAST(:request_id AS text)) AS go), "
    # Whether the latest `:streak` first calls all went to priority tickets.
    "turn AS (SELECT (SELECT count(recent.priority) FROM ("
    " SELECT p.priority FROM tickets AS p"
    " WHERE p.department_code = :department AND p.service_date = :day"
    " AND p.called_at IS NOT NULL ORDER BY p.called_at DESC, p.id DESC LIMIT :streak"
    " ) AS recent) >= :streak AS others_first), "
    "picked AS ("
    " UPDATE tickets AS t SET status = 'called', room = :room, call_count = t.call_count + 1,"
    " called_at = COALESCE(t.called_at, :now), last_called_at = :now"
    # The preferred class first, the other only when it has nobody free: CASE and COALESCE
    # evaluate a subquery only when its answer is needed, so no ticket is locked needlessly.
    " WHERE t.status = 'waiting' AND t.id = COALESCE("
    " CASE WHEN (SELECT others_first FROM turn) THEN "
    + _NORMAL_HEAD
    + " ELSE "
    + _PRIORITY_HEAD
    + " END, CASE WHEN (SELECT others_first FROM turn) THEN "
    + _PRIORITY_HEAD
    + " ELSE "
    + _NORMAL_HEAD
    + " END)"
    f" RETURNING {_TICKET_COLUMNS}), "
    "requested AS ("
    " INSERT INTO call_requests (request_id, department_code, room, ticket_id, created_at)"
    " SELECT CAST(:request_id AS text), :department, :room, (SELECT id FROM picked), :now"
    " FROM room_ok WHERE room_ok.ok AND CAST(:request_id AS text) IS NOT NULL"
    " RETURNING request_id), "
    "bumped AS ("
    " INSERT INTO sequences (name, last)"
    " SELECT v.name, 1 FROM picked, (SELECT count(*) FROM requested) AS r(n),"
    "  (VALUES (1, CAST(:feed AS text)), (2, CAST(:seq_name AS text))) AS v(o, name)"
    " ORDER BY v.o"
    " ON CONFLICT (name) DO UPDATE SET last = sequences.last + excluded.last"
    " RETURNING name, last), "
    "stored AS ("
    " INSERT INTO events (id, origin, seq, type, occurred_at, ticket_id, department_code, data,"
    " position, stored_at)"
    " SELECT :id, :origin, s.last, :type, :now, p.id, p.department_code,"
    f" json_build_object('ticket', {_TICKET_JSON}, 'room', CAST(:room AS text)),"
    " f.last, :now FROM picked AS p, bumped AS f, bumped AS s"
    " WHERE f.name = :feed AND s.name = :seq_name"
    " RETURNING position) "
    # `p.*`: the columns `picked` returns, in their order (`_TICKET_COLUMNS`).
    "SELECT (SELECT ok FROM room_ok), (SELECT count(*) FROM stored), p.*"
    " FROM (SELECT 1) AS one LEFT JOIN picked AS p ON true"
)

_KNOWN_REQUEST_SQL = text(
    f"SELECT r.department_code, {', '.join(f't.{c}' for c in _TICKET_COLUMNS.split(', '))} "
    "FROM call_requests AS r LEFT JOIN tickets AS t ON t.id = r.ticket_id "
    "WHERE r.request_id = :request_id"
)


def _ticket_from_row(row: Sequence[Any]) -> TicketInfo:
    def utc(value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else value.astimezone(dt.UTC)

    (id_, department, number, code, day, priority, status, origin, issued_at, queued_at) = row[:10]
    called_at, last_called_at, finished_at, room, call_count, moved_from, reason = row[10:]
    return TicketInfo(
        id=id_,
        department=department,
        number=number,
        code=code,
        service_date=day,
        priority=priority,
        status=status,
        origin=origin,
        issued_at=issued_at.astimezone(dt.UTC),
        queued_at=queued_at.astimezone(dt.UTC),
        called_at=utc(called_at),
        last_called_at=utc(last_called_at),
        finished_at=utc(finished_at),
        room=room,
        call_count=call_count,
        transferred_from=moved_from,
        cancel_reason=reason,
    )


class _NotARoom(Exception):
    """Nobody was called because the room is not one of the department's active rooms."""


def _call_next_parameters(
    service: QueueService, department_code: str, room: str, request_id: str | None
) -> dict[str, Any]:
    now = service.now()
    return {
        "room": room,
        "now": now,
        "department": department_code,
        "day": service.service_date(now),
        "streak": service.max_priority_in_row,
        "request_id": request_id,
        "feed": FEED_SEQUENCE,
        "seq_name": seq_counter(service.origin),
        "id": str(uuid.uuid4()),
        "origin": service.origin,
        "type": str(EventType.CALLED),
    }


def _is_known_request(exc: IntegrityError, request_id: str | None) -> bool:
    """Whether the statement failed because its request id is answered already (by a
    retry's first try, which committed before or while this one ran): it called nobody."""
    return request_id is not None and "call_requests" in str(exc.orig)


def _known_answer(
    known: Sequence[Any], department_code: str, request_id: str
) -> tuple[TicketInfo | None, bool]:
    """`_KNOWN_REQUEST_SQL`'s row as the answer to a request id answered before."""
    if known[0] != department_code:
        raise RequestIdReused(request_id, known[0])
    return (None if known[1] is None else _ticket_from_row(known[1:])), False


def _call_next_answer(row: Sequence[Any]) -> tuple[TicketInfo | None, bool]:
    """The call-next statement's one row as (ticket, called just now). Raises _NotARoom
    (nothing was written) when the room is not one of the department's."""
    room_ok, stored = row[0], row[1]
    if not room_ok:
        raise _NotARoom
    if row[2] is None:
        # Nobody waiting (or, with a request id answered before this statement began, its
        # answer: `requested` then fails on the key, and the caller reads the answer).
        return None, True
    if stored != 1:
        raise AssertionError(f"call-next stored {stored} events for one call")
    return _ticket_from_row(row[2:]), True


def _call_next_postgresql(
    service: QueueService,
    connection: Connection,
    department_code: str,
    room: str,
    request_id: str | None,
) -> tuple[TicketInfo | None, bool]:
    """`call_next_in_room`'s one statement on PostgreSQL, on an autocommit connection. Raises
    _NotARoom (nothing was written) when the room is not one of the department's."""
    parameters = _call_next_parameters(service, department_code, room, request_id)
    try:
        row = connection.execute(_CALL_NEXT_SQL, parameters).one()
    except IntegrityError as exc:
        if request_id is None or not _is_known_request(exc, request_id):
            raise
        known = connection.execute(_KNOWN_REQUEST_SQL, {"request_id": request_id}).one()
        return _known_answer(known, department_code, request_id)
    return _call_next_answer(row)


@functools.cache
def _psycopg_text(clause: TextClause) -> str:
    """A `text()` statement of this module as psycopg itself takes it (`:name` becomes
    `%(name)s`), compiled once by SQLAlchemy's psycopg dialect: the statement has one source."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    return str(clause.compile(dialect=PGDialect_psycopg()))  # type: ignore[no-untyped-call]


class _ConnectionLost(Exception):
    """The connection broke under the statement (e.g. PostgreSQL restarted): it may or may
    not have committed. `error` is the driver's error as SQLAlchemy raises it."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


def _as_sqlalchemy_error(
    exc: Exception, statement: str, parameters: dict[str, Any], *, lost: bool = False
) -> DBAPIError:
    """psycopg's error as SQLAlchemy would have raised it (OperationalError, IntegrityError,
    ... with `orig`): the server's answers to it (503 with Retry-After, StorageFull, the
    request id's key) stay those of the other routes."""
    import psycopg

    error = DBAPIError.instance(
        statement, parameters, exc, psycopg.Error, connection_invalidated=lost
    )
    assert isinstance(error, DBAPIError)
    return error


async def _call_next_pooled(
    service: QueueService,
    pool: AsyncConnectionPool[AsyncConnection[Any]],
    department_code: str,
    room: str,
    request_id: str | None,
) -> tuple[TicketInfo | None, bool]:
    """`_call_next_postgresql` on a connection of psycopg's own async pool, awaited on the
    caller's event loop. Raises _NotARoom as it does, _ConnectionLost when the connection broke
    under the statement, and psycopg's other errors as SQLAlchemy's."""
    import psycopg

    try:
        connection = await pool.getconn()
    except psycopg.Error as exc:  # the pool's PoolTimeout: nothing was sent
        raise _as_sqlalchemy_error(exc, "", {}) from exc
    statement = _psycopg_text(_CALL_NEXT_SQL)
    parameters = _call_next_parameters(service, department_code, room, request_id)
    try:
        try:
            cursor = await connection.execute(statement, parameters)
            row = await cursor.fetchone()
        except psycopg.IntegrityError as exc:
            error = _as_sqlalchemy_error(exc, statement, parameters)
            if request_id is None or not isinstance(error, IntegrityError):
                raise error from exc
            if not _is_known_request(error, request_id):
                raise error from exc
            statement = _psycopg_text(_KNOWN_REQUEST_SQL)
            parameters = {"request_id": request_id}
            cursor = await connection.execute(statement, parameters)
            known = await cursor.fetchone()
            assert known is not None
            return _known_answer(known, department_code, request_id)
        assert row is not None
        return _call_next_answer(row)
    except psycopg.Error as exc:
        if connection.broken or connection.closed:
            lost = _as_sqlalchemy_error(exc, statement, parameters, lost=True)
            raise _ConnectionLost(lost) from exc
        raise _as_sqlalchemy_error(exc, statement, parameters) from exc
    finally:
        # A broken connection is not pooled again: the pool opens a new one in its place.
        await pool.putconn(connection)


def ahead_of(tickets: Iterable[TicketInfo], ticket: TicketInfo) -> int:
    """People ahead of `ticket` among waiting `tickets` (for screens holding a snapshot)."""
    mine = call_order_key(ticket)
    return sum(1 for other in tickets if other.status == S.WAITING and call_order_key(other) < mine)
