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

It also splits the sync's write transactions over 50 ms (statements in SQLite, the COMMIT, the
rest in Python; its CPU; the garbage collections inside it), times every garbage collection of
the process, and reads the WAL's frame count around each COMMIT from the -shm file (opened once,
never closed: closing it would drop SQLite's own POSIX locks) to count the commits that
checkpointed.

Timestamps are time.monotonic() (CLOCK_MONOTONIC: one clock for every process of the machine).
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from kiosk.queue import db
from kiosk.queue.service import QueueService

# (who, granted, ended): the write transactions of this process.
HOLDS: list[tuple[str, float, float]] = []
# One dict per issue of this process.
ISSUES: list[dict[str, float]] = []
# One dict per write transaction of the sync thread: where its time went.
SYNC_HOLDS: list[dict[str, float]] = []
_open: dict[int, tuple[str, float]] = {}
_sync: dict[int, dict[str, float]] = {}
SYNC_THREAD = "kiosk-sync"
# (who, from, to, WAL frames before, backfilled before, after, after, database file changed)
COMMITS: list[tuple[str, float, float, int, int, int, int, float]] = []


_SHM: dict[Path, int] = {}


def wal_frames(database: Path) -> tuple[int, int]:
    """The WAL's frame count (mxFrame) and how many of them a checkpoint has copied into the
    database (nBackfill), from the WAL-index header in the -shm file. The file is opened once
    and never closed: closing a descriptor of it would drop SQLite's own (POSIX) locks on it."""
    fd = _SHM.get(database)
    if fd is None:
        try:
            fd = _SHM[database] = os.open(f"{database}-shm", os.O_RDONLY)
        except OSError:
            return 0, 0
    header = os.pread(fd, 136, 0)
    if len(header) < 136:
        return 0, 0
    return int.from_bytes(header[16:20], sys.byteorder), int.from_bytes(
        header[96:100], sys.byteorder
    )


_local = threading.local()
SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _schedstat() -> tuple[float, float]:
    """This thread's (seconds on a CPU, seconds runnable waiting for one). The CPU time from
    the clock (schedstat's lags behind while the thread runs)."""
    waiting = SCHEDSTAT.read_text().split()[1]
    return time.thread_time(), int(waiting) / 1e9


def _who() -> str:
    return getattr(_local, "who", None) or threading.current_thread().name


# (generation, from, to, thread) of every garbage collection of this process.
COLLECTIONS: list[tuple[int, float, float, str]] = []
_gc_started: list[float] = [0.0]


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.monotonic()
    else:
        COLLECTIONS.append(
            (info["generation"], _gc_started[0], time.monotonic(), threading.current_thread().name)
        )


def install(who_issues: str) -> None:
    """Wrap `begin_immediate` and `QueueService.issue`; `who_issues` names this process's
    issuing thread in the holds."""
    gc.callbacks.append(_on_gc)
    original_begin = db.begin_immediate
    original_issue = QueueService.issue

    def begin_immediate(dbapi: Any, **kwargs: Any) -> None:
        record = getattr(_local, "issue", None)
        started = time.monotonic()
        cpu, runq = _schedstat()
        original_begin(dbapi, **kwargs)
        granted = time.monotonic()
        _open[threading.get_ident()] = (_who(), granted)
        if _who() == SYNC_THREAD:
            cpu_g, runq_g = _schedstat()
            _sync[threading.get_ident()] = {
                "granted": granted,
                "cpu0": cpu_g,
                "runq0": runq_g,
                "sql": 0.0,
                "statements": 0,
            }
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
    database = Path(engine.url.database or "")

    def before(*_: Any) -> None:
        detail = _sync.get(threading.get_ident())
        if detail is not None:
            detail["sql_from"] = time.monotonic()

    def after(*_: Any) -> None:
        detail = _sync.get(threading.get_ident())
        if detail is not None and "sql_from" in detail:
            detail["sql"] += time.monotonic() - detail.pop("sql_from")
            detail["statements"] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    for name in ("do_commit", "do_rollback"):
        original = getattr(dialect, name)

        def ended(dbapi: Any, original: Any = original) -> None:
            started = time.monotonic()
            cpu, runq = _schedstat()
            detail = _sync.pop(threading.get_ident(), None)
            mtime = database.stat().st_mtime_ns
            frames, backfilled = wal_frames(database)
            try:
                original(dbapi)
            finally:
                finished = time.monotonic()
                frames2, backfilled2 = wal_frames(database)
                COMMITS.append(
                    (
                        _who(),
                        started,
                        finished,
                        frames,
                        backfilled,
                        frames2,
                        backfilled2,
                        float(database.stat().st_mtime_ns != mtime),
                    )
                )
                if detail is not None:
                    cpu2, runq2 = _schedstat()
                    SYNC_HOLDS.append(
                        {
                            "granted": detail["granted"],
                            "commit_from": started,
                            "ended": finished,
                            "cpu": cpu2 - detail["cpu0"],
                            "runq": runq2 - detail["runq0"],
                            "sql": detail["sql"],
                            "statements": detail["statements"],
                            "checkpoint": float(database.stat().st_mtime_ns != mtime),
                        }
                    )
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


def sync_holds(holds: list[tuple[str, float, float]], slow_ms: float = 50.0) -> dict[str, Any]:
    """The sync's write transactions longer than `slow_ms`: where their time went (statements
    in SQLite, the COMMIT, the rest in Python; own CPU and run queue; whether the COMMIT
    checkpointed: the database file changed), and what else held a lock meanwhile."""
    slow = [h for h in SYNC_HOLDS if (h["ended"] - h["granted"]) * 1000 > slow_ms]
    rows = []
    for h in slow:
        wall = h["ended"] - h["granted"]
        commit = h["ended"] - h["commit_from"]
        collected = [c for c in COLLECTIONS if c[1] < h["ended"] and c[2] > h["granted"]]
        rows.append(
            {
                "gc": [(g, round((b - a) * 1000, 1), t) for g, a, b, t in collected],
                "wall": round(wall * 1000, 1),
                "sql": round(h["sql"] * 1000, 1),
                "commit": round(commit * 1000, 1),
                "python": round((wall - h["sql"] - commit) * 1000, 1),
                "cpu": round(h["cpu"] * 1000, 1),
                "runq": round(h["runq"] * 1000, 1),
                "statements": int(h["statements"]),
                "checkpoint": bool(h["checkpoint"]),
            }
        )
    commits = sorted((h["ended"] - h["commit_from"]) * 1000 for h in SYNC_HOLDS)
    checkpoints = [h for h in SYNC_HOLDS if h["checkpoint"]]
    return {
        "count": len(SYNC_HOLDS),
        "commit p50/max ms": [
            round(statistics.median(commits), 2) if commits else 0,
            round(max(commits or [0]), 1),
        ],
        "commits that checkpointed": len(checkpoints),
        "their commit ms": sorted(
            round((h["ended"] - h["commit_from"]) * 1000, 1) for h in checkpoints
        ),
        "slow": rows,
    }


def _ms(commits: list[Any]) -> list[float]:
    return sorted((c[2] - c[1]) * 1000 for c in commits)


def commits_summary(commits: list[Any], began: float, ended: float) -> dict[str, Any]:
    """Per committer during [began, ended]: commits, how many checkpointed (the database file
    changed or frames were backfilled during it), their median and max ms, the rest's median;
    the WAL's largest frame count."""
    out: dict[str, Any] = {}
    during = [c for c in commits if began <= c[1] <= ended]
    for who in sorted({c[0] for c in during}):
        mine = [c for c in during if c[0] == who]
        ckpt = [c for c in mine if c[7] or c[6] > c[4] or c[5] < c[3]]
        rest = [c for c in mine if c not in ckpt]
        out[who] = {
            "commits": len(mine),
            "checkpointed": len(ckpt),
            "their p50/max ms": [round(statistics.median(_ms(ckpt)), 1), round(max(_ms(ckpt)), 1)]
            if ckpt
            else [],
            "others p50/max ms": [round(statistics.median(_ms(rest)), 2), round(max(_ms(rest)), 1)]
            if rest
            else [],
        }
    out["WAL frames max"] = max((c[3] for c in during), default=0)
    return out


def collections_summary(began: float, ended: float) -> dict[str, Any]:
    """The garbage collections of this process during [began, ended], per generation: how
    many, their median and max ms."""
    out: dict[str, Any] = {}
    for generation in (0, 1, 2):
        ms = sorted(
            (b - a) * 1000 for g, a, b, _ in COLLECTIONS if g == generation and began <= a <= ended
        )
        if ms:
            out[f"gen{generation}"] = [len(ms), round(statistics.median(ms), 2), round(ms[-1], 1)]
    return out
