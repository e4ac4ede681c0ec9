"""Where a slow issue's time goes, for `bench_contention` (BENCH_TRACE=1).

Installed in each process that writes the store (the bench's own and the second issuer): it
times every write transaction of the store (from BEGIN IMMEDIATE granted to COMMIT done, by
whom: the sync thread, the bench's issuing thread, the other process) and, for each issue,

- its thread's own CPU time and its time runnable but not running (Linux
  /proc/thread-self/schedstat: the machine's CPUs were busy),
- its wait for SQLite's write lock (`begin_immediate`), split afterwards by who held the lock
  meanwhile (the holds of both processes, on one monotonic clock); the part of that wait when
  nobody held it is time spent getting the interpreter back after a retry's sleep,
- its COMMIT (the WAL's fsync with synchronous=FULL, plus getting the interpreter back),
- the rest of its time off the CPU: waiting for the interpreter lock (GIL), as nothing else in
  an issue sleeps (its reads do no I/O beyond the page cache, and no read waits for a writer in
  WAL mode).

Timestamps are time.monotonic() (CLOCK_MONOTONIC: one clock for every process of the machine).
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kiosk.queue import db
from kiosk.queue.service import QueueService

# (who, granted, ended): the write transactions of this process.
HOLDS: list[tuple[str, float, float]] = []
# One dict per issue of this process.
ISSUES: list[dict[str, float]] = []
_open: dict[int, tuple[str, float]] = {}
_local = threading.local()
SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _schedstat() -> tuple[float, float]:
    """This thread's (seconds on a CPU, seconds runnable waiting for one). The CPU time from
    the clock (schedstat's lags behind while the thread runs)."""
    waiting = SCHEDSTAT.read_text().split()[1]
    return time.thread_time(), int(waiting) / 1e9


def _who() -> str:
    return getattr(_local, "who", None) or threading.current_thread().name


def install(who_issues: str) -> None:
    """Wrap `begin_immediate` and `QueueService.issue`; `who_issues` names this process's
    issuing thread in the holds."""
    original_begin = db.begin_immediate
    original_issue = QueueService.issue

    def begin_immediate(dbapi: Any, **kwargs: Any) -> None:
        record = getattr(_local, "issue", None)
        started = time.monotonic()
        cpu, runq = _schedstat()
        original_begin(dbapi, **kwargs)
        granted = time.monotonic()
        _open[threading.get_ident()] = (_who(), granted)
        if record is not None:
            cpu2, runq2 = _schedstat()
            record.update(
                lock_from=started,
                lock_to=granted,
                lock_offcpu=(granted - started) - (cpu2 - cpu) - (runq2 - runq),
            )

    def issue(self: QueueService, *args: Any, **kwargs: Any) -> Any:
        record: dict[str, float] = {"commit": 0.0, "commit_offcpu": 0.0, "lock_offcpu": 0.0}
        _local.issue = record
        _local.who = who_issues
        started = time.monotonic()
        cpu, runq = _schedstat()
        try:
            return original_issue(self, *args, **kwargs)
        finally:
            cpu2, runq2 = _schedstat()
            ended = time.monotonic()
            _local.issue = None
            _local.who = None
            record.update(at=started, wall=ended - started, cpu=cpu2 - cpu, runq=runq2 - runq)
            ISSUES.append(record)

    db.begin_immediate = begin_immediate
    QueueService.issue = issue  # type: ignore[method-assign]


def watch(engine: Engine) -> None:
    """Time the COMMITs (and ROLLBACKs) of `engine`'s write transactions."""
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        original = getattr(dialect, name)

        def ended(dbapi: Any, original: Any = original) -> None:
            started = time.monotonic()
            cpu, runq = _schedstat()
            try:
                original(dbapi)
            finally:
                finished = time.monotonic()
                held = _open.pop(threading.get_ident(), None)
                if held is not None:
                    HOLDS.append((held[0], held[1], finished))
                    record = getattr(_local, "issue", None)
                    if record is not None:
                        cpu2, runq2 = _schedstat()
                        record["commit"] += finished - started
                        record["commit_offcpu"] += (
                            (finished - started) - (cpu2 - cpu) - (runq2 - runq)
                        )

        setattr(dialect, name, ended)


def _overlap(a: float, b: float, c: float, d: float) -> float:
    return max(0.0, min(b, d) - max(a, c))


def breakdown(
    issues: list[dict[str, float]],
    holds: list[tuple[str, float, float]],
    who: str,
    began: float,
    ended: float,
    slow_ms: float = 20.0,
) -> dict[str, Any]:
    """For `who`'s issues during [began, ended] slower than `slow_ms`: how many, and the sum
    (and median) of each part of their time, in ms."""
    parts: list[dict[str, float]] = []
    for issue in issues:
        if not (began <= issue["at"] <= ended) or issue["wall"] * 1000 <= slow_ms:
            continue
        part: dict[str, float] = {"wall": issue["wall"], "cpu": issue["cpu"], "runq": issue["runq"]}
        wait_from, wait_to = issue.get("lock_from", 0.0), issue.get("lock_to", 0.0)
        held = 0.0
        for holder, start, end in holds:
            if holder == who:
                continue
            share = _overlap(wait_from, wait_to, start, end)
            if share:
                part[f"lock held by {holder}"] = part.get(f"lock held by {holder}", 0.0) + share
                held += share
        # Off the CPU while waiting, but nobody held the lock: the interpreter lock.
        lock_gil = max(0.0, issue["lock_offcpu"] - held)
        part["commit (fsync)"] = issue["commit_offcpu"]
        offcpu = issue["wall"] - issue["cpu"] - issue["runq"]
        part["GIL"] = max(0.0, offcpu - issue["lock_offcpu"] - issue["commit_offcpu"]) + lock_gil
        parts.append(part)
    keys = sorted({key for part in parts for key in part})
    return {
        "slow issues": len(parts),
        "sum_ms": {key: round(sum(p.get(key, 0.0) for p in parts) * 1000, 1) for key in keys},
        "median_ms": {
            key: round(statistics.median(p.get(key, 0.0) for p in parts) * 1000, 2) for key in keys
        }
        if parts
        else {},
    }
