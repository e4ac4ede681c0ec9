"""Alembic migrations: they build exactly the models' schema, and start-up upgrades in place."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from kiosk.queue.db import (
    HEAD_REVISION,
    _alembic_config,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    open_database,
    schema_is_current,
)
from kiosk.queue.models import Base

ROOT = Path(__file__).resolve().parents[2]


def models_on(dialect: str) -> MetaData:
    """The models' schema as built on `dialect`: without the indexes made for another one alone
    (`Index.ddl_if`), which Alembic's comparison does not leave out by itself."""
    elsewhere = {
        index.name
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if getattr(index, "_ddl_if", None) is not None and index._ddl_if.dialect != dialect
    }
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        copy = table.to_metadata(metadata)
        for index in [i for i in copy.indexes if i.name in elsewhere]:
            copy.indexes.discard(index)
    return metadata


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, models_on(engine.dialect.name)) == []
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


def test_fast_schema_check_is_pinned_to_alembic_head() -> None:
    # The check that spares start-up the migration machinery reads the head from the migration
    # files; it must name the revision Alembic itself would upgrade to.
    assert HEAD_REVISION is not None
    assert head_revision() == HEAD_REVISION


def test_open_database_migrates_only_a_database_behind_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = open_database(url)
    assert schema_is_current(engine)
    with engine.begin() as connection:
        previous = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert previous == HEAD_REVISION
    # As if the file came from an earlier release: the later migrations' own downgrades.
    command.downgrade(_alembic_config(engine), "0002")
    assert "call_requests" not in inspect(engine).get_table_names()
    assert not schema_is_current(engine)
    engine = open_database(url)
    assert schema_is_current(engine)
    assert "call_requests" in inspect(engine).get_table_names()
    assert not schema_is_current(make_engine(f"sqlite:///{tmp_path / 'new.db'}"))


IMPORT_PROBE = """
import json, sys
from kiosk.cli import main
code = main(sys.argv[1:])
heavy = ("alembic", "mako", "fastapi", "starlette", "uvicorn", "requests", "httpx", "PySide6",
         "sqlalchemy")
print(json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""


def test_kiosk_issue_on_a_current_schema_loads_no_migration_http_or_sqlalchemy_code(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'k.db'}"
    seeds = ROOT / "seeds" / "provincial-general-hospital.toml"

    def kiosk(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE, *args, "--database", database],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == expected, done.stderr
        loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
        return loaded

    expected = 0
    assert "alembic" in kiosk("seed", str(seeds))  # a new file: migrated
    # Issued through sqlite3 alone (`sqlite_issuing.issue_directly`).
    assert kiosk("issue", "NOI") == []
    assert kiosk("issue", "NOI", "--priority", "elderly_75") == []
    assert kiosk("report") == ["sqlalchemy"]
    # A refusal takes the full way, which says why as it always has.
    expected = 2
    assert kiosk("issue", "NOSUCH") == ["sqlalchemy"]


def test_upgrading_a_kiosk_with_tickets_keeps_them(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it; referenced rows (tickets -> departments) must survive.

    An upgrade in place from the release at revision 0003 failed with "FOREIGN KEY constraint
    failed" when 0005 rebuilt `departments` under tickets and rooms.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(_alembic_config(engine), "0003")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO departments (code, name_vi, name_en, prefix, color, avg_service_minutes,"
            " active, paused, directions_vi, directions_en, sort_order)"
            " VALUES ('NOI', 'Nội', 'Internal', 'A', '#000000', 5, 1, 0, '', '', 1)"
        )
        connection.exec_driver_sql(
            "INSERT INTO rooms (department_code, code, name_vi, name_en, active)"
            " VALUES ('NOI', 'P1', 'Phòng 1', 'Room 1', 1)"
        )
        connection.exec_driver_sql(
            "INSERT INTO tickets (id, department_code, service_date, number, code, status,"
            " origin, issued_at, queued_at, call_count)"
            " VALUES ('t1', 'NOI', '2026-12-01', 1, 'A001', 'waiting', 'k1',"
            " '2026-12-01 08:00:00', '2026-12-01 08:00:00', 0)"
        )
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT code FROM tickets").scalars().all() == ["A001"]
        assert connection.exec_driver_sql("SELECT count(*) FROM rooms").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        # The pooled connection that migrated enforces foreign keys again.
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
