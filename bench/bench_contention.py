"""Issuing while the kiosk syncs a backlog: issue latency p50/p99 on the kiosk's SQLite store
while its sync worker pulls 10,000 events from the server and pushes its own backlog, and a
second process issues on the same store.

    .venv/bin/python bench/bench_contention.py [--pull N] [--push N]

A real `kiosk server` (SQLite) holds N events of another kiosk. In this process a thread runs
the sync (push, then pull: what the kiosk's sync worker does) while the main thread issues a
ticket every ~50 ms (a queue of patients at the kiosk, far above a real one) and another OS
process issues every ~100 ms; both measure each issue (commit included) while the sync runs.
Prints how many events the sync applied and how many issues overlapped it, and, as the
reference, an issue on the same store with no sync.
`run()` returns the figures for `make bench`.

BENCH_TRACE=1 also says where the slow issues' time went (bench/contention_trace.py): their
own CPU, waiting for a CPU, for SQLite's write lock (and who held it), for their COMMIT's fsync,
and for the interpreter lock.

Both issuing processes freeze their set-up objects out of the garbage collector before the sync
starts, as `kiosk run` does after its first screen; BENCH_NO_FREEZE=1 does not (a full
collection then takes 70-100 ms in the bench's process, and lands in an issue or, before the
collector was paused in them, in the sync's write transaction).

BENCH_OLD_LOCKING=1 measures the way it was before, for comparison: SQLite's own busy handler
for every writer, no priority for patients, and a whole pulled page in one transaction.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import contention_trace  # noqa: E402
from bench.bench_server import _server  # noqa: E402
from kiosk.queue.db import open_database  # noqa: E402
from kiosk.queue.models import Department  # noqa: E402
from kiosk.queue.seeds import apply_seeds, load_seed_file  # noqa: E402
from kiosk.queue.service import QueueService  # noqa: E402
from server_sync.client import SyncClient  # noqa: E402
from server_sync.server.devices import add_device  # noqa: E402

SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
PULL_EVENTS = int(os.environ.get("BENCH_PULL_EVENTS", "10000"))
PUSH_EVENTS = int(os.environ.get("BENCH_PUSH_EVENTS", "1000"))
# A sync that has not finished by then makes the run an error (no figures); on a machine busy
# with other work the backlog can take longer: BENCH_TIME_LIMIT=1800.
TIME_LIMIT_SECONDS = float(os.environ.get("BENCH_TIME_LIMIT", "600"))
OLD_LOCKING = bool(os.environ.get("BENCH_OLD_LOCKING"))
TRACE = bool(os.environ.get("BENCH_TRACE"))
# Each issuing process freezes what it made until then out of the garbage collector before the
# sync starts, as `kiosk run` does once its first screen is painted; BENCH_NO_FREEZE=1 leaves it
# (a full collection then walks every object of the set-up: 70-100 ms).
FREEZE = not os.environ.get("BENCH_NO_FREEZE")
OLD_LOCKING_CODE = """
import server_sync.client, kiosk.queue.db
kiosk.queue.db.begin_immediate = lambda dbapi, **_: dbapi.execute("BEGIN IMMEDIATE")
server_sync.client.APPLY_CHUNK = 10**9
server_sync.client.APPLY_SECONDS = 10.0**9
"""

# The second process: issues every ~100 ms until stdin closes, then prints its latencies.
OTHER_ISSUER = """
import json, os, sys, threading, time
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
TRACE = bool(os.environ.get("BENCH_TRACE"))
if TRACE:
    from bench import contention_trace
    contention_trace.install("other process")
service = QueueService(open_database(sys.argv[1]), origin="bench-kiosk-2")
if TRACE:
    contention_trace.watch(service.engine)
codes = service.department_codes()
if not os.environ.get("BENCH_NO_FREEZE"):
    import gc
    gc.collect()
    gc.freeze()
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
print("ready", flush=True)
samples = []
i = 0
while not stop.is_set():
    start = time.perf_counter()
    service.issue(codes[i % len(codes)])
    samples.append((time.monotonic(), (time.perf_counter() - start) * 1000))
    i += 1
    time.sleep(0.1)
print(json.dumps(samples), flush=True)
if TRACE:
    trace = [contention_trace.ISSUES, contention_trace.HOLDS, contention_trace.COMMITS]
    print(json.dumps(trace), flush=True)
"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _seed(url: str) -> Any:
    engine = open_database(url)
    with Session(engine) as session, session.begin():
        apply_seeds(session, load_seed_file(SEED_FILE))
        # A backlog of thousands of tickets a day: no department turns patients away.
        session.execute(update(Department).values(daily_capacity=None))
    return engine


def _issue_many(service: QueueService, count: int) -> None:
    codes = service.department_codes()
    done = 0
    while done < count:  # in transactions of 500: quick to set up
        with service.transaction() as session:
            for _ in range(min(500, count - done)):
                service.issue_in(session, codes[done % len(codes)])
                done += 1


def run(pull_events: int = PULL_EVENTS, push_events: int = PUSH_EVENTS) -> dict[str, Any]:
    if os.environ.get("BENCH_APPLY_REST"):  # the pull's rest after each transaction, x its time
        import server_sync.client

        server_sync.client.APPLY_REST = float(os.environ["BENCH_APPLY_REST"])  # type: ignore[attr-defined,unused-ignore]
    if OLD_LOCKING:
        exec(OLD_LOCKING_CODE)
    with tempfile.TemporaryDirectory(prefix="bench-contention-") as tmp:
        work = Path(tmp)
        server_url = f"sqlite:///{work / 'server.db'}"
        server_engine = _seed(server_url)
        token = add_device(server_engine, "bench-kiosk", "kiosk")
        other_kiosk = QueueService(server_engine, origin="other-kiosk", numbering_offset=100_000)
        _issue_many(other_kiosk, pull_events)
        server_engine.dispose()

        kiosk_url = f"sqlite:///{work / 'kiosk.db'}"
        engine = _seed(kiosk_url)
        if TRACE:
            contention_trace.install("bench issuer")
            contention_trace.watch(engine)
        kiosk = QueueService(engine, origin="bench-kiosk")
        _issue_many(kiosk, push_events)
        codes = kiosk.department_codes()

        # The reference: issuing on this store with nobody else writing.
        quiet = []
        for i in range(100):
            start = time.perf_counter()
            kiosk.issue(codes[i % len(codes)])
            quiet.append((time.perf_counter() - start) * 1000)

        other_code = (OLD_LOCKING_CODE if OLD_LOCKING else "") + OTHER_ISSUER
        with _server(server_url, work) as url:
            other = subprocess.Popen(
                [sys.executable, "-c", other_code, kiosk_url],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert other.stdout is not None and other.stdin is not None
            assert other.stdout.readline().strip() == "ready"
            client = SyncClient(
                engine, base_url=url, token=token, origin="bench-kiosk", timeout=120
            )
            outcome: dict[str, Any] = {}

            def sync() -> None:
                try:
                    outcome["push"] = client.push()
                    outcome["pull"] = client.pull()
                except Exception as exc:  # reported below: the run is then an error
                    outcome["error"] = exc
                finally:
                    outcome["ended"] = time.monotonic()

            thread = threading.Thread(target=sync, name="kiosk-sync")
            if FREEZE:
                gc.collect()
                gc.freeze()
            began = time.monotonic()
            thread.start()
            mine: list[tuple[float, float]] = []
            i = 0
            while thread.is_alive() and time.monotonic() - began < TIME_LIMIT_SECONDS:
                start = time.perf_counter()
                kiosk.issue(codes[i % len(codes)])
                mine.append((time.monotonic(), (time.perf_counter() - start) * 1000))
                i += 1
                time.sleep(0.05)
            thread.join(timeout=5)
            finished = not thread.is_alive()
            other_out, _ = other.communicate("", timeout=60)
            lines = other_out.strip().splitlines()
            other_trace = json.loads(lines.pop()) if TRACE else None
            theirs = [tuple(s) for s in json.loads(lines[-1])]
            client.close()
        engine.dispose()

    if not finished:
        raise RuntimeError(f"the sync did not finish within {TIME_LIMIT_SECONDS:.0f} s")
    if "error" in outcome:
        raise RuntimeError(f"the sync failed: {outcome['error']}")
    ended = outcome["ended"]
    during = [ms for at, ms in mine if at <= ended] + [
        ms for at, ms in theirs if began <= at <= ended
    ]
    pull, push = outcome["pull"], outcome["push"]
    figures: dict[str, Any] = {
        "issue while syncing p50_ms": round(statistics.median(during), 2),
        "issue while syncing p99_ms": round(_percentile(during, 0.99), 2),
        "issue while syncing max_ms": round(max(during), 2),
        "issue alone p50_ms (reference)": round(statistics.median(quiet), 2),
        "issue alone p99_ms (reference)": round(_percentile(quiet, 0.99), 2),
        "issues overlapping the sync": len(during),
        "of them from the second process": sum(1 for at, _ in theirs if began <= at <= ended),
        "events the sync applied": pull.applied,
        "events the sync pushed": push.accepted + push.duplicates,
        "sync_seconds": round(ended - began, 1),
        "objects frozen out of the garbage collector": gc.get_freeze_count(),
    }
    if TRACE and other_trace is not None:
        issues = [i for i in contention_trace.ISSUES if i["at"] >= began]
        their_issues, their_holds, their_commits = other_trace
        holds = contention_trace.HOLDS + [tuple(h) for h in their_holds]
        alone = [i for i in contention_trace.ISSUES if i["at"] < began][-len(quiet) :]
        figures["trace: issue alone, median ms"] = {
            key: round(statistics.median(i[key] for i in alone) * 1000, 2)
            for key in ("wall", "cpu", "runq", "commit", "commit_offcpu")
        }
        figures["trace: slow issues of this process"] = contention_trace.breakdown(
            issues, holds, "bench issuer", began, ended
        )
        figures["trace: slow issues of the second process"] = contention_trace.breakdown(
            their_issues, holds, "other process", began, ended
        )
        figures["trace: all issues of this process"] = contention_trace.breakdown(
            issues, holds, "bench issuer", began, ended, slow_ms=0.0
        )
        figures["trace: all issues of the second process"] = contention_trace.breakdown(
            their_issues, holds, "other process", began, ended, slow_ms=0.0
        )
        figures["trace: sync write transactions"] = _holds_summary(
            [h for h in holds if h[0] == "kiosk-sync"]
        )
        figures["trace: sync write transactions over 50 ms"] = contention_trace.sync_holds(holds)
        figures["trace: garbage collections (count, p50, max ms)"] = (
            contention_trace.collections_summary(began, ended)
        )
        figures["trace: commits"] = contention_trace.commits_summary(
            contention_trace.COMMITS + [tuple(c) for c in their_commits], began, ended
        )
    return figures


def _holds_summary(holds: list[Any]) -> dict[str, float]:
    lengths = [(end - start) * 1000 for _, start, end in holds]
    if not lengths:
        return {}
    return {
        "count": len(lengths),
        "p50_ms": round(statistics.median(lengths), 2),
        "p99_ms": round(_percentile(lengths, 0.99), 2),
        "max_ms": round(max(lengths), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--pull", type=int, default=PULL_EVENTS)
    parser.add_argument("--push", type=int, default=PUSH_EVENTS)
    options = parser.parse_args()
    print(json.dumps(run(options.pull, options.push), indent=2))


if __name__ == "__main__":
    main()
