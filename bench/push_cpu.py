"""The Python CPU of one 1,000-event push, piece by piece, on PostgreSQL (no HTTP server).

A script, not a test: `python -m bench.push_cpu` (named apart from the bench_*.py files that
`make bench` runs: it gives no figures for its table). It needs KIOSK_TEST_POSTGRES_URL (a
fresh schema is made and dropped). Each run builds a new kiosk's 1,000 `ticket.issued` events
as `bench_wrk` pushes them (`kiosk_store`, `push_thread`), then does in this process what the
server's worker does with the request:

- parse: the request's JSON (`request.json()`, on the worker's event loop);
- validate: the body into `PushBody` (FastAPI, on the event loop);
- dump: `model_dump()` of each event (`push_events`);
- ingest: `ingest_batch` in its transaction, commit included (the request's thread).

Each piece is timed as wall time and as this thread's CPU time (what the other requests of the
worker wait for, the interpreter lock). `BENCH_RUNS` (default 5) runs; `BENCH_PROFILE=1` also
prints cProfile's top functions of the ingest (one more run); `BENCH_PROFILE_SORT`: tottime
(default) or cumtime.
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_wrk import KIOSK_BLOCK, PUSH_EVENTS, SEED_FILE, kiosk_store  # noqa: E402
from bench.common import postgres_schema  # noqa: E402
from kiosk.config import DEFAULT_PRIORITY_REASONS  # noqa: E402
from kiosk.queue import replication  # noqa: E402
from kiosk.queue.db import open_database  # noqa: E402
from kiosk.queue.events import event_to_dict, outbox  # noqa: E402
from kiosk.queue.replication import IngestRules, NumberBlock, ingest_batch  # noqa: E402
from kiosk.queue.seeds import apply_seeds, load_seed_file  # noqa: E402
from kiosk.queue.service import QueueService  # noqa: E402
from server_sync.server.schemas import PushBody  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
PROFILE_SORT = os.environ.get("BENCH_PROFILE_SORT", "tottime")


# Steps of `ingest_batch` timed apart (this thread's CPU ms), where the tree has them.
STEPS = ("_known_ids", "_prefetch_tickets", "_judge", "_insert_rows", "_insert_events")
step_cpu: dict[str, float] = {}
gc_ms: list[float] = []


def _wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed_step(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            step_cpu[name] = step_cpu.get(name, 0.0) + (time.thread_time() - began) * 1000

    return timed_step


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        gc_ms.append(-time.perf_counter())
    else:
        gc_ms[-1] += time.perf_counter()


def timed(function: Callable[[], Any]) -> tuple[Any, float, float]:
    """The result, wall ms and this thread's CPU ms."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = function()
    return result, (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def one_push(
    engine: Any, workdir: Path, number: int, profiler: cProfile.Profile | None
) -> dict[str, float]:
    name = f"bench-kiosk-{number}"
    with (
        kiosk_store(workdir, engine, name, PUSH_EVENTS, number * KIOSK_BLOCK) as (kiosk, _),
        Session(kiosk) as session,
    ):
        batch = [event_to_dict(e) for e in outbox(session, name, PUSH_EVENTS)]
    body = json.dumps({"origin": name, "events": batch}).encode("utf-8")
    now = QueueService(engine, origin="server").now()
    rules = IngestRules(
        timezone=ZoneInfo("Asia/Ho_Chi_Minh"),
        numbering_width=3,
        priority_reasons=frozenset(DEFAULT_PRIORITY_REASONS),
        block=NumberBlock(number * KIOSK_BLOCK, KIOSK_BLOCK),
        now=now,
        server_origin="server",
    )
    figures: dict[str, float] = {}
    parsed, figures["parse_wall"], figures["parse_cpu"] = timed(lambda: json.loads(body))
    pushed, figures["validate_wall"], figures["validate_cpu"] = timed(
        lambda: PushBody.model_validate(parsed)
    )
    wires, figures["dump_wall"], figures["dump_cpu"] = timed(
        lambda: [event.model_dump() for event in pushed.events]
    )

    def ingest() -> Any:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return ingest_batch(session, name, wires, rules)

    step_cpu.clear()
    gc_ms.clear()
    if profiler is not None:
        profiler.enable()
    outcome, figures["ingest_wall"], figures["ingest_cpu"] = timed(ingest)
    if profiler is not None:
        profiler.disable()
    for step, spent in step_cpu.items():
        figures[f"  {step.strip('_')}"] = spent
    # _insert_events runs inside _insert_rows.
    top = sum(v for k, v in step_cpu.items() if k != "_insert_events")
    figures["  rest (commit)"] = figures["ingest_cpu"] - top
    figures["  gc in ingest"] = sum(gc_ms) * 1000
    if len(outcome.accepted) != PUSH_EVENTS:
        raise SystemExit(f"run {number}: {len(outcome.accepted)} accepted, {outcome.rejected[:2]}")
    return figures


def main() -> int:
    base = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if not base:
        print("set KIOSK_TEST_POSTGRES_URL", file=sys.stderr)
        return 1
    with (
        tempfile.TemporaryDirectory(prefix="kiosk-bench-push-") as tmp,
        postgres_schema(base) as url,
    ):
        engine = open_database(url)
        with Session(engine) as session, session.begin():
            apply_seeds(session, load_seed_file(SEED_FILE))
        for step in STEPS:
            if hasattr(replication, step):
                setattr(replication, step, _wrap(step, getattr(replication, step)))
        gc.callbacks.append(_gc_timer)
        one_push(engine, Path(tmp), 1, None)  # warm-up: imports, compiled statements
        runs = [one_push(engine, Path(tmp), n, None) for n in range(2, RUNS + 2)]
        print(f"{ROOT.name}: {RUNS} runs of {PUSH_EVENTS} events, load {os.getloadavg()[0]:.1f}")
        for key in runs[0]:
            values = sorted(r[key] for r in runs)
            print(
                f"  {key:16s} median {statistics.median(values):7.1f} ms  "
                f"range {values[0]:7.1f} - {values[-1]:7.1f}"
            )
        if PROFILE:
            profiler = cProfile.Profile()
            one_push(engine, Path(tmp), RUNS + 2, profiler)
            pstats.Stats(profiler).sort_stats(PROFILE_SORT).print_stats(40)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
