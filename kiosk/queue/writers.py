"""Who writes a kiosk's SQLite store, and when: the pragmas of every connection, BEGIN
IMMEDIATE with a patient's write first (in this process and across processes, through the gate
file next to the store), the patients' lane and the collector pause.

Standard library only: `kiosk issue` issues through these without loading SQLAlchemy
(`kiosk/queue/sqlite_issuing.py`); the engines of `kiosk/queue/db.py` use the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Waiting for SQLite's write lock, our own short retries replace SQLite's busy handler (which
# sleeps 25-100 ms between tries once it has waited a little): a patient's write tries again
# every 0.2-1 ms; every other writer backs off from 1 ms to 5 ms and steps aside whenever a
# patient's write is waiting (the gate file below).
PRIORITY_RETRY_S = (0.0002, 0.001)
BACKGROUND_RETRY_S = (0.001, 0.005)
# A background writer steps aside for patients this long at most, then competes like them:
# patients issuing back to back never stop the sync.
BACKGROUND_YIELD_S = 0.25
GATE_SUFFIX = "-gate"
# While a patient's write is in flight in this process, the interpreter hands its lock (the
# GIL) from thread to thread at least this often, not every 5 ms (Python's default): a thread
# that still computes (the sync, before it reaches a point where it steps aside) delays the
# patient's thread by this much per hand-over, not by 5 ms.
PATIENT_SWITCH_INTERVAL_S = 0.0005


class CollectorPause:
    """The cyclic garbage collector paused while any of its holders is inside (a patient's
    issue; a background writer's write transaction), in whichever thread.

    A full collection walks every object of the process holding the interpreter: 70-100 ms in
    a process that has not frozen its start-up objects. Triggered by the sync's allocations
    while it held SQLite's write lock, it kept that lock 100-170 ms (every writer of the store
    waited it out); inside a patient's issue, or while a patient's thread waited for the
    interpreter, the patient waited it out. Paused, the collection is only put off: the
    allocation counts keep going, and the first allocation after the last holder leaves starts
    it, outside any write lock. Nesting and threads share one count; a collector that was
    already disabled (start-up, `kiosk/__main__.py`) is left so."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._resume = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._count == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if self._count == 0 and self._resume:
                    gc.enable()


collector_paused = CollectorPause()


class _Handover:
    """Who in this process needs the interpreter handed over quickly now (a patient's write
    on a kiosk, a push being judged on the server), and the switch interval to restore once
    nobody does: one count for all of them, so one ending never restores the interval while
    another is still in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._saved = sys.getswitchinterval()

    @contextmanager
    def quick(self, interval: float = PATIENT_SWITCH_INTERVAL_S) -> Iterator[None]:
        """Inside, the switch interval is `interval` at most."""
        with self._lock:
            if self._count == 0:
                self._saved = sys.getswitchinterval()
            self._count += 1
            sys.setswitchinterval(min(sys.getswitchinterval(), interval))
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                if self._count == 0:
                    sys.setswitchinterval(self._saved)


HANDOVER = _Handover()


class PatientLane:
    """The patients' writes in flight in this process (issuing: the write transaction and the
    read of the ticket's place in line after it).

    Other threads of the process step aside for them whole, not only from SQLite's write lock:
    the interpreter runs one thread at a time, and a thread computing in the background (the
    sync parsing and applying a pulled backlog) took it back from the patient's thread at each
    of its statements and kept it for up to `sys.getswitchinterval()` (5 ms) each time - an
    issue of a dozen statements waited tens of ms. A background writer waits in
    `step_aside` (asleep, so it holds neither the write lock nor the interpreter) before it
    begins a write transaction, and ends one it is in between its steps when `busy()`; for
    BACKGROUND_YIELD_S at most, so patients back to back never stop it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._local = threading.local()

    @contextlib.contextmanager
    def patient(self) -> Iterator[None]:
        """Around a patient's write; while any is in flight the switch interval is
        PATIENT_SWITCH_INTERVAL_S at most, and no garbage collection starts
        (`collector_paused`)."""
        self._local.depth = getattr(self._local, "depth", 0) + 1
        with HANDOVER.quick(PATIENT_SWITCH_INTERVAL_S):
            with self._changed:
                self._count += 1
            try:
                with collector_paused():
                    yield
            finally:
                self._local.depth -= 1
                with self._changed:
                    self._count -= 1
                    if self._count == 0:
                        self._changed.notify_all()

    def busy(self) -> bool:
        """Whether a patient's write is in flight in another thread of this process (one
        attribute read: cheap enough between every two steps of a background transaction)."""
        return self._count > getattr(self._local, "depth", 0)

    def step_aside(self, timeout: float | None = None) -> bool:
        """Wait until no patient's write is in flight in another thread, `timeout` seconds at
        most (BACKGROUND_YIELD_S if None); whether none is."""
        if not self.busy():
            return True
        with self._changed:
            return self._changed.wait_for(
                lambda: not self.busy(), BACKGROUND_YIELD_S if timeout is None else timeout
            )


PATIENTS = PatientLane()


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def open_gate(gate: Path | None) -> int | None:
    """The gate file, opened for flock (read-only is enough); None if it cannot be."""
    if gate is None:
        return None
    try:
        return os.open(gate, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as exc:  # e.g. a directory we may not write to: no priority, still safe
        log.debug("no write gate %s: %s", gate, exc)
        return None


def begin_immediate(
    dbapi: sqlite3.Connection,
    *,
    gate: Path | None,
    priority: bool,
    timeout_s: float,
    busy_timeout_ms: int,
) -> None:
    """BEGIN IMMEDIATE with our own retries; a patient's write first.

    In this process, any other writer first waits while a patient's write is in flight
    (`PATIENTS`). The gate file next to the database orders the writers of every process: a
    patient's write holds a shared lock on it while it waits for SQLite's write lock; any other
    writer tries BEGIN only while it can take the gate exclusively (for that instant), so it
    never takes the write lock from under a waiting patient - for BACKGROUND_YIELD_S at most
    (both waits together), then it competes like them, so a stream of patients cannot stop it.
    Gives up (sqlite3.OperationalError, "database is locked") after `timeout_s`, like the busy
    timeout it replaces.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    if not priority:
        PATIENTS.step_aside()  # a patient's issue in this process first
    delay, longest = PRIORITY_RETRY_S if priority else BACKGROUND_RETRY_S
    fd = open_gate(gate)
    try:
        if priority and fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits at most for another writer's BEGIN
        dbapi.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                gated = priority or fd is None or time.monotonic() - started > BACKGROUND_YIELD_S
                if not gated and fd is not None:
                    with contextlib.suppress(BlockingIOError):
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        gated = True
                if gated:
                    try:
                        dbapi.execute("BEGIN IMMEDIATE")
                        return
                    except sqlite3.OperationalError as exc:
                        if not is_busy(exc) or time.monotonic() >= deadline:
                            raise
                    finally:
                        if not priority and fd is not None:
                            fcntl.flock(fd, fcntl.LOCK_UN)  # a no-op if it was not taken
                elif time.monotonic() >= deadline:
                    raise sqlite3.OperationalError("database is locked")
                time.sleep(delay)
                delay = min(delay * 2, longest)
        finally:
            # Inside the transaction, statements wait as before (e.g. while a reader recovers
            # the WAL after a crash).
            dbapi.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    finally:
        if fd is not None:
            os.close(fd)  # releases the shared lock


def ensure_wal(cursor: sqlite3.Cursor) -> None:
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


def configure_connection(dbapi: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Every connection to a kiosk's store: BEGIN is ours to send (autocommit at the driver),
    WAL, synchronous=FULL (a committed number survives a power cut), foreign keys, a busy
    timeout for statements inside a transaction."""
    dbapi.isolation_level = None
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        ensure_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def gate_of(database: Path) -> Path:
    """The gate file that orders the writers of the SQLite file `database`."""
    return database.with_name(database.name + GATE_SUFFIX)
