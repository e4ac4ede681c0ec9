"""Alembic environment: runs against the engine handed over by `kiosk.queue.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from kiosk.queue.models import Base

# Any number: the key of the PostgreSQL advisory lock that serialises migrating processes.
_MIGRATION_LOCK_KEY = 7_355_608

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):  # pragma: no cover - only the alembic CLI lands here
    raise SystemExit("run migrations through kiosk.queue.db.migrate()")

with engine.connect() as connection, connection.begin():
    if connection.dialect.name == "postgresql":
        # Several server processes may start at once; one migrates, the others wait.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    # On SQLite, the BEGIN IMMEDIATE of kiosk.queue.db does the same.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
