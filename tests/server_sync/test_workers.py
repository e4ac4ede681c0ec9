"""`kiosk server --workers N`: uvicorn's process model on one port, every worker woken by
PostgreSQL's notifications, READY=1 only once every worker listens; `server.workers` checked."""

from __future__ import annotations

import contextlib
import os
import signal
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
from tests.support.server import wait_until

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
    replaced: int = 0  # workers a test killed (uvicorn starts one in place of each)


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
        yielded = Workers(f"http://127.0.0.1:{port}", process, message, counter_token, board_token)
        yield yielded
        process.terminate()
        assert notify.recv(256) == b"STOPPING=1"
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert stderr.count("Application shutdown complete") == 2, stderr
        # Each worker froze what it made until it served (a push's full collections walked it).
        frozen = stderr.count("start-up objects frozen out of the garbage collector")
        assert frozen == 2 + yielded.replaced, stderr
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


def _sockets(pid: int, port: int, state: str) -> set[str]:
    """The inodes of process `pid`'s TCP sockets on local `port` in `state` (kernel's code:
    01 established, 0A listening)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state and fields[9] in inodes:
                found.add(fields[9])
    return found


@pytest.mark.postgres
@pytest.mark.slow
def test_a_burst_of_counters_connecting_at_once_is_spread_over_the_workers(
    workers: Workers,
) -> None:
    # 40 keep-alive connections opened together, as counters do after a network outage: on
    # one shared socket the worker that was free took (nearly) all of them.
    connections = 40
    port = int(workers.url.rsplit(":", 1)[1])
    start = threading.Barrier(connections)
    sessions = [requests.Session() for _ in range(connections)]

    def connect(http: requests.Session) -> int:
        start.wait()
        return http.get(f"{workers.url}/api/v1/health", timeout=60).status_code

    try:
        with ThreadPoolExecutor(connections) as pool:
            assert list(pool.map(connect, sessions)) == [200] * connections
        pids = sorted(_worker_pids(workers.process.pid))
        per_worker = [len(_sockets(pid, port, "01")) for pid in pids]
        listening = [_sockets(pid, port, "0A") for pid in pids]
    finally:
        for http in sessions:
            http.close()
    # Each worker listens on a socket of its own; the master, holding the port, on none.
    assert all(len(own) == 1 for own in listening) and listening[0] != listening[1], listening
    assert _sockets(workers.process.pid, port, "0A") == set()
    assert sum(per_worker) == connections, per_worker
    # The kernel hashes each connection to a worker's socket: 8-32 of 40 on each unless
    # something is wrong (a fair coin falls outside that once in ~50,000 runs).
    assert all(8 <= n <= 32 for n in per_worker), per_worker


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_killed_is_replaced_and_no_connection_is_left_to_its_socket(
    workers: Workers,
) -> None:
    port = int(workers.url.rsplit(":", 1)[1])
    master = workers.process.pid
    first = _worker_pids(master)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    workers.replaced = 1

    def replaced_and_listening() -> bool:
        pids = _worker_pids(master)
        return (
            len(pids) == 2
            and victim not in pids
            and all(len(_sockets(pid, port, "0A")) == 1 for pid in pids)
        )

    wait_until(replaced_and_listening, 90, "a new worker to listen in place of the killed one")

    # Fresh connections, hashed over the workers' sockets: none lands on the dead one's.
    def fresh(_: int) -> int:
        with requests.Session() as http:
            return http.get(f"{workers.url}/api/v1/health", timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(fresh, range(40))) == [200] * 40


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


def run_server(tmp_path: Path, server_section: str) -> subprocess.CompletedProcess[str]:
    """`kiosk server` with `[server]` as given, run to its end (these tests expect it to stop)."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[server]\n{server_section}", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "server", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_several_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    run = run_server(
        tmp_path, f'workers = 3\ndatabase_url = "sqlite:///{tmp_path / "server.db"}"\n'
    )
    assert run.returncode == 2, run.stderr
    assert "server.workers = 3 needs PostgreSQL" in run.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("shared", [False, True], ids=["plain", "reuseport"])
def test_a_port_taken_by_another_program_stops_the_server_with_the_reason(
    postgres_url: str, tmp_path: Path, shared: bool
) -> None:
    # `shared`: taken as another `kiosk server`'s worker takes it (SO_REUSEPORT, same user):
    # a second server must not quietly share the port's connections with the first.
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(shared))
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        run = run_server(tmp_path, f'port = {port}\nworkers = 2\ndatabase_url = "{postgres_url}"\n')
    assert run.returncode == 1, run.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr
    assert "Address already in use" in run.stderr
