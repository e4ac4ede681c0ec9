"""Alembic migrations: they build exactly the models' schema, and start-up upgrades in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kiosk.queue.db import current_revision, head_revision, migrate, open_database
from kiosk.queue.models import Base

ROOT = Path(__file__).resolve().parents[2]


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(engine) == head_revision()


def test_migrate_again_is_a_no_op(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) == tables


def test_sqlite_settings(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }


def test_several_processes_migrating_a_new_file_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = "import sys; from kiosk.queue.db import open_database; open_database(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for _ in range(5)
    ]
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    assert current_revision(open_database(url)) == head_revision()
