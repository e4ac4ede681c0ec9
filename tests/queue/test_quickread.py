"""The first screen's read through `sqlite3` gives what the queue service gives on the same store.

`kiosk run` paints its department grid from `kiosk.queue.quickread` before SQLAlchemy is even
imported; every later refresh comes from `QueueService.departments()`. If the two ever differed
(a count, an estimate, a pause), the grid would jump once the service is up: each step below
changes the store through the service and compares the two readings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiosk.queue.db import HEAD_REVISION, head_revision, open_database
from kiosk.queue.departments import pause_department
from kiosk.queue.models import Department, Room
from kiosk.queue.quickread import RECENT_SERVED, QuickReader, StoreNotReady
from kiosk.queue.service import QueueService
from tests.support.database import FakeClock

ROOT = Path(__file__).resolve().parents[2]


def _same(reader: QuickReader, service: QueueService) -> None:
    quick = reader.departments()
    assert [d.model_dump() for d in quick] == [d.model_dump() for d in service.departments()]


def test_the_quick_read_equals_the_service_through_a_day(
    seeded_store: tuple[Path, Engine], clock: FakeClock
) -> None:
    path, engine = seeded_store
    service = QueueService(engine, origin="kiosk-test", clock=clock)
    reader = QuickReader.open(path, timezone=service.tz, clock=clock)
    _same(reader, service)  # nothing issued yet

    issued = [service.issue("NOI").ticket for _ in range(6)]
    service.issue("NOI", "elderly_75")
    service.issue("NHI")
    _same(reader, service)
    assert next(d for d in reader.departments() if d.code == "NOI").waiting == 7

    service.cancel(issued[5].id)  # cancelled: no longer waiting, still issued
    _same(reader, service)

    # Served tickets make the estimate a measured one (three or more).
    for ticket in issued[:4]:
        service.call(ticket.id, "101")
        clock.advance(minutes=7)
        service.serve(ticket.id)
    service.call(issued[4].id, "101")  # being served
    _same(reader, service)
    noi = next(d for d in reader.departments() if d.code == "NOI")
    assert (noi.serving, noi.waiting) == (1, 1)
    assert noi.estimated_wait_minutes > 0

    # More served than the estimate counts (the latest RECENT_SERVED), each a different length.
    room = next(d.rooms[0] for d in service.departments() if d.code == "TIEPDON")
    line = [service.issue("TIEPDON").ticket for _ in range(RECENT_SERVED + 6)]
    for minutes, ticket in enumerate(line[: RECENT_SERVED + 4], start=1):
        service.call(ticket.id, room)
        clock.advance(minutes=minutes)
        service.serve(ticket.id)
    _same(reader, service)

    service.set_paused("NOI", True)  # this kiosk's own pause
    with service.transaction() as session:  # the hospital's pause, with its reason
        pause_department(
            session, origin="server", code="NHI", paused=True, reason="Họp", by="lan", now=clock()
        )
    with Session(engine) as session, session.begin():
        session.get_one(Department, "MAT").active = False
        session.get_one(Department, "TMH").daily_capacity = 1
        for closed in session.query(Room).filter(Room.department_code == "XN").limit(1):
            closed.active = False
    service.issue("TMH")
    _same(reader, service)
    by_code = {d.code: d for d in reader.departments()}
    assert (by_code["NOI"].unavailable, by_code["NHI"].pause_reason) == ("paused", "Họp")
    assert by_code["TMH"].unavailable == "full"
    assert "MAT" not in by_code

    # The next day: yesterday's waiting ticket closed by the end-of-day job, counts from zero.
    clock.advance(days=1)
    service.issue("TIEPDON")
    assert service.close_stale_tickets() >= 1
    _same(reader, service)
    assert next(d for d in reader.departments() if d.code == "NOI").issued_today == 0


def test_a_new_missing_or_old_store_is_not_read_quickly(tmp_path: Path, clock: FakeClock) -> None:
    """The full way creates, migrates or reports it: the first screen waits for that."""
    with pytest.raises(StoreNotReady):
        QuickReader.open(tmp_path / "absent.db", timezone="Asia/Ho_Chi_Minh")
    path = tmp_path / "old.db"
    engine = open_database(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'an_older_one'")
    engine.dispose()
    with pytest.raises(StoreNotReady, match="not at"):
        QuickReader.open(path, timezone="Asia/Ho_Chi_Minh")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreNotReady):
        QuickReader.open(damaged, timezone="Asia/Ho_Chi_Minh")


def test_the_quick_schema_check_is_pinned_to_alembic_head() -> None:
    assert HEAD_REVISION is not None
    assert head_revision() == HEAD_REVISION


def test_the_quick_read_imports_no_sqlalchemy() -> None:
    probe = (
        "import sys, kiosk.queue.quickread; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'PySide6') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_store_closed_cleanly_is_read_and_left_to_the_service(
    seeded_store: tuple[Path, Engine], clock: FakeClock
) -> None:
    """After the kiosk stopped (no -wal or -shm beside the file), the read-only connection
    still reads it, and the service then writes to it as before."""
    path, engine = seeded_store
    service = QueueService(engine, origin="kiosk-test", clock=clock)
    service.issue("NOI")
    engine.dispose()
    assert not Path(f"{path}-wal").exists()
    reader = QuickReader.open(path, timezone=service.tz, clock=clock)
    assert next(d for d in reader.departments() if d.code == "NOI").waiting == 1
    service.issue("NOI")
    _same(reader, service)
    assert next(d for d in reader.departments() if d.code == "NOI").waiting == 2
