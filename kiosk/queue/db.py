"""Engines, transactions and migrations for SQLite (kiosk) and PostgreSQL (server).

Alembic (and Mako, which it loads) is imported only to migrate: opening a database whose
schema is already current reads `alembic_version` with one query and compares it with the head
revision named in the migration files (`HEAD_REVISION`; a test pins it to Alembic's own).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option naming a read-only transaction: SQLite then begins DEFERRED, so readers
# never queue behind writers.
READ_ONLY = "kiosk_read_only"


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says what to check."""


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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = "DEFERRED" if connection.get_execution_options().get(READ_ONLY) else "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


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


_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def _head_from_files() -> str | None:
    """The revision no migration file revises (the chain is linear), read from the files."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((name, value) for name, value in _REVISION.findall(path.read_text("utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if "down_revision" in found:
                revised.add(found["down_revision"])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


HEAD_REVISION = _head_from_files()


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


def open_database(url: str, **kwargs: Any) -> Engine:
    """Open (creating if needed) and migrate the database at `url`."""
    try:
        engine = make_engine(url, **kwargs)
    except (ArgumentError, ImportError, OSError) as exc:
        # Not a URL, a driver that is not installed, a directory that cannot be made.
        try:
            shown = repr(make_url(url).render_as_string(hide_password=True))
        except ArgumentError:
            shown = "(not a database URL)"
        reason = " ".join(str(exc).split())
        raise DatabaseError(f"cannot open the database {shown}: {reason}") from None
    if not schema_is_current(engine):
        migrate(engine)
    return engine


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
