"""`kiosk server --workers N`: uvicorn's process model on one port, every worker woken by
PostgreSQL's notifications, READY=1 only once every worker listens; `server.workers` checked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from kiosk.config import ConfigError, parse_config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server.devices import add_device
from tests.support.database import seed

ROOT = Path(__file__).resolve().parents[2]
# Counters spread over four departments, each with one of its rooms.
ROOMS = {"TIEPDON": "Q1", "NOI": "101", "NGOAI": "104", "SAN": "201"}
TICKETS_PER_DEPARTMENT = 100
COUNTERS = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workers:
    url: str
    process: subprocess.Popen[str]
    ready_message: str
    counter_token: str
    board_token: str


@pytest.fixture
def workers(postgres_url: str, tmp_path: Path) -> Iterator[Workers]:
    engine = open_database(postgres_url)
    seed(engine)
    counter_token = add_device(engine, "counter-1", "counter")
    board_token = add_device(engine, "board-1", "board")
    engine.dispose()
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(90)
    port = free_port()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[server]\nport = {port}\nworkers = 2\ndatabase_url = "{postgres_url}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")}
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "server", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        message = notify.recv(256).decode()
        yield Workers(f"http://127.0.0.1:{port}", process, message, counter_token, board_token)
        process.terminate()
        assert notify.recv(256) == b"STOPPING=1"
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert stderr.count("Application shutdown complete") == 2, stderr
        # Each worker froze what it made until it served (a push's full collections walked it).
        assert stderr.count("start-up objects frozen out of the garbage collector") == 2, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        notify.close()


def _worker_pids(master: int) -> set[int]:
    """The master's children that multiprocessing spawned to serve (not its resource tracker)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    }


@pytest.mark.postgres
@pytest.mark.slow
def test_fifty_racing_counters_on_two_workers_call_every_ticket_once(
    workers: Workers, postgres_url: str
) -> None:
    # READY=1 came only once both workers listened: the port answers at once, two processes.
    assert workers.ready_message.splitlines()[0] == "READY=1"
    assert "with 2 workers" in workers.ready_message
    assert requests.get(f"{workers.url}/api/v1/health", timeout=30).status_code == 200
    assert len(_worker_pids(workers.process.pid)) == 2

    engine = open_database(postgres_url)
    service = QueueService(engine, origin="kiosk-direct")
    issued = {
        service.issue(code).ticket.id for code in ROOMS for _ in range(TICKETS_PER_DEPARTMENT)
    }
    engine.dispose()

    start = threading.Barrier(COUNTERS)

    def counter(index: int) -> list[str]:
        code = list(ROOMS)[index % len(ROOMS)]
        called: list[str] = []
        with requests.Session() as http:  # keep-alive, like a counter screen
            http.headers["Authorization"] = f"Bearer {workers.counter_token}"
            start.wait()
            while True:
                answer = http.post(
                    f"{workers.url}/api/v1/departments/{code}/call-next",
                    json={"room": ROOMS[code]},
                    timeout=60,
                )
                assert answer.status_code == 200, answer.text
                ticket = answer.json()["ticket"]
                if ticket is None:
                    return called
                assert ticket["department"] == code
                called.append(ticket["id"])

    with ThreadPoolExecutor(COUNTERS) as pool:
        results = list(pool.map(counter, range(COUNTERS)))
    everything = [ticket for result in results for ticket in result]
    twice = [ticket for ticket, n in Counter(everything).items() if n > 1]
    assert twice == []
    assert set(everything) == issued


@pytest.mark.postgres
@pytest.mark.slow
def test_a_call_through_one_worker_wakes_long_polls_on_every_worker(
    workers: Workers, postgres_url: str
) -> None:
    engine = open_database(postgres_url)
    QueueService(engine, origin="kiosk-direct").issue("NOI")
    engine.dispose()
    board = {"Authorization": f"Bearer {workers.board_token}"}
    cursor = requests.get(f"{workers.url}/api/v1/events", headers=board, timeout=30).json()[
        "cursor"
    ]
    waits = 60
    polls = 12  # on fresh connections: the kernel hands them to both workers

    def long_poll(_: int) -> tuple[int, list[str]]:
        with requests.Session() as http:
            answer = http.get(
                f"{workers.url}/api/v1/events",
                params={"after": cursor, "wait": waits},
                headers=board,
                timeout=waits + 30,
            )
            assert answer.status_code == 200
            return answer.elapsed.seconds, [e["type"] for e in answer.json()["events"]]

    with ThreadPoolExecutor(polls) as pool:
        pending = [pool.submit(long_poll, i) for i in range(polls)]
        # Every poll is parked before the call is made (no event yet: they wait).
        deadline = threading.Event()
        deadline.wait(2.0)
        assert not any(p.done() for p in pending)
        called = requests.post(
            f"{workers.url}/api/v1/departments/NOI/call-next",
            json={"room": "101"},
            headers={"Authorization": f"Bearer {workers.counter_token}"},
            timeout=30,
        )
        assert called.json()["ticket"] is not None
        answers = [p.result() for p in pending]
    for elapsed, types in answers:
        assert types == ["ticket.called"]
        assert elapsed < waits, "a long-poll was not woken by the call made in another worker"


def test_workers_is_checked_in_the_config_and_on_the_command_line(tmp_path: Path) -> None:
    for bad in (0, 33, "two", 1.5):
        with pytest.raises(ConfigError) as raised:
            parse_config({"server": {"workers": bad}})
        assert "server.workers" in str(raised.value)
        assert "expected" in str(raised.value)
    assert parse_config({"server": {"workers": 4}}).server.workers == 4
    for bad_arg in ("0", "x"):
        run = subprocess.run(
            [sys.executable, "-m", "kiosk", "server", "--workers", bad_arg],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2
        assert "--workers" in run.stderr and "from 1 to 32" in run.stderr


def test_several_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[server]\nworkers = 3\ndatabase_url = "sqlite:///{tmp_path / "server.db"}"\n',
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "kiosk", "server", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "server.workers = 3 needs PostgreSQL" in run.stderr
