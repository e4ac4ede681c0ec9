"""Engines, transactions and migrations for SQLite (kiosk) and PostgreSQL (server).

Alembic (and Mako, which it loads) is imported only to migrate: opening a database whose
schema is already current reads `alembic_version` with one query and compares it with the head
revision named in the migration files (`HEAD_REVISION`; a test pins it to Alembic's own).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.queue.errors import DatabaseError as DatabaseError
from kiosk.queue.quickread import HEAD_REVISION as HEAD_REVISION
from kiosk.queue.quickread import MIGRATIONS_DIR as MIGRATIONS_DIR

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_POOL_SIZE = 20
POSTGRES_POOL_OVERFLOW = 20
# Execution option naming a read-only transaction: SQLite then begins DEFERRED, so readers
# never queue behind writers.
READ_ONLY = "kiosk_read_only"
# Execution option (with READ_ONLY) naming reads that need no snapshot in common (each
# statement sees the database as it is then): on SQLite no BEGIN at all, each statement is its
# own read transaction, with no BEGIN and ROLLBACK around it.
SINGLE_READS = "kiosk_single_reads"
# Execution option naming a patient's write (issuing a ticket): on SQLite it gets the write lock
# before any other writer that is waiting, in this process or another.
PRIORITY = "kiosk_priority"
# Waiting for SQLite's write lock, our own short retries replace SQLite's busy handler (which
# sleeps 25-100 ms between tries once it has waited a little): a patient's write tries again
# every 0.2-1 ms; every other writer backs off from 1 ms to 5 ms and steps aside whenever a
# patient's write is waiting (the gate file below).
PRIORITY_RETRY_S = (0.0002, 0.001)
BACKGROUND_RETRY_S = (0.001, 0.005)
# A background writer steps aside for patients this long at most, then competes like them:
# patients issuing back to back never stop the sync.
BACKGROUND_YIELD_S = 0.25
GATE_SUFFIX = "-gate"
# While a patient's write is in flight in this process, the interpreter hands its lock (the
# GIL) from thread to thread at least this often, not every 5 ms (Python's default): a thread
# that still computes (the sync, before it reaches a point where it steps aside) delays the
# patient's thread by this much per hand-over, not by 5 ms.
PATIENT_SWITCH_INTERVAL_S = 0.0005


class CollectorPause:
    """The cyclic garbage collector paused while any of its holders is inside (a patient's
    issue; a background writer's write transaction), in whichever thread.

    A full collection walks every object of the process holding the interpreter: 70-100 ms in
    a process that has not frozen its start-up objects. Triggered by the sync's allocations
    while it held SQLite's write lock, it kept that lock 100-170 ms (every writer of the store
    waited it out); inside a patient's issue, or while a patient's thread waited for the
    interpreter, the patient waited it out. Paused, the collection is only put off: the
    allocation counts keep going, and the first allocation after the last holder leaves starts
    it, outside any write lock. Nesting and threads share one count; a collector that was
    already disabled (start-up, `kiosk/__main__.py`) is left so."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._resume = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._count == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if self._count == 0 and self._resume:
                    gc.enable()


collector_paused = CollectorPause()


class _Handover:
    """Who in this process needs the interpreter handed over quickly now (a patient's write
    on a kiosk, a push being judged on the server), and the switch interval to restore once
    nobody does: one count for all of them, so one ending never restores the interval while
    another is still in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._saved = sys.getswitchinterval()

    @contextmanager
    def quick(self, interval: float = PATIENT_SWITCH_INTERVAL_S) -> Iterator[None]:
        """Inside, the switch interval is `interval` at most."""
        with self._lock:
            if self._count == 0:
                self._saved = sys.getswitchinterval()
            self._count += 1
            sys.setswitchinterval(min(sys.getswitchinterval(), interval))
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if self._count == 0:
                    sys.setswitchinterval(self._saved)


HANDOVER = _Handover()


class PatientLane:
    """The patients' writes in flight in this process (issuing: the write transaction and the
    read of the ticket's place in line after it).

    Other threads of the process step aside for them whole, not only from SQLite's write lock:
    the interpreter runs one thread at a time, and a thread computing in the background (the
    sync parsing and applying a pulled backlog) took it back from the patient's thread at each
    of its statements and kept it for up to `sys.getswitchinterval()` (5 ms) each time - an
    issue of a dozen statements waited tens of ms. A background writer waits in
    `step_aside` (asleep, so it holds neither the write lock nor the interpreter) before it
    begins a write transaction, and ends one it is in between its steps when `busy()`; for
    BACKGROUND_YIELD_S at most, so patients back to back never stop it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._local = threading.local()

    @contextlib.contextmanager
    def patient(self) -> Iterator[None]:
        """Around a patient's write; while any is in flight the switch interval is
        PATIENT_SWITCH_INTERVAL_S at most, and no garbage collection starts
        (`collector_paused`)."""
        self._local.depth = getattr(self._local, "depth", 0) + 1
        with HANDOVER.quick(PATIENT_SWITCH_INTERVAL_S):
            with self._changed:
                self._count += 1
            try:
                with collector_paused():
                    yield
            finally:
                self._local.depth -= 1
                with self._changed:
                    self._count -= 1
                    if self._count == 0:
                        self._changed.notify_all()

    def busy(self) -> bool:
        """Whether a patient's write is in flight in another thread of this process (one
        attribute read: cheap enough between every two steps of a background transaction)."""
        return self._count > getattr(self._local, "depth", 0)

    def step_aside(self, timeout: float | None = None) -> bool:
        """Wait until no patient's write is in flight in another thread, `timeout` seconds at
        most (BACKGROUND_YIELD_S if None); whether none is."""
        if not self.busy():
            return True
        with self._changed:
            return self._changed.wait_for(
                lambda: not self.busy(), BACKGROUND_YIELD_S if timeout is None else timeout
            )


PATIENTS = PatientLane()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(
    url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """An engine whose transactions are safe for issuing numbers.

    SQLite: WAL, synchronous=FULL, foreign keys, a busy timeout, and every write transaction
    opened with BEGIN IMMEDIATE, because a deferred transaction that reads and then writes cannot
    upgrade its lock under concurrency ("database is locked").
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        # As many connections as the server has request threads (AnyIO's default 40), so no
        # request waits for a connection while a thread is free.
        kwargs.setdefault("pool_size", POSTGRES_POOL_SIZE)
        kwargs.setdefault("max_overflow", POSTGRES_POOL_OVERFLOW)
        return create_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", busy_timeout_ms / 1000)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's begin event below emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            _ensure_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    gate = write_gate(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(SINGLE_READS):
            return  # the driver is in autocommit mode (isolation_level None, above)
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        begin_immediate(
            connection.connection.driver_connection,
            gate=gate,
            priority=bool(options.get(PRIORITY)),
            timeout_s=busy_timeout_ms / 1000,
            busy_timeout_ms=busy_timeout_ms,
        )

    return engine


def write_gate(engine: Engine) -> Path | None:
    """The gate file that orders the writers of an SQLite file (None: not a file, or not
    SQLite)."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or "mode=memory" in str(url):
        return None
    return Path(database).with_name(Path(database).name + GATE_SUFFIX)


class PatientWatch:
    """Tells a background writer, between the steps of its transaction, that a patient's
    write is waiting for the write lock, so it commits at once and lets it in (a sync
    applying a page of events, say). Cheap: one non-blocking flock per question."""

    def __init__(self, engine: Engine) -> None:
        self._fd = _open_gate(write_gate(engine))

    def waiting(self) -> bool:
        if self._fd is None:
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # held shared: a patient's write waits (or another writer's BEGIN)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> PatientWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _open_gate(gate: Path | None) -> int | None:
    """The gate file, opened for flock (read-only is enough); None if it cannot be."""
    if gate is None:
        return None
    try:
        return os.open(gate, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as exc:  # e.g. a directory we may not write to: no priority, still safe
        log.debug("no write gate %s: %s", gate, exc)
        return None


def begin_immediate(
    dbapi: sqlite3.Connection,
    *,
    gate: Path | None,
    priority: bool,
    timeout_s: float,
    busy_timeout_ms: int,
) -> None:
    """BEGIN IMMEDIATE with our own retries; a patient's write first.

    In this process, any other writer first waits while a patient's write is in flight
    (`PATIENTS`). The gate file next to the database orders the writers of every process: a
    patient's write holds a shared lock on it while it waits for SQLite's write lock; any other
    writer tries BEGIN only while it can take the gate exclusively (for that instant), so it
    never takes the write lock from under a waiting patient - for BACKGROUND_YIELD_S at most
    (both waits together), then it competes like them, so a stream of patients cannot stop it.
    Gives up (OperationalError, "database is locked") after `timeout_s`, like the busy timeout
    it replaces.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    if not priority:
        PATIENTS.step_aside()  # a patient's issue in this process first
    delay, longest = PRIORITY_RETRY_S if priority else BACKGROUND_RETRY_S
    fd = _open_gate(gate)
    try:
        if priority and fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits at most for another writer's BEGIN
        dbapi.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                gated = priority or fd is None or time.monotonic() - started > BACKGROUND_YIELD_S
                if not gated and fd is not None:
                    with contextlib.suppress(BlockingIOError):
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        gated = True
                if gated:
                    try:
                        dbapi.execute("BEGIN IMMEDIATE")
                        return
                    except sqlite3.OperationalError as exc:
                        if not _is_busy(exc) or time.monotonic() >= deadline:
                            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
                    finally:
                        if not priority and fd is not None:
                            fcntl.flock(fd, fcntl.LOCK_UN)  # a no-op if it was not taken
                elif time.monotonic() >= deadline:
                    raise OperationalError(
                        "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                    )
                time.sleep(delay)
                delay = min(delay * 2, longest)
        finally:
            # Inside the transaction, statements wait as before (e.g. while a reader recovers
            # the WAL after a crash).
            dbapi.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    finally:
        if fd is not None:
            os.close(fd)  # releases the shared lock


def _ensure_wal(cursor: sqlite3.Cursor) -> None:
    # WAL is a property of the file: set it once. Several processes switching a new file at the
    # same moment get "database is locked", so retry briefly.
    for attempt in range(50):
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            time.sleep(0.02 * (attempt + 1))
    cursor.execute("PRAGMA journal_mode = WAL")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reads only: on SQLite it does not take the write lock."""
    with Session(engine.execution_options(**{READ_ONLY: True})) as session:
        yield session


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest version; safe to call from several processes at once."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())  # psycopg's messages span lines
        raise DatabaseError(f"cannot migrate the database {engine.url!r}: {reason}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    return script.get_current_head()


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at HEAD_REVISION, without loading Alembic (one query)."""
    if HEAD_REVISION is None:
        return False
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no alembic_version table yet (a new database), or not reachable
        return False
    return [row[0] for row in rows] == [HEAD_REVISION]


def open_engine(url: str, **kwargs: Any) -> Engine:
    """`make_engine`, with a URL that is not one, a driver that is not installed or a
    directory that cannot be made reported as a DatabaseError in one line."""
    try:
        return make_engine(url, **kwargs)
    except (ArgumentError, ImportError, OSError) as exc:
        try:
            shown = repr(make_url(url).render_as_string(hide_password=True))
        except ArgumentError:
            shown = "(not a database URL)"
        reason = " ".join(str(exc).split())
        raise DatabaseError(f"cannot open the database {shown}: {reason}") from None


def open_database(url: str, **kwargs: Any) -> Engine:
    """Open (creating if needed) and migrate the database at `url`."""
    engine = open_engine(url, **kwargs)
    if not schema_is_current(engine):
        migrate(engine)
    return engine


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
