"""Benchmark of the central server: call-next under 50 concurrent counters, and sync ingest.

A script, not a test: `python bench/bench_server.py`. It starts `kiosk server` as a separate
process on 127.0.0.1 (SQLite, then PostgreSQL when KIOSK_TEST_POSTGRES_URL is set), pushes a
kiosk's tickets into it, then lets 50 counters call them all. `run()` returns the figures for
`make bench`. Bounded: a few thousand requests, well under two minutes.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import postgres_schema  # noqa: E402
from kiosk.queue.db import open_database  # noqa: E402
from kiosk.queue.seeds import apply_seeds, load_seed_file  # noqa: E402
from kiosk.queue.service import QueueService  # noqa: E402
from server_sync.client import SyncClient  # noqa: E402
from server_sync.server.devices import add_device  # noqa: E402

SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
TICKETS = int(os.environ.get("BENCH_TICKETS", "1000"))
COUNTERS = 50
PUSH_BATCH = 250
TIME_LIMIT_SECONDS = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(database_url: str, workdir: Path) -> Iterator[str]:
    port = _free_port()
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from kiosk.cli import main; sys.exit(main())",
            "server",
            "--database",
            database_url,
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "KIOSK_DATA_DIR": str(workdir)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = (workdir / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the server exited ({process.returncode}):\n{output}")
            try:
                if requests.get(f"{url}/api/v1/health", timeout=5).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or busy starting
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_backend(database_url: str, workdir: Path) -> dict[str, Any]:
    engine = open_database(database_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        apply_seeds(session, load_seed_file(SEED_FILE))
    kiosk_token = add_device(engine, "bench-kiosk", "kiosk")
    counter_token = add_device(engine, "bench-counter", "counter")
    backend = engine.dialect.name
    engine.dispose()

    kiosk_engine = open_database(f"sqlite:///{workdir / 'kiosk.db'}")
    with Session(kiosk_engine) as session, session.begin():
        apply_seeds(session, load_seed_file(SEED_FILE))
    kiosk = QueueService(kiosk_engine, origin="bench-kiosk")
    for _ in range(TICKETS):
        kiosk.issue("NOI")

    with _server(database_url, workdir) as url:
        client = SyncClient(
            kiosk_engine,
            base_url=url,
            token=kiosk_token,
            origin="bench-kiosk",
            push_batch=PUSH_BATCH,
            timeout=60,
        )
        started = time.perf_counter()
        pushed = client.push()
        ingest_seconds = time.perf_counter() - started
        client.close()
        assert pushed.accepted == TICKETS, pushed

        latencies: list[float] = []
        called: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(COUNTERS)
        stop_at = time.monotonic() + TIME_LIMIT_SECONDS

        def counter(index: int) -> None:
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {counter_token}"
            barrier.wait()
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                response = http.post(
                    f"{url}/api/v1/departments/NOI/call-next",
                    json={"room": ("101", "102", "103")[index % 3]},
                    timeout=60,
                )
                took = time.perf_counter() - began
                response.raise_for_status()
                ticket = response.json()["ticket"]
                with lock:
                    latencies.append(took)
                    if ticket is not None:
                        called.append(ticket["id"])
                if ticket is None:
                    break
            http.close()

        threads = [threading.Thread(target=counter, args=(i,)) for i in range(COUNTERS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        call_seconds = time.perf_counter() - started
    kiosk_engine.dispose()
    assert len(called) == len(set(called)), "a ticket was handed out twice"
    if len(called) < TICKETS:
        # A run cut short by the time limit gives no figure: its rate would not be the rate
        # of calling every ticket.
        raise RuntimeError(
            f"{backend}: the run timed out after {TIME_LIMIT_SECONDS:.0f} s with "
            f"{TICKETS - len(called)} of {TICKETS} tickets not called"
        )
    return {
        "database": backend,
        "call_next_requests": len(latencies),
        "call_next_tickets": len(called),
        "call_next_per_second": round(len(latencies) / call_seconds, 1),
        "call_next_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "call_next_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "counters": COUNTERS,
        "ingest_events": pushed.accepted,
        "ingest_events_per_second": round(pushed.accepted / ingest_seconds, 1),
    }


def run() -> dict[str, Any]:
    """Figures per database backend: {"sqlite": {...}, "postgresql": {...}}."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        results["sqlite"] = bench_backend(f"sqlite:///{sqlite_dir / 'server.db'}", sqlite_dir)
        base = os.environ.get("KIOSK_TEST_POSTGRES_URL")
        if base:
            pg_dir = Path(tmp) / "postgresql"
            pg_dir.mkdir()
            with postgres_schema(base) as url:
                results["postgresql"] = bench_backend(url, pg_dir)
    return results


def main() -> int:
    results = run()
    for name, figures in results.items():
        print(
            f"{name:>10}: call-next {figures['call_next_per_second']} req/s "
            f"(p50 {figures['call_next_p50_ms']} ms, p99 {figures['call_next_p99_ms']} ms, "
            f"{figures['counters']} counters, {figures['call_next_tickets']} tickets); "
            f"ingest {figures['ingest_events_per_second']} events/s"
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
