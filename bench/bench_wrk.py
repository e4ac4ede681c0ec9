"""The central server at hospital scale, driven by `wrk` (Debian's package) on PostgreSQL.

A script, not a test: `python -m bench.bench_wrk` (or `make bench`). It needs `wrk` and a
PostgreSQL (KIOSK_TEST_POSTGRES_URL; a fresh schema is made and dropped). For 1 and 2 server
workers (`kiosk server --workers N`, a separate process on 127.0.0.1) it measures:

- the stack's ceiling: `GET /api/v1/health` (one `SELECT`) with 50 connections, 10 s;
- call-next with 8 and 50 counters (keep-alive connections), spread over 4 departments: one
  wrk per department, each connection calling until its department's queue answers
  `{"ticket": null}`. Requests/s = tickets actually called ÷ time from the start until the
  last call committed (the tickets' `called_at`). Every ticket must be called exactly once
  (checked in the database); a run that did not empty the queues gives no figure;
- the same with 50 counters while a kiosk pushes one 1,000-event batch;
- call → board: a board long-polls the feed while a counter calls, 200 calls, p99 (alone,
  while a 1,000-event push is ingested, and while a long statistics query holds a snapshot and
  a transaction id);
- `kiosk sync --once` of a 10,000-event offline backlog, end to end (a separate process);
- server RSS per worker (the highest seen during the call-next runs);
- CPU per call-next request: the server's processes, PostgreSQL's (every process of the local
  server) and wrk's, so the two cores' time is accounted for;
- PostgreSQL's own commit ceiling on this disk, in the same run (pgbench, when installed): one
  connection committing one-row inserts, 50 connections committing independent rows (group
  commit), and 50 connections updating one shared row (the feed counter's pattern: each waits
  for the previous holder's commit, fsync included).

`BENCH_PARTS` (comma-separated: health, call, push, board, sync, commit) runs only some parts.

wrk, PostgreSQL and the server share the same cores: the machine's load average and the
database's durability settings are printed beside the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import postgres_schema  # noqa: E402
from kiosk.app.board import CALL_EVENTS  # noqa: E402
from kiosk.queue.db import open_database  # noqa: E402
from kiosk.queue.events import event_to_dict, outbox  # noqa: E402
from kiosk.queue.models import Department, Event, Ticket  # noqa: E402
from kiosk.queue.seeds import apply_seeds, load_seed_file  # noqa: E402
from kiosk.queue.service import QueueService  # noqa: E402
from server_sync.server.devices import add_device  # noqa: E402

SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
LUA = Path(__file__).resolve().parent / "wrk"
ROOMS = {"TIEPDON": "Q1", "NOI": "101", "NGOAI": "104", "SAN": "201"}
# The kiosks' pushed tickets wait in the other departments: the counters' queues stay the
# benchmark's own, and the push still competes for the server and the database.
KIOSK_DEPARTMENTS = ("NHI", "TMH", "MAT", "RHM", "YHCT", "XN", "CDHA")
TICKETS_PER_DEPARTMENT = int(os.environ.get("BENCH_TICKETS_PER_DEPARTMENT", "500"))
BACKLOG_EVENTS = int(os.environ.get("BENCH_BACKLOG_EVENTS", "10000"))
PUSH_EVENTS = 1000
BOARD_CALLS = int(os.environ.get("BENCH_BOARD_CALLS", "200"))
WORKERS = tuple(int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(","))
PARTS = set(os.environ.get("BENCH_PARTS", "health,call,push,board,sync,commit").split(","))
CALL_LIMIT_SECONDS = 180
HEALTH_SECONDS = 10
# Each kiosk of the benchmark has its own numbering block, far from the server's own numbers.
KIOSK_BLOCK = 100_000


class BenchFailed(RuntimeError):
    """A run that did not complete: it gives no figure."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchFailed("wrk is not installed: apt-get install wrk (Debian's package)")
    return found


def durability(engine: Engine) -> dict[str, str]:
    names = ("synchronous_commit", "fsync", "full_page_writes", "wal_sync_method")
    with engine.connect() as connection:
        settings = {n: str(connection.execute(text(f"SHOW {n}")).scalar()) for n in names}
        settings["isolation"] = str(
            connection.execute(text("SHOW default_transaction_isolation")).scalar()
        )
        settings["server_version"] = str(connection.execute(text("SHOW server_version")).scalar())
    return settings


@contextmanager
def server(database_url: str, workers: int, workdir: Path) -> Iterator[tuple[str, int]]:
    """`kiosk server --workers N` as its own process; (url, master pid) once it answers."""
    port = _free_port()
    log = (workdir / f"server-{workers}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "server",
            "--database",
            database_url,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "KIOSK_DATA_DIR": str(workdir)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while len(worker_pids(process.pid, workers)) < workers or not _answers(url):
            if process.poll() is not None:
                output = (workdir / f"server-{workers}.log").read_text(errors="replace")
                raise BenchFailed(f"the server exited ({process.returncode}):\n{output[-2000:]}")
            if time.monotonic() > deadline:
                raise BenchFailed("the server did not start within 90 s")
            time.sleep(0.1)
        time.sleep(1.0)  # every worker through its start-up
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v1/health", timeout=5).ok
    except (requests.ConnectionError, requests.Timeout):
        return False


def worker_pids(master: int, workers: int) -> list[int]:
    """The processes serving: the master itself with one worker, else its spawned children."""
    if workers == 1:
        return [master]
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    pids = []
    for pid in children:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(int(pid))
        except OSError:
            continue
    return pids


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), None once it has ended."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each living process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            used[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return used


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (/proc/PID/stat)."""
    return sum(cpu_by_pid(pids).values())


def cpu_since(before: dict[int, float]) -> float:
    """CPU seconds used since `before` (`cpu_by_pid`) by those of its processes still living."""
    now = cpu_by_pid(list(before))
    return sum(now[pid] - before[pid] for pid in now)


def postgres_pids(engine: Engine) -> list[int]:
    """Every process of the PostgreSQL server `engine` talks to (backends, WAL writer,
    checkpointer...): the children of its postmaster. Empty when it is not on this machine."""
    with engine.connect() as connection:
        backend = int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)
    fields = _stat_fields(backend)
    if fields is None:
        return []
    postmaster = int(fields[1])  # ppid
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        own = _stat_fields(int(stat.parent.name))
        if own is not None and int(own[1]) == postmaster:
            children.append(int(stat.parent.name))
    return children


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssWatch:
    """The highest RSS of each serving process, sampled every 0.2 s while it runs."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_mb(pid))

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def start_wrk(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["wrk", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_wrk(process: subprocess.Popen[str], timeout: float) -> dict[str, int]:
    """wrk's summary line (BENCH ...) once it has ended."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise BenchFailed("wrk did not end") from None
    match = re.search(r"^BENCH (.*)$", stdout, re.MULTILINE)
    if process.returncode != 0 or match is None:
        raise BenchFailed(f"wrk failed ({process.returncode}): {stdout[-800:]} {stderr}")
    return {key: int(value) for key, value in (kv.split("=") for kv in match.group(1).split())}


def run_wrk(args: list[str], timeout: float) -> dict[str, int]:
    return finish_wrk(start_wrk(args), timeout)


def health_ceiling(url: str, pids: list[int]) -> dict[str, float]:
    cpu = cpu_seconds(pids)
    figures = run_wrk(
        [
            "-t2",
            "-c50",
            f"-d{HEALTH_SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / "report.lua"),
            f"{url}/api/v1/health",
        ],
        timeout=HEALTH_SECONDS + 60,
    )
    if figures["errors"]:
        raise BenchFailed(f"health: {figures['errors']} errors")
    cpu = cpu_seconds(pids) - cpu
    return {
        "per_second": round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
        "cpu_ms_per_request": round(1000 * cpu / max(1, figures["requests"]), 2),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
    }


def issue_tickets(engine: Engine, per_department: int) -> set[str]:
    """Waiting tickets for the counters, written directly (one multi-row INSERT): the
    benchmark measures calling them, not issuing."""
    service = QueueService(engine, origin="bench-server")
    now = service.now()
    today = service.service_date(now)
    rows: list[dict[str, Any]] = []
    with Session(engine) as session, session.begin():
        for code in ROOMS:
            start = session.scalar(
                select(func.coalesce(func.max(Ticket.number), 0)).where(
                    Ticket.department_code == code, Ticket.service_date == today
                )
            )
            prefix = session.get(Department, code).prefix  # type: ignore[union-attr]
            for number in range(int(start or 0) + 1, int(start or 0) + 1 + per_department):
                rows.append(
                    {
                        "id": str(uuid.uuid4()),
                        "department_code": code,
                        "service_date": today,
                        "number": number,
                        "code": f"{prefix}{number:03d}",
                        "status": "waiting",
                        "origin": "bench-server",
                        "issued_at": now,
                        "queued_at": now + dt.timedelta(microseconds=number),
                        "call_count": 0,
                    }
                )
        session.execute(insert(Ticket), rows)
    # A hospital's server has its tables' statistics (autovacuum's ANALYZE, which also makes
    # cached plans be made again). A schema filled a moment ago has none yet, and PostgreSQL
    # would plan call-next for an empty table (a sort of the whole line on every call).
    with engine.begin() as connection:
        connection.execute(text("ANALYZE tickets"))
    return {row["id"] for row in rows}


def call_next_run(
    engine: Engine,
    url: str,
    token: str,
    counters: int,
    pids: list[int],
    during: threading.Thread | None = None,
) -> dict[str, float]:
    """`counters` keep-alive connections over 4 departments, each calling until empty.
    `pids`: the server's processes, whose CPU time per request is reported."""
    tickets = issue_tickets(engine, TICKETS_PER_DEPARTMENT)
    cpu = cpu_seconds(pids)
    database_cpu = cpu_by_pid(postgres_pids(engine))
    per_department = [counters // len(ROOMS) + (i < counters % len(ROOMS)) for i in range(4)]
    started_wall = time.time()
    started = time.perf_counter()
    # wrk runs for its whole duration (-d) unless interrupted: each department's wrk stops
    # calling at its first empty answer, and this loop ends them all (SIGINT: wrk prints its
    # summary) once no ticket is waiting any more - a ticket leaves "waiting" only when its
    # call commits.
    processes = [
        start_wrk(
            [
                "-t1",
                f"-c{connections}",
                f"-d{CALL_LIMIT_SECONDS}s",
                "--timeout",
                "30s",
                "-s",
                str(LUA / "call_next.lua"),
                url,
                "--",
                token,
                code,
                ROOMS[code],
            ]
        )
        for code, connections in zip(ROOMS, per_department, strict=True)
    ]
    if during is not None:
        during.start()
    ids = list(tickets)
    while time.perf_counter() - started < CALL_LIMIT_SECONDS:
        time.sleep(0.1)
        with Session(engine) as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.id.in_(ids), Ticket.status == "waiting")
            )
        if not waiting or all(p.poll() is not None for p in processes):
            break
    wall = time.perf_counter() - started
    # wrk's own CPU, read before it ends (an ended child's /proc entry is gone).
    wrk_cpu = cpu_seconds([process.pid for process in processes])
    database_cpu_used = cpu_since(database_cpu)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    runs = [finish_wrk(process, 60) for process in processes]
    cpu = cpu_seconds(pids) - cpu
    if during is not None:
        during.join()
    with Session(engine) as session:
        rows = session.execute(
            select(Ticket.status, func.count(), func.max(Ticket.called_at))
            .where(Ticket.id.in_(tickets))
            .group_by(Ticket.status)
        ).all()
        calls = session.execute(
            select(Event.ticket_id, func.count())
            .where(Event.type == "ticket.called", Event.ticket_id.in_(tickets))
            .group_by(Event.ticket_id)
        ).all()
    statuses = {str(status): int(count) for status, count, _ in rows}
    if statuses.get("called", 0) != len(tickets) or wall >= CALL_LIMIT_SECONDS:
        raise BenchFailed(
            f"call-next with {counters} counters did not empty the queues in "
            f"{CALL_LIMIT_SECONDS} s: {statuses}"
        )
    twice = [ticket for ticket, n in calls if n != 1]
    if len(calls) != len(tickets) or twice:
        raise BenchFailed(f"{len(twice)} tickets called more than once (or never)")
    last_call = max(called_at for _, _, called_at in rows if called_at is not None)
    until_empty = last_call.timestamp() - started_wall
    errors = sum(r["errors"] for r in runs)
    if errors:
        raise BenchFailed(f"call-next with {counters} counters: {errors} HTTP errors")
    requests_total = sum(r["requests"] for r in runs)
    return {
        "per_second": round(len(tickets) / until_empty, 1),
        "tickets": len(tickets),
        "requests": requests_total,
        # The server's CPU (master and workers, user + system) per call-next request: less
        # sensitive to the machine's load than tickets/s.
        "cpu_ms_per_request": round(1000 * cpu / max(1, requests_total), 2),
        # PostgreSQL's processes (all of them: the benchmark's own checks are a few queries)
        # and wrk's, per request: where the rest of the two cores went.
        "postgres_cpu_ms_per_request": round(1000 * database_cpu_used / max(1, requests_total), 2),
        "wrk_cpu_ms_per_request": round(1000 * wrk_cpu / max(1, requests_total), 2),
        # Per department's wrk: the median of their p50s, the worst of their p99s.
        "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99_ms": max(r["p99_us"] for r in runs) / 1000,
        "max_ms": max(r["max_us"] for r in runs) / 1000,
    }


@contextmanager
def kiosk_store(
    workdir: Path, engine: Engine, name: str, events: int, offset: int
) -> Iterator[tuple[Engine, str]]:
    """A kiosk's SQLite store holding `events` unsynced ticket.issued events, and its token."""
    token = add_device(
        engine, name, "kiosk", origin=name, numbering_offset=offset, block_size=KIOSK_BLOCK
    )
    kiosk_engine = open_database(f"sqlite:///{workdir / name}.db")
    with Session(kiosk_engine) as session, session.begin():
        apply_seeds(session, load_seed_file(SEED_FILE))
    service = QueueService(
        kiosk_engine, origin=name, numbering_offset=offset, numbering_block_size=KIOSK_BLOCK
    )
    with service.transaction() as session:
        for i in range(events):
            service.issue_in(session, KIOSK_DEPARTMENTS[i % len(KIOSK_DEPARTMENTS)])
    try:
        yield kiosk_engine, token
    finally:
        kiosk_engine.dispose()


def push_thread(
    url: str, kiosk_engine: Engine, origin: str, token: str, result: dict[str, float]
) -> threading.Thread:
    """One POST of 1,000 events from a kiosk, started half a second after the thread starts."""
    with Session(kiosk_engine) as session:
        batch = [event_to_dict(e) for e in outbox(session, origin, PUSH_EVENTS)]

    def push() -> None:
        time.sleep(0.5)
        began = time.perf_counter()
        answer = requests.post(
            f"{url}/api/v1/sync/events",
            json={"origin": origin, "events": batch},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        result["seconds"] = time.perf_counter() - began
        result["accepted"] = len(answer.json().get("accepted", [])) if answer.ok else -1

    return threading.Thread(target=push, daemon=True)


CALL_TYPES = sorted(CALL_EVENTS)


def board_start(board: requests.Session, url: str, departments: list[str]) -> int:
    """Where a board's long-poll starts, as `kiosk board` starts it: the lowest feed cursor of
    its departments' queue snapshots (the feed's head when it starts), not the feed's first
    page (`GET /events` from 0 answers the oldest 500 events: a board starting there would
    first page through the whole day's history, and the calls meanwhile would wait for it)."""
    return min(
        int(board.get(f"{url}/api/v1/departments/{code}/queue", timeout=30).json()["cursor"])
        for code in departments
    )


def board_latency(
    engine: Engine, url: str, counter_token: str, board_token: str, during: threading.Thread | None
) -> dict[str, float | list[float]]:
    """From just before a call-next leaves to the board's long-poll answering with it."""
    per_department = max(1, BOARD_CALLS // len(ROOMS))
    tickets = issue_tickets(engine, per_department)
    board = requests.Session()
    board.headers["Authorization"] = f"Bearer {board_token}"
    cursor = board_start(board, url, list(ROOMS))
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}  # when the call-next answer came back
    seen: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:
        nonlocal cursor
        while not stop.is_set():
            try:
                # As `kiosk board` asks: only the calls (a push's issues stay on the server).
                params: dict[str, int | list[str]] = {
                    "after": cursor,
                    "wait": 5,
                    "type": CALL_TYPES,
                }
                answer = board.get(f"{url}/api/v1/events", params=params, timeout=30).json()
            except (requests.RequestException, ValueError):
                if stop.is_set():
                    return
                raise
            now = time.perf_counter()
            for event in answer["events"]:
                if event["type"] == "ticket.called":
                    seen.setdefault(event["ticket_id"], now)
            cursor = answer["cursor"]

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.5)
    if during is not None:
        during.start()
    counter = requests.Session()
    counter.headers["Authorization"] = f"Bearer {counter_token}"
    codes = list(ROOMS)
    for i in range(per_department * len(ROOMS)):
        code = codes[i % len(codes)]
        began = time.perf_counter()
        ticket = counter.post(
            f"{url}/api/v1/departments/{code}/call-next", json={"room": ROOMS[code]}, timeout=30
        ).json()["ticket"]
        if ticket is None or ticket["id"] not in tickets:
            raise BenchFailed(f"board latency: call {i} in {code} found {ticket}")
        sent[ticket["id"]] = began
        answered[ticket["id"]] = time.perf_counter()
        time.sleep(0.02)
    deadline = time.monotonic() + 30
    while set(sent) - set(seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    if during is not None:
        during.join()
    watcher.join(timeout=10)
    missing = set(sent) - set(seen)
    if missing:
        raise BenchFailed(f"board latency: {len(missing)} calls never reached the board")
    samples = sorted((seen[t] - sent[t]) * 1000 for t in sent)
    # Split: the call's own round trip, and the board's answer after the call's answer came.
    calls = sorted((answered[t] - sent[t]) * 1000 for t in sent)
    after = sorted(max(0.0, seen[t] - answered[t]) * 1000 for t in sent)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(_p99(samples), 1),
        "calls": len(samples),
        "call_p50_ms": round(statistics.median(calls), 1),
        "call_p99_ms": round(_p99(calls), 1),
        "after_call_p99_ms": round(_p99(after), 1),
        "worst_ms": [round(s, 1) for s in samples[-3:]],
    }


def _p99(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def long_statistics_query(engine: Engine, seconds: float) -> threading.Thread:
    """A long statistics query on its own connection: a REPEATABLE READ transaction that
    aggregates the tickets and events, takes a transaction id (as a report that writes its
    audit row would) and keeps its snapshot for `seconds`. A feed whose readers stop below the
    oldest transaction in flight would stall behind it."""

    def run() -> None:
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
            connection.begin(),
        ):
            connection.execute(
                text(
                    "SELECT t.department_code, count(*), max(e.position) FROM tickets AS t "
                    "JOIN events AS e ON e.ticket_id = t.id GROUP BY t.department_code"
                )
            ).all()
            connection.execute(text("SELECT txid_current()"))
            connection.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})

    return threading.Thread(target=run, daemon=True)


def sync_backlog(workdir: Path, engine: Engine, url: str) -> dict[str, float]:
    """`kiosk sync --once` (its own process) of BACKLOG_EVENTS offline events, end to end."""
    name = "bench-backlog"
    offset = 9 * KIOSK_BLOCK
    with kiosk_store(workdir, engine, name, BACKLOG_EVENTS, offset) as (kiosk_engine, token):
        database = kiosk_engine.url.render_as_string(hide_password=False)
    token_file = workdir / "backlog.token"
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    config = workdir / "backlog.toml"
    config.write_text(
        f'[kiosk]\nid = "{name}"\ndatabase_url = "{database}"\n'
        f"[numbering]\noffset = {offset}\nblock_size = {KIOSK_BLOCK}\n"
        f'[server]\nurl = "{url}"\ntoken_file = "{token_file}"\ntimeout_seconds = 120\n',
        encoding="utf-8",
    )
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "sync", "--once", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise BenchFailed(f"kiosk sync --once failed: {done.stderr[-1000:]}")
    with Session(engine) as session:
        stored = session.scalars(
            select(Event.seq).where(Event.origin == name).order_by(Event.position)
        ).all()
    if list(stored) != list(range(1, BACKLOG_EVENTS + 1)):
        raise BenchFailed(
            f"backlog: the server holds {len(stored)} events, not 1..{BACKLOG_EVENTS}"
        )
    return {"seconds": round(seconds, 2), "events": BACKLOG_EVENTS}


COMMIT_SCRIPTS = {
    # One-row inserts of independent rows: commits of several connections share one fsync.
    "insert": "INSERT INTO commit_probe (n) VALUES (1);",
    # Every transaction updates the same row: it waits for the previous holder's commit.
    "hot_row": "UPDATE commit_probe_hot SET n = n + 1 WHERE id = 1;",
}


def commit_ceiling(engine: Engine, database_url: str, workdir: Path) -> dict[str, float]:
    """Transactions/s that PostgreSQL itself commits here (pgbench, 5 s each), or {}."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        return {}
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE commit_probe (id serial PRIMARY KEY, n integer)"))
        connection.execute(
            text("CREATE TABLE commit_probe_hot (id integer PRIMARY KEY, n integer)")
        )
        connection.execute(text("INSERT INTO commit_probe_hot VALUES (1, 0)"))
    url = engine.url
    schema_option = re.search(r"options=([^&]+)", database_url)
    env = {
        **os.environ,
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
        "PGOPTIONS": urllib.parse.unquote(schema_option.group(1)) if schema_option else "",
    }
    figures: dict[str, float] = {}
    for name, sql in COMMIT_SCRIPTS.items():
        script = workdir / f"{name}.sql"
        script.write_text(sql + "\n", encoding="utf-8")
        for clients in (1, 50):
            done = subprocess.run(
                [pgbench, "-n", "-f", str(script), "-c", str(clients), "-j", "2", "-T", "5"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            match = re.search(r"tps = ([0-9.]+)", done.stdout)
            if done.returncode != 0 or match is None:
                raise BenchFailed(f"pgbench failed: {done.stdout[-500:]} {done.stderr[-500:]}")
            figures[f"{name}_{clients}"] = round(float(match.group(1)), 1)
    figures["load"] = round(os.getloadavg()[0], 1)
    return figures


def run() -> dict[str, Any]:
    require_wrk()
    base = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if not base:
        raise BenchFailed("no PostgreSQL: set KIOSK_TEST_POSTGRES_URL")
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="kiosk-bench-wrk-") as tmp,
        postgres_schema(base) as database_url,
    ):
        workdir = Path(tmp)
        engine = open_database(database_url)
        with Session(engine) as session, session.begin():
            apply_seeds(session, load_seed_file(SEED_FILE))
        counter_token = add_device(engine, "bench-counter", "counter")
        board_token = add_device(engine, "bench-board", "board")
        results["durability"] = durability(engine)
        if "commit" in PARTS:
            results["commit_ceiling"] = commit_ceiling(engine, database_url, workdir)
        kiosks = 0
        for workers in sorted(WORKERS, reverse=True):
            figures: dict[str, Any] = {}
            with server(database_url, workers, workdir) as (url, master):
                pids = worker_pids(master, workers)
                server_pids = sorted({master, *pids})
                if workers == max(WORKERS) and "sync" in PARTS:
                    figures["sync_backlog"] = sync_backlog(workdir, engine, url)
                    figures["load_sync"] = round(os.getloadavg()[0], 1)
                if "health" in PARTS:
                    figures["health"] = health_ceiling(url, server_pids)
                    figures["load_health"] = round(os.getloadavg()[0], 1)
                with RssWatch(pids) as watch:
                    for counters in (8, 50) if "call" in PARTS else ():
                        figures[f"call_next_{counters}"] = call_next_run(
                            engine, url, counter_token, counters, server_pids
                        )
                        figures[f"load_call_next_{counters}"] = round(os.getloadavg()[0], 1)
                    if "push" in PARTS:
                        kiosks += 1
                        name = f"bench-kiosk-{kiosks}"
                        with kiosk_store(
                            workdir, engine, name, PUSH_EVENTS, kiosks * KIOSK_BLOCK
                        ) as (kiosk_engine, token):
                            pushed: dict[str, float] = {}
                            during = push_thread(url, kiosk_engine, name, token, pushed)
                            run = call_next_run(engine, url, counter_token, 50, server_pids, during)
                        if pushed.get("accepted") != PUSH_EVENTS:
                            raise BenchFailed(f"the push during call-next: {pushed}")
                        figures["call_next_50_during_push"] = {
                            **run,
                            "push_seconds": round(pushed["seconds"], 2),
                        }
                        figures["load_call_next_push"] = round(os.getloadavg()[0], 1)
                    if "board" in PARTS:
                        figures["board"] = board_latency(
                            engine, url, counter_token, board_token, None
                        )
                        kiosks += 1
                        name = f"bench-kiosk-{kiosks}"
                        with kiosk_store(
                            workdir, engine, name, PUSH_EVENTS, kiosks * KIOSK_BLOCK
                        ) as (kiosk_engine, token):
                            pushed = {}
                            during = push_thread(url, kiosk_engine, name, token, pushed)
                            figures["board_during_push"] = board_latency(
                                engine, url, counter_token, board_token, during
                            )
                        if pushed.get("accepted") != PUSH_EVENTS:
                            raise BenchFailed(f"the push during the board run: {pushed}")
                        figures["board_during_statistics"] = board_latency(
                            engine,
                            url,
                            counter_token,
                            board_token,
                            long_statistics_query(engine, BOARD_CALLS * 0.05),
                        )
                        figures["load_board"] = round(os.getloadavg()[0], 1)
                if any(watch.peak.values()):
                    figures["rss_mb_per_worker"] = round(max(watch.peak.values()), 1)
            results[f"workers_{workers}"] = figures
        engine.dispose()
    return results


def table(results: dict[str, Any]) -> str:
    """The figures as the README prints them."""
    workers = [k for k in results if k.startswith("workers_")]
    lines = [
        f"Machine: {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.1f}; wrk, "
        "PostgreSQL and the server share these cores.",
        "PostgreSQL: "
        + ", ".join(f"{k} = {v}" for k, v in results["durability"].items())
        + " (as shipped)",
    ]
    ceiling = results.get("commit_ceiling")
    if ceiling:
        lines.append(
            "PostgreSQL's own commits/s here (pgbench, 5 s each, load "
            f"{ceiling['load']}): one-row inserts {ceiling['insert_1']} (1 connection) / "
            f"{ceiling['insert_50']} (50); one shared row updated {ceiling['hot_row_1']} (1) / "
            f"{ceiling['hot_row_50']} (50)"
        )
    lines += [
        "",
        "| figure | " + " | ".join(k.replace("_", " ") for k in workers) + " |",
        "|---|" + "---|" * len(workers),
    ]

    def row(label: str, pick: Any) -> None:
        cells = []
        for w in workers:
            try:
                value = pick(results[w])
            except KeyError:
                value = "–"
            cells.append(str(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("health, 50 connections: req/s", lambda f: f["health"]["per_second"])
    row("health: server CPU ms per request", lambda f: f["health"]["cpu_ms_per_request"])
    row(
        "health p50 / p99 ms",
        lambda f: f"{f['health']['p50_ms']:.1f} / {f['health']['p99_ms']:.1f}",
    )
    for counters in (8, 50):
        key = f"call_next_{counters}"
        row(f"call-next, {counters} counters: tickets/s", lambda f, k=key: f[k]["per_second"])
        row(
            f"call-next, {counters} counters: p50 / p99 ms",
            lambda f, k=key: f"{f[k]['p50_ms']:.1f} / {f[k]['p99_ms']:.1f}",
        )
        row(
            f"call-next, {counters} counters: server CPU ms per request",
            lambda f, k=key: f[k]["cpu_ms_per_request"],
        )
        row(
            f"call-next, {counters} counters: PostgreSQL / wrk CPU ms per request",
            lambda f, k=key: (
                f"{f[k]['postgres_cpu_ms_per_request']} / {f[k]['wrk_cpu_ms_per_request']}"
            ),
        )
        row(
            f"ratio call-next {counters} / health",
            lambda f, k=key: f"{f[k]['per_second'] / f['health']['per_second']:.2f}",
        )
    key = "call_next_50_during_push"
    row("call-next, 50 counters, 1,000-event push: tickets/s", lambda f: f[key]["per_second"])
    row(
        "… p50 / p99 ms (push took s)",
        lambda f: f"{f[key]['p50_ms']:.1f} / {f[key]['p99_ms']:.1f} ({f[key]['push_seconds']})",
    )
    row("call → board p50 / p99 ms", lambda f: f"{f['board']['p50_ms']} / {f['board']['p99_ms']}")
    row(
        "call → board during a push, p50 / p99 ms",
        lambda f: f"{f['board_during_push']['p50_ms']} / {f['board_during_push']['p99_ms']}",
    )
    row(
        "call → board during a long statistics query, p50 / p99 ms",
        lambda f: (
            f"{f['board_during_statistics']['p50_ms']} / {f['board_during_statistics']['p99_ms']}"
        ),
    )
    row("kiosk sync --once, 10,000-event backlog: s", lambda f: f["sync_backlog"]["seconds"])
    row("server RSS per worker (peak): MB", lambda f: f["rss_mb_per_worker"])
    loads = ("load_health", "load_call_next_8", "load_call_next_50", "load_call_next_push")
    row(
        "load average (health / 8 / 50 / push / board / sync)",
        lambda f: " / ".join(str(f.get(k, "–")) for k in (*loads, "load_board", "load_sync")),
    )
    return "\n".join(lines)


def main() -> int:
    # A stopped benchmark still stops its server and drops its schema.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    try:
        results = run()
    except BenchFailed as exc:
        print(f"FAILED, no figures: {exc}", file=sys.stderr)
        return 1
    print(table(results))
    (Path(__file__).resolve().parent / "results-wrk.json").write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
