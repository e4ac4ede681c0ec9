"""Issuing on a kiosk's SQLite store (`QueueService.issue`: `sqlite_issuing` on the engine's
driver connection) and as `kiosk issue` does (`issue_directly`: sqlite3 alone, the full way
when it does not apply) leave the very rows the ORM's path (`issue_in` in a Session) leaves,
byte for byte, and refuse the same issues with the same errors.

Two stores get the same seeds, clock, ticket and event ids and the same script; one issues
through `issue` (or `issue_directly`), the other through `issue_in`. Their tickets, events
(the stored JSON text of every payload included), counters and answers are compared after
every step.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kiosk.queue.db import PRIORITY, open_database
from kiosk.queue.errors import StorageFull
from kiosk.queue.models import Department
from kiosk.queue.service import IssuedTicket, Position, QueueService
from kiosk.queue.sqlite_issuing import IssuingRules, issue_directly
from kiosk.queue.store import clear_hold, set_hold
from tests.support.database import FakeClock, seed, trace_statements

Step = Callable[[QueueService], object]


class Store:
    def __init__(self, path: Path, clock: FakeClock, *, way: str) -> None:
        self.path = path
        self.engine = open_database(f"sqlite:///{path}")
        seed(self.engine)
        self.way = way
        self.clock = clock
        self.service = QueueService(
            self.engine, origin="kiosk-a", clock=clock, numbering_offset=1000,
            numbering_block_size=7,
        )  # fmt: skip
        self.rules = IssuingRules(
            origin="kiosk-a", tz=self.service.tz, numbering_width=3, numbering_offset=1000,
            numbering_block_size=7, priority_reasons=self.service.priority_reasons,
        )  # fmt: skip
        self.direct_issues = 0

    def issue(self, code: str, priority: str | None = None) -> IssuedTicket:
        if self.way == "direct":  # as `kiosk issue` does: the full way when it does not apply
            issued = issue_directly(self.path, self.rules, code, priority, clock=self.clock)
            if issued is None:
                return self.service.issue(code, priority)
            self.direct_issues += 1
            return issued
        if self.way == "core":
            return self.service.issue(code, priority)
        with self.service.transaction(priority=True) as session:
            return self.service.issue_in(session, code, priority)

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every stored value as SQLite holds it (the events' JSON as its text)."""
        connection = sqlite3.connect(self.path)
        try:
            return {
                table: connection.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
                for table, order in (
                    ("tickets", "id"),
                    ("events", "id"),
                    ("sequences", "name"),
                    ("local_flags", "name"),
                )
            }
        finally:
            connection.close()


@pytest.fixture(params=["core", "direct"])
def stores(
    tmp_path: Path, clock: FakeClock, request: pytest.FixtureRequest
) -> Iterator[tuple[Store, Store]]:
    core, orm = (
        Store(tmp_path / "core.db", clock, way=request.param),
        Store(tmp_path / "orm.db", clock, way="orm"),
    )
    yield core, orm
    core.engine.dispose()
    orm.engine.dispose()


@pytest.fixture
def ids_of(monkeypatch: pytest.MonkeyPatch) -> Callable[[Store], None]:
    """Ticket and event ids drawn from a counter per store: `ids_of(store)` before acting on
    a store, so that both stores give their n-th row the same id."""
    counters: dict[int, Iterator[int]] = {}
    current: list[Iterator[int]] = []

    def use(store: Store) -> None:
        current[:] = [counters.setdefault(id(store), itertools.count(1))]

    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(current[0])))
    return use


def outcome(store: Store, code: str, priority: str | None) -> object:
    try:
        return store.issue(code, priority)
    except Exception as exc:
        return (type(exc), str(exc).replace(str(store.path), "STORE"))


def change(engine: Engine, code: str, **values: object) -> None:
    with Session(engine) as session, session.begin():
        department = session.get_one(Department, code)
        for name, value in values.items():
            setattr(department, name, value)


def both(stores: tuple[Store, Store], ids_of: Callable[[Store], None], act: Step) -> None:
    for store in stores:
        ids_of(store)
        act(store.service)
    assert stores[0].rows() == stores[1].rows()


def issue_both(
    stores: tuple[Store, Store],
    ids_of: Callable[[Store], None],
    code: str,
    priority: str | None = None,
) -> object:
    answers = []
    for store in stores:
        ids_of(store)
        answers.append(outcome(store, code, priority))
    assert answers[0] == answers[1], (code, priority)
    assert stores[0].rows() == stores[1].rows(), (code, priority)
    return answers[0]


def test_core_and_orm_issue_store_the_same_rows(
    stores: tuple[Store, Store], ids_of: Callable[[Store], None], clock: FakeClock
) -> None:
    first = issue_both(stores, ids_of, "NOI")
    second = issue_both(stores, ids_of, "NOI")  # the same instant: a tie in line
    assert isinstance(first, IssuedTicket) and isinstance(second, IssuedTicket)
    assert (first.ticket.code, second.position.ahead) == ("B1001", 1)
    clock.advance(seconds=1.2345)
    urgent = issue_both(stores, ids_of, "NOI", "emergency")  # ahead of the others
    assert isinstance(urgent, IssuedTicket) and urgent.position.ahead == 0
    issue_both(stores, ids_of, "NGOAI")
    assert "no such reason" in str(issue_both(stores, ids_of, "NOI", "no such reason"))
    assert "NOSUCH" in str(issue_both(stores, ids_of, "NOSUCH"))

    issue_both(stores, ids_of, "NOI")
    issue_both(stores, ids_of, "NOI")
    # Three services measured today: estimates from them, no longer the configured average.
    for _ in range(3):
        called = []
        for store in stores:
            ids_of(store)
            called.append(store.service.call_next("NOI", "101"))
        clock.advance(minutes=7, seconds=13, microseconds=123)
        for store, ticket in zip(stores, called, strict=True):
            assert ticket is not None
            ids_of(store)
            store.service.serve(ticket.id)
    measured = issue_both(stores, ids_of, "NOI")
    assert isinstance(measured, IssuedTicket)
    # 2 ahead x 7.2 minutes measured / 3 rooms
    assert measured.position == Position(ahead=2, estimated_wait_minutes=5)

    both(stores, ids_of, lambda s: s.set_paused("NGOAI", True))
    assert "paused" in str(issue_both(stores, ids_of, "NGOAI"))
    both(stores, ids_of, lambda s: s.set_paused("NGOAI", False))
    for store in stores:
        change(store.engine, "NGOAI", hospital_paused=True)
    assert "paused" in str(issue_both(stores, ids_of, "NGOAI"))
    for store in stores:
        change(store.engine, "NGOAI", hospital_paused=False, active=False)
    assert "inactive" in str(issue_both(stores, ids_of, "NGOAI"))
    for store in stores:
        change(store.engine, "NGOAI", active=True, daily_capacity=2)
    issue_both(stores, ids_of, "NGOAI")
    assert "full" in str(issue_both(stores, ids_of, "NGOAI"))  # the daily capacity
    issue_both(stores, ids_of, "NOI")
    assert "full" in str(issue_both(stores, ids_of, "NOI"))  # the numbering block (7)
    clock.advance(hours=24)  # a new service date: numbering restarts
    again = issue_both(stores, ids_of, "NOI", "child_under_6")
    assert isinstance(again, IssuedTicket) and again.ticket.number == 1001
    rows = stores[0].rows()
    assert len(rows["tickets"]) == 10
    assert len(rows["events"]) == 10 + 3 + 3  # issued, called and served
    if stores[0].way == "direct":  # every issue that was not refused took the direct way
        assert stores[0].direct_issues == 10


def test_an_issuing_hold_and_a_full_disk_refuse_alike(
    stores: tuple[Store, Store], ids_of: Callable[[Store], None], clock: FakeClock
) -> None:
    for store in stores:
        with Session(store.engine) as session, session.begin():
            set_hold(session, "restored from a backup", 1000, clock())
    assert "restored from a backup" in str(issue_both(stores, ids_of, "NOI"))
    assert "restored from a backup" in str(issue_both(stores, ids_of, "NOSUCH"))
    for store in stores:
        with Session(store.engine) as session, session.begin():
            set_hold(session, "restored under another block", 0, clock())
    assert isinstance(issue_both(stores, ids_of, "NOI"), IssuedTicket)
    for store in stores:
        with Session(store.engine) as session, session.begin():
            clear_hold(session)

    def disk_full(connection: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    class FullAtCommit(sqlite3.Connection):
        """The direct way's own connection, whose COMMIT finds the disk full."""

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql == "COMMIT":
                raise sqlite3.OperationalError("database or disk is full")
            return super().execute(sql, *args)

    connect = sqlite3.connect

    def connect_full(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        return connect(database, *args, factory=FullAtCommit, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        for store in stores:
            patch.setattr(store.engine.dialect, "do_commit", disk_full)
        patch.setattr(sqlite3, "connect", connect_full)  # the engines' connections are made
        answer = issue_both(stores, ids_of, "NOI")
    assert isinstance(answer, tuple) and answer[0] is StorageFull
    again = issue_both(stores, ids_of, "NOI")
    assert isinstance(again, IssuedTicket) and again.ticket.number == 1002
    assert clock().date() == dt.date(2026, 11, 28)


def test_a_rehearsed_issue_stores_nothing(
    stores: tuple[Store, Store], ids_of: Callable[[Store], None]
) -> None:
    core, orm = stores
    issue_both(stores, ids_of, "NOI")
    before = core.rows()
    ids_of(core)
    rehearsed = core.service.rehearse_issue("NOI")
    assert core.rows() == before
    ids_of(orm)
    assert rehearsed == orm.issue("NOI")  # what the next issue gives


def test_issuing_on_sqlite_is_five_statements_without_a_read_transaction(
    stores: tuple[Store, Store], clock: FakeClock
) -> None:
    from sqlalchemy import event

    core = stores[0]
    core.service.issue("NOI")  # numbering starts, statements are compiled
    clock.advance(seconds=1)  # no tie in line: no second read
    statements: list[str] = []
    sql_seen: list[str] = []  # by SQLAlchemy's engine events

    # The statements run on the driver's connection, past SQLAlchemy's events: SQLite's trace
    # callback sees every one of them (and BEGIN, COMMIT, the pragmas around BEGIN).
    trace_statements(core.engine, lambda sql: statements.append(sql.split()[0]))

    @event.listens_for(core.engine, "before_cursor_execute")
    def _seen(*args: Any) -> None:
        sql_seen.append(args[2].split()[0])

    begins: list[dict[str, Any]] = []

    @event.listens_for(core.engine, "begin")
    def _begun(connection: Any) -> None:
        begins.append(dict(connection.get_execution_options()))

    core.service.issue("NOI")
    # BEGIN IMMEDIATE with our own retries (busy_timeout 0 around it); the department and
    # hold; the counters; the ticket; the event; COMMIT; the place in line.
    assert statements == [
        *("PRAGMA", "BEGIN", "PRAGMA"),
        *("SELECT", "INSERT", "INSERT", "INSERT"),
        *("COMMIT", "SELECT"),
    ]
    # None of them took SQLAlchemy's execute path (its CPU was a third of an issue's).
    assert sql_seen == []
    # The write transaction has the patient's priority; the read after it begins nothing
    # (no BEGIN after COMMIT above: it is its own read transaction).
    assert [PRIORITY in b for b in begins] == [True]


def test_a_full_disk_at_a_statement_of_the_issue_is_storage_full(
    stores: tuple[Store, Store],
) -> None:
    """The issue's statements run on the driver's connection: SQLite's SQLITE_FULL at one of
    them (here the database may grow no further) is StorageFull all the same, nothing of the
    issue is stored, and the store issues again once there is room."""
    from sqlalchemy import event

    core = stores[0]
    core.service.issue("NOI")
    limit: list[int] = []

    @event.listens_for(core.engine, "checkout")
    def _no_room(dbapi_connection: sqlite3.Connection, *_: Any) -> None:
        if limit:
            page_count = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {page_count}")

    limit.append(1)
    before = core.rows()
    with pytest.raises(StorageFull) as raised:
        for _ in range(200):  # until a statement needs a page more
            before = core.rows()
            core.service.issue("NGOAI")
    cause = raised.value.__cause__
    assert isinstance(cause, DBAPIError) and isinstance(cause.orig, sqlite3.OperationalError)
    assert str(cause.statement).startswith("INSERT")  # not the commit
    assert core.rows() == before
    limit.clear()
    core.engine.dispose()  # the limit is the connections' own
    assert core.service.issue("NGOAI").ticket.department == "NGOAI"


@pytest.mark.parametrize("priority", [True, False])
def test_the_place_in_line_is_counted_from_the_waiting_line_index(
    stores: tuple[Store, Store], priority: bool
) -> None:
    """SQLite's planner would read every waiting ticket's row through ix_tickets_queue; the
    place is counted from the waiting line's partial index."""
    from kiosk.queue.sqlite_issuing import PLACE_SQL, TIED_SQL

    params = {"department": "NOI", "day": "2026-11-28", "served": "served", "queued_at": "x"}
    connection = sqlite3.connect(stores[0].path)
    try:
        for sql in (PLACE_SQL[priority, True], TIED_SQL[priority, True]):
            plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            tickets = [step for step in plan if step.startswith("SEARCH t ")]
            waiting_line = [step for step in tickets if "ix_tickets_waiting_line" in step]
            # The place's three counts (the served times are read by status), or the tie.
            assert len(waiting_line) == (3 if sql in PLACE_SQL.values() else 1), plan
    finally:
        connection.close()
