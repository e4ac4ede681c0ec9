"""SQLite writers in order: a patient's write (issuing) gets the write lock before any other
waiting writer, in this process or another; nobody gets "database is locked" while waiting."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kiosk.queue import db
from kiosk.queue.db import PRIORITY, make_engine, open_database
from kiosk.queue.service import QueueService
from tests.support.database import seed

ROOT = Path(__file__).resolve().parents[2]

BACKGROUND_WRITER = """
import sys, time
from sqlalchemy import text
import kiosk.queue.db
from kiosk.queue.db import make_engine
kiosk.queue.db.BACKGROUND_YIELD_S = 60  # steps aside however long the patient takes
engine = make_engine(sys.argv[1])
print("waiting", flush=True)
with engine.begin() as connection:
    connection.execute(text("INSERT INTO log (who, at) VALUES ('other process', :at)"),
                       {"at": time.monotonic_ns()})
"""


def _engine(tmp_path: Path) -> Engine:
    engine = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE log (who TEXT, at INTEGER)"))
    return engine


def _write(engine: Engine, who: str, *, priority: bool = False) -> None:
    bind = engine.execution_options(**{PRIORITY: True}) if priority else engine
    with Session(bind) as session, session.begin():
        session.execute(text("INSERT INTO log (who, at) VALUES (:who, 0)"), {"who": who})


def _order(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT who FROM log ORDER BY rowid"))]


def test_a_patient_write_goes_before_writers_that_waited_longer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BACKGROUND_YIELD_S", 60)  # however slow this machine is
    engine = _engine(tmp_path)
    url = str(engine.url)
    holder = make_engine(url)
    other = subprocess.Popen(
        [sys.executable, "-c", BACKGROUND_WRITER, url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    threads = []
    with holder.begin() as connection:  # a long background transaction holds the write lock
        connection.execute(text("INSERT INTO log (who, at) VALUES ('holder', 0)"))
        assert other.stdout is not None and other.stdout.readline().strip() == "waiting"
        for who in ("sync thread 1", "sync thread 2"):
            threads.append(threading.Thread(target=_write, args=(engine, who)))
            threads[-1].start()
        time.sleep(0.5)  # every background writer is waiting now
        threads.append(
            threading.Thread(target=_write, args=(engine, "patient"), kwargs={"priority": True})
        )
        threads[-1].start()
        time.sleep(0.3)  # and the patient too
    for thread in threads:
        thread.join(timeout=30)
    assert other.wait(timeout=30) == 0
    assert other.stdout is not None
    other.stdout.close()
    holder.dispose()
    order = _order(engine)
    assert order[:2] == ["holder", "patient"], order
    assert sorted(order[2:]) == ["other process", "sync thread 1", "sync thread 2"]


def test_issuing_uses_the_patient_priority(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    seed(engine)
    writes: list[bool] = []  # whether each write transaction had the patient's priority

    from sqlalchemy import event

    @event.listens_for(engine, "begin")
    def _seen(connection: object) -> None:
        options = connection.get_execution_options()  # type: ignore[attr-defined]
        if not options.get(db.READ_ONLY):
            writes.append(bool(options.get(PRIORITY)))

    service = QueueService(engine, origin="kiosk-hall-1")
    service.issue("NOI")
    assert writes == [True]  # one write transaction; the place in line is read after it
    service.set_paused("NOI", True)
    assert writes[-1] is False


def test_a_writer_that_cannot_get_the_lock_gives_up_with_database_locked(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    impatient = make_engine(str(engine.url), busy_timeout_ms=200)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO log (who, at) VALUES ('holder', 0)"))
        with pytest.raises(OperationalError, match="database is locked"):
            _write(impatient, "late", priority=True)
    assert _order(engine) == ["holder"]


def test_background_writers_step_aside_for_a_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A patient waiting (the gate held shared) for longer than BACKGROUND_YIELD_S does not stop
    # the sync: it then competes for the lock like anyone else.
    monkeypatch.setattr(db, "BACKGROUND_YIELD_S", 0.2)
    engine = _engine(tmp_path)
    gate = Path(str(engine.url.database) + db.GATE_SUFFIX)
    with gate.open("rb") as waiting_patient:
        fcntl.flock(waiting_patient, fcntl.LOCK_SH)
        _write(engine, "sync")
    assert _order(engine) == ["sync"]
