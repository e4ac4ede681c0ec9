"""Scenario 6: the kiosk's data directory fills up (a 4 MB tmpfs, as root).

Issuing must stop with the typed StorageFull (the kiosk UI maps it to a message; `kiosk issue`
prints one line and exits non-zero), and nothing already issued may be lost: after space is
freed the database reopens intact and numbering continues without a gap.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.queue.db import open_database
from kiosk.queue.errors import StorageFull
from kiosk.queue.service import QueueService
from resilience.checks import assert_kiosk_consistent, sqlite_integrity
from resilience.conftest import Recorder
from tests.support.database import seed

ORIGIN = "kiosk-hall-1"
HEADROOM = 400_000  # bytes left free after the filler: some tickets still fit
MAX_TICKETS = 20_000


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def kiosk_cli(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    kiosk = Path(sys.executable).with_name("kiosk")
    return subprocess.run(
        [str(kiosk), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "KIOSK_DATA_DIR": str(config.parent)},
    )


@pytest.mark.timeout(300)
def test_full_disk_stops_issuing_and_loses_nothing(
    tmpfs_dir: Path, tmp_path: Path, summary: Recorder
) -> None:
    url = f"sqlite:///{tmpfs_dir / 'kiosk.db'}"
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "{ORIGIN}"\n', encoding="utf-8")
    engine = open_database(url)
    seed(engine)
    service = QueueService(engine, origin=ORIGIN)
    before = [service.issue("NOI").ticket.code for _ in range(30)]
    # Into the database file: the migrations and these tickets sit in the WAL (SQLite moves it
    # only at ~4 MB), which on a small disk would leave the filler nothing to take - and then
    # removing it below would free nothing. (30 tickets are ~1.9 MB of WAL, ~63 KB each, and
    # the checkpoint needs room for the database beside it: hence 4 MB, not 2.)
    with contextlib.closing(sqlite3.connect(tmpfs_dir / "kiosk.db")) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0

    filler = tmpfs_dir / "filler"
    filler.write_bytes(b"\0" * max(0, free_bytes(tmpfs_dir) - HEADROOM))
    issued_while_filling = 0
    error: StorageFull | None = None
    for _ in range(MAX_TICKETS):
        try:
            service.issue("NOI", "elderly_75" if issued_while_filling % 7 == 0 else None)
        except StorageFull as exc:
            error = exc
            break
        issued_while_filling += 1
    assert error is not None, f"the disk never filled after {MAX_TICKETS} tickets"
    assert "\n" not in str(error) and "full" in str(error)
    # Still full: a second attempt fails the same typed way, reads still work.
    with pytest.raises(StorageFull):
        service.issue("NOI")
    assert service.department_codes()

    cli = kiosk_cli("issue", "NOI", "--database", url, config=config)
    lines = [line for line in cli.stderr.splitlines() if line.strip()]
    assert cli.returncode != 0, cli.stdout
    assert len(lines) == 1 and "full" in lines[0], cli.stderr
    assert "Traceback" not in cli.stderr and not cli.stdout.strip()

    engine.dispose()
    filler.unlink()
    engine = open_database(url)
    sqlite_integrity(engine)
    state = assert_kiosk_consistent(engine, ORIGIN)
    total = len(before) + issued_while_filling
    assert state.tickets == total, (state.tickets, total)
    again = QueueService(engine, origin=ORIGIN).issue("NOI").ticket
    assert again.number == total + 1
    assert_kiosk_consistent(engine, ORIGIN)
    engine.dispose()
    summary.record(
        "6 kiosk disk full",
        "data dir on a 4 MB tmpfs filled up while issuing",
        2,
        "StorageFull raised (service, and `kiosk issue`: one line, exit "
        f"{cli.returncode}); integrity_check; all {total} earlier tickets + events intact; "
        "numbering continues gap-free",
        total + 1,
    )
