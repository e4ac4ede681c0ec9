"""Alembic environment: runs against the engine handed over by `kiosk.queue.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, text

from kiosk.queue.models import Base

# Any number: the key of the PostgreSQL advisory lock that serialises migrating processes.
_MIGRATION_LOCK_KEY = 7_355_608

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):  # pragma: no cover - only the alembic CLI lands here
    raise SystemExit("run migrations through kiosk.queue.db.migrate()")


def _foreign_keys(connection: Connection, enabled: bool) -> None:
    # Outside any transaction (SQLite ignores the pragma inside one), on the driver's connection.
    connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}"
    )


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by rebuilding it (batch mode): copy, DROP, rename. With foreign
        # keys enforced, dropping `departments` under its tickets fails, so they are checked once
        # at the end instead, as SQLite's documentation advises.
        _foreign_keys(connection, False)
    try:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Several server processes may start at once; one migrates, the others wait.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            # On SQLite, the BEGIN IMMEDIATE of kiosk.queue.db does the same.
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"a migration left rows without their parent: {broken[:5]}")
    finally:
        if sqlite:
            _foreign_keys(connection, True)
