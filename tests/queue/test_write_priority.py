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

from kiosk.queue import db, writers
from kiosk.queue.db import PRIORITY, make_engine, open_database
from kiosk.queue.service import QueueService
from tests.support.database import seed, trace_statements

ROOT = Path(__file__).resolve().parents[2]

BACKGROUND_WRITER = """
import sys, time
from sqlalchemy import text
import kiosk.queue.writers
from kiosk.queue.db import make_engine
kiosk.queue.writers.BACKGROUND_YIELD_S = 60  # steps aside however long the patient takes
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
    with engine.execution_options(**{db.READ_ONLY: True}).connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT who FROM log ORDER BY rowid"))]


def test_a_patient_write_goes_before_writers_that_waited_longer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "BACKGROUND_YIELD_S", 60)  # however slow this machine is
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
    monkeypatch.setattr(writers, "BACKGROUND_YIELD_S", 0.2)
    engine = _engine(tmp_path)
    gate = Path(str(engine.url.database) + db.GATE_SUFFIX)
    with gate.open("rb") as waiting_patient:
        fcntl.flock(waiting_patient, fcntl.LOCK_SH)
        _write(engine, "sync")
    assert _order(engine) == ["sync"]


def _in_flight(started: threading.Event, done: threading.Event) -> None:
    """A patient's write in flight on another thread until `done`."""
    with db.PATIENTS.patient():
        started.set()
        done.wait(30)


def test_a_background_write_in_this_process_waits_while_a_patient_is_issued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only SQLite's write lock: a background writer of the patient's own process does not
    even begin (nor compute, holding the interpreter) until the patient's issue is done."""
    monkeypatch.setattr(writers, "BACKGROUND_YIELD_S", 60)  # however slow this machine is
    engine = _engine(tmp_path)
    started, done = threading.Event(), threading.Event()
    patient = threading.Thread(target=_in_flight, args=(started, done))
    patient.start()
    assert started.wait(30)
    sync = threading.Thread(target=_write, args=(engine, "sync"))
    sync.start()
    sync.join(timeout=0.3)
    assert sync.is_alive()  # stepping aside, not writing
    _write(engine, "patient", priority=True)
    assert _order(engine) == ["patient"]
    done.set()
    patient.join(timeout=30)
    sync.join(timeout=30)
    assert _order(engine) == ["patient", "sync"]


def test_a_background_write_steps_aside_for_a_patient_for_a_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "BACKGROUND_YIELD_S", 0.2)
    engine = _engine(tmp_path)
    started, done = threading.Event(), threading.Event()
    patient = threading.Thread(target=_in_flight, args=(started, done))
    patient.start()
    try:
        assert started.wait(30)
        _write(engine, "sync")  # patients back to back never stop the sync
        assert _order(engine) == ["sync"]
    finally:
        done.set()
        patient.join(timeout=30)


def test_a_patient_thread_never_steps_aside_for_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "BACKGROUND_YIELD_S", 60)
    engine = _engine(tmp_path)
    with db.PATIENTS.patient():
        assert not db.PATIENTS.busy()
        _write(engine, "same thread")  # would wait 60 s if it stepped aside for itself
    assert _order(engine) == ["same thread"]


def test_the_switch_interval_is_short_only_while_a_patient_is_issued(tmp_path: Path) -> None:
    """While a ticket is issued, Python hands the interpreter between threads every
    PATIENT_SWITCH_INTERVAL_S (a computing thread delays the patient's that much per
    hand-over, not 5 ms); before and after, the interval is what it was."""
    engine = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    seed(engine)
    seen: list[float] = []
    trace_statements(engine, lambda _sql: seen.append(sys.getswitchinterval()))

    before = sys.getswitchinterval()
    QueueService(engine, origin="kiosk-hall-1").issue("NOI")
    assert sys.getswitchinterval() == before
    assert seen and max(seen) <= db.PATIENT_SWITCH_INTERVAL_S < before

    # Two patients at once (two threads): the interval comes back when the last is done.
    started, done = threading.Event(), threading.Event()
    other = threading.Thread(target=_in_flight, args=(started, done))
    other.start()
    assert started.wait(30)
    with db.PATIENTS.patient():
        pass
    assert sys.getswitchinterval() == db.PATIENT_SWITCH_INTERVAL_S
    done.set()
    other.join(timeout=30)
    assert sys.getswitchinterval() == before


def test_no_garbage_collection_starts_inside_a_patients_issue(tmp_path: Path) -> None:
    """The cyclic collector is paused while a ticket is issued (a full collection walks the
    whole process holding the interpreter: tens of ms in a patient's ticket), and runs again
    once the last patient in flight is done; a collector that was already off stays off."""
    import gc

    engine = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    seed(engine)
    seen: list[bool] = []
    trace_statements(engine, lambda _sql: seen.append(gc.isenabled()))

    assert gc.isenabled()
    QueueService(engine, origin="kiosk-hall-1").issue("NOI")
    assert seen and not any(seen)
    assert gc.isenabled()

    # Two patients at once (two threads): it runs again when the last is done.
    started, done = threading.Event(), threading.Event()
    other = threading.Thread(target=_in_flight, args=(started, done))
    other.start()
    assert started.wait(30)
    with db.PATIENTS.patient():
        assert not gc.isenabled()
    assert not gc.isenabled()
    done.set()
    other.join(timeout=30)
    assert gc.isenabled()

    gc.disable()
    try:
        with db.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
