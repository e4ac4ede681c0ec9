"""`kiosk backup` copies a live kiosk database consistently."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.commands.ops import backup_sqlite
from kiosk.queue.db import open_database
from kiosk.queue.models import Event, Ticket
from tests.support.database import seed

ROOT = Path(__file__).resolve().parents[2]
KIOSK = [sys.executable, "-m", "kiosk"]


def test_backup_while_tickets_are_being_issued(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    url = f"sqlite:///{db}"
    seed(open_database(url))
    issuer = subprocess.Popen(
        [sys.executable, "-m", "tests.queue.issuer_process", url, "300"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert issuer.stdout is not None
    assert issuer.stdout.readline().strip() == "ready"
    copies = []
    for i in range(3):
        issuer.stdout.readline()  # it is issuing right now
        target = tmp_path / "backups" / f"copy-{i}.db"
        backup_sqlite(db, target)
        copies.append(target)
    issuer.communicate(timeout=120)
    assert issuer.returncode == 0

    for copy in copies:
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        engine = open_database(f"sqlite:///{copy}")
        with Session(engine) as session:
            numbers = sorted(n for n in session.scalars(select(Ticket.number)) if n is not None)
            issued = session.scalars(select(Event.ticket_id).where(Event.type == "ticket.issued"))
            assert numbers == list(range(1, len(numbers) + 1))
            assert len(set(issued)) == len(numbers), "a consistent cut: each ticket with its event"
        engine.dispose()


def test_backup_command_and_refusals(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    seed(open_database(f"sqlite:///{db}"))
    kiosk = [sys.executable, "-m", "kiosk"]
    target = tmp_path / "b.db"
    ok = subprocess.run(
        [*kiosk, "backup", str(target), "--database", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "integrity ok" in ok.stdout and target.exists()
    refused = subprocess.run(
        [*kiosk, "backup", str(target), "--database", "postgresql+psycopg://u@h/db"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode == 2 and "pg_dump" in refused.stderr
    missing = subprocess.run(
        [*kiosk, "backup", str(target), "--database", f"sqlite:///{tmp_path / 'none.db'}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode == 2 and "no database" in missing.stderr


def test_backup_into_a_directory_keeps_n_days(tmp_path: Path) -> None:
    import datetime as dt

    from kiosk.commands.ops import prune_backups

    db = tmp_path / "kiosk.db"
    seed(open_database(f"sqlite:///{db}"))
    backups = tmp_path / "backups"
    backups.mkdir()
    today = dt.date.today()
    old = backups / f"kiosk-{today - dt.timedelta(days=20):%Y-%m-%d}.db"
    recent = backups / f"kiosk-{today - dt.timedelta(days=2):%Y-%m-%d}.db"
    other = backups / "kiosk-manual-copy.db"
    for path in (old, recent, other):
        path.write_bytes(b"")
    result = subprocess.run(
        [*KIOSK, "backup", f"{backups}/", "--keep-days", "14", "--database", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    copy = backups / f"kiosk-{today:%Y-%m-%d}.db"
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not old.exists() and recent.exists() and other.exists()
    assert f"removed {old}" in result.stdout
    assert prune_backups(backups, 1, today + dt.timedelta(days=1)) == sorted([copy, recent])


def test_keep_days_needs_a_directory(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    seed(open_database(f"sqlite:///{db}"))
    result = subprocess.run(
        [
            *KIOSK,
            "backup",
            str(tmp_path / "one.db"),
            "--keep-days",
            "3",
            "--database",
            f"sqlite:///{db}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "needs a directory" in result.stderr


def test_an_unwritable_target_is_named_and_the_store_is_not_called_damaged(
    tmp_path: Path,
) -> None:
    """The store is fine; the backup's place is not. Telling IT to restore a backup here would
    throw away a healthy store."""
    db = tmp_path / "kiosk.db"
    seed(open_database(f"sqlite:///{db}"))
    for target in ("/proc/kiosk.db", "/proc/no-such-dir/kiosk.db"):
        result = subprocess.run(
            [*KIOSK, "backup", target, "--database", f"sqlite:///{db}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert f"cannot write the backup {target}" in result.stderr
        assert "damaged" not in result.stderr and "Traceback" not in result.stderr


def test_a_store_that_is_not_a_database_is_called_damaged(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    db.write_bytes(b"this is not a SQLite file at all" * 200)
    result = subprocess.run(
        [*KIOSK, "backup", str(tmp_path / "b.db"), "--database", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "damaged" in result.stderr
    assert "Traceback" not in result.stderr
