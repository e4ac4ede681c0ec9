"""Engines, transactions and migrations for SQLite (kiosk) and PostgreSQL (server).

Alembic (and Mako, which it loads) is imported only to migrate: opening a database whose
schema is already current reads `alembic_version` with one query and compares it with the head
revision named in the migration files (`HEAD_REVISION`; a test pins it to Alembic's own).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
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
from kiosk.queue.writers import GATE_SUFFIX as GATE_SUFFIX
from kiosk.queue.writers import HANDOVER as HANDOVER
from kiosk.queue.writers import PATIENT_SWITCH_INTERVAL_S as PATIENT_SWITCH_INTERVAL_S
from kiosk.queue.writers import PATIENTS as PATIENTS
from kiosk.queue.writers import SQLITE_BUSY_TIMEOUT_MS as SQLITE_BUSY_TIMEOUT_MS
from kiosk.queue.writers import begin_immediate as begin_immediate
from kiosk.queue.writers import collector_paused as collector_paused
from kiosk.queue.writers import configure_connection, gate_of, open_gate

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

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
        # SQLAlchemy's begin event below emits BEGIN itself.
        configure_connection(dbapi_connection, busy_timeout_ms)

    gate = write_gate(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(SINGLE_READS):
            return  # the driver is in autocommit mode (isolation_level None, above)
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        try:
            begin_immediate(
                connection.connection.driver_connection,
                gate=gate,
                priority=bool(options.get(PRIORITY)),
                timeout_s=busy_timeout_ms / 1000,
                busy_timeout_ms=busy_timeout_ms,
            )
        except sqlite3.OperationalError as exc:
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc

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
    return gate_of(Path(database))


class PatientWatch:
    """Tells a background writer, between the steps of its transaction, that a patient's
    write is waiting for the write lock, so it commits at once and lets it in (a sync
    applying a page of events, say). Cheap: one non-blocking flock per question."""

    def __init__(self, engine: Engine) -> None:
        self._fd = open_gate(write_gate(engine))

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
