"""`kiosk server` under systemd: READY=1 once the port is bound and answering.

kiosk-server.service is `Type=notify`, so `systemctl start` returns (and units ordered after it
start) only when the server really listens — not when its process merely exists.

With `server.workers` > 1, uvicorn's own process model serves the port: the master holds the
port and starts N worker processes (`WorkerSupervisor`), each accepting on a socket of its own
bound to that port (`ListenerPerWorker`); each worker builds the application with
`worker_app()` from what the master put in its environment. Every worker LISTENs on
PostgreSQL, so a call made through one wakes the long-polls of all.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import cast

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from kiosk import systemd

log = logging.getLogger("kiosk.server")

# What a worker process needs to build the same application as the master would.
WORKER_CONFIG_ENV = "KIOSK_SERVER_WORKER_CONFIG"
WORKER_DATABASE_ENV = "KIOSK_SERVER_WORKER_DATABASE"
WORKER_VERBOSE_ENV = "KIOSK_SERVER_WORKER_VERBOSE"
WORKER_COUNT_ENV = "KIOSK_SERVER_WORKER_COUNT"
# Database connections of all workers together (each gets its share, at least 8; a core serves
# a dozen concurrent requests well), so that N workers stay well inside PostgreSQL's
# max_connections (100 by default) with room to spare. A worker's share is split: a third
# (at least 2) for call-next's own pool on the event loop (`pgpool`), the rest for SQLAlchemy's
# pool and as many request threads. With 2 workers: 12 each = 4 call-next + 8 SQLAlchemy,
# + 1 LISTEN = 13 per worker, 26 for the server (+ the master's one idle connection) of 100.
CONNECTIONS_PER_SERVER = 24
MIN_CONNECTIONS_PER_WORKER = 8
MIN_CALL_NEXT_CONNECTIONS = 2
# The import string uvicorn's workers load (a factory: called once in each worker).
WORKER_APP = "server_sync.server.serving:worker_app"


def _stream_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def hold_port(host: str, port: int) -> socket.socket:
    """The master's hold on the port: bound, never listening (so the kernel never hands it a
    connection), keeping any other program off the port while workers come and go.

    The port is first tried without SO_REUSEPORT: that fails when anything is bound to it,
    even another `kiosk server` of the same user, whose workers would otherwise share the
    port's connections with these without a word. Raises OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as alone:
        alone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        alone.bind((host, port))
        port = int(alone.getsockname()[1])  # the port the system chose, for port 0
    sock = _stream_socket(host)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def bind_worker_socket(host: str, port: int) -> socket.socket:
    """In a starting worker: its own socket on the server's port, bound, not yet listening
    (uvicorn listens once the worker's application has started, so no connection waits in the
    backlog of a worker that is still starting). A failure ends the worker as a start-up
    failure, which stops the master (it would fail the same way every time)."""
    try:
        sock = _stream_socket(host)
        sock.bind((host, port))
    except OSError as exc:
        log.error("worker process %d cannot bind %s:%d: %s", os.getpid(), host, port, exc)
        sys.exit(STARTUP_FAILURE)
    sock.set_inheritable(True)
    return sock


class ListenerPerWorker:
    """What the master hands each worker in place of a shared socket: the worker binds its own
    on the same port with SO_REUSEPORT, and the kernel spreads new connections evenly over
    the workers' sockets (by a hash of the two ends' addresses). On one shared socket, the
    worker whose event loop was free when a burst of connections arrived accepted them all: 40
    of 50 counters on one of two workers (bench_wrk), its calls p50 131-142 ms against 31-35 ms
    on the other.

    uvicorn passes its sockets to each spawned worker by pickling them; this object is pickled
    instead and becomes, when the worker unpickles it, that worker's new socket
    (`bind_worker_socket`). A worker that dies closes its socket, so the kernel stops handing
    it connections, and its replacement binds its own."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple[Callable[[str, int], socket.socket], tuple[str, int]]:
        return bind_worker_socket, (self.host, self.port)


class NotifyingServer(uvicorn.Server):
    """A uvicorn server that tells systemd READY=1 after its startup and STOPPING=1 at its end.

    One process here. With several worker processes the master must say READY=1 only once
    every worker listens: call `announce_ready()` from there instead, when the last one is up.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.announce_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        systemd.notify("STOPPING=1")
        await super().shutdown(sockets=sockets)

    def announce_ready(self, workers: int = 1) -> None:
        where = f"{self.config.host}:{self.config.port}"
        status = f"listening on {where}" + (f" with {workers} workers" if workers > 1 else "")
        if systemd.notify(f"READY=1\nSTATUS={status}"):
            log.info("told systemd: ready, %s", status)


class WorkerSupervisor(Multiprocess):
    """uvicorn's multiprocess master, telling systemd READY=1 once every worker has started
    (its lifespan ran, so it LISTENs on PostgreSQL, and it accepts on its socket).

    uvicorn restarts a worker that dies; a worker that fails at start-up stops the master
    (a broken config or database fails the same way every time).
    """

    def __init__(self, config: uvicorn.Config, port: int) -> None:
        # uvicorn only passes its sockets on to the workers: each gets its own (see above).
        listeners = cast(list[socket.socket], [ListenerPerWorker(config.host, port)])
        super().__init__(config, listeners)
        self.announcer = NotifyingServer(config)
        self.ready = False

    def run(self) -> None:
        log.info("master process %d starting %d workers", os.getpid(), self.processes_num)
        self.init_processes()
        while not self.should_exit.wait(0.2):
            self.handle_signals()
            self.keep_subprocess_alive()
            if not self.ready and not self.should_exit.is_set() and self._all_ready():
                self.ready = True
                self.announcer.announce_ready(len(self.processes))
                log.info("all %d workers listen", len(self.processes))
        systemd.notify("STOPPING=1")
        self.terminate_all()
        self.join_all()
        log.info("master process %d stopped", os.getpid())

    def _all_ready(self) -> bool:
        return len(self.processes) == self.processes_num and all(
            process.is_ready(timeout=1) for process in self.processes
        )


def worker_app() -> FastAPI:
    """The application of one worker process (uvicorn calls this factory in each worker)."""
    from kiosk.config import load_config
    from kiosk.logs import setup_logging
    from kiosk.queue.db import open_engine
    from server_sync.server.app import create_app

    setup_logging(os.environ.get(WORKER_VERBOSE_ENV) == "1", long_running=True)
    config = load_config(os.environ.get(WORKER_CONFIG_ENV) or None)
    workers = max(1, int(os.environ.get(WORKER_COUNT_ENV) or "1"))
    connections = max(MIN_CONNECTIONS_PER_WORKER, CONNECTIONS_PER_SERVER // workers)
    call_next = max(MIN_CALL_NEXT_CONNECTIONS, connections // 3)
    threads = connections - call_next
    # The master migrated the database before it started the workers.
    engine = open_engine(
        os.environ.get(WORKER_DATABASE_ENV) or config.server_database_url,
        pool_size=threads // 2,
        max_overflow=threads - threads // 2,
    )
    log.info(
        "worker process %d serving with %d connections (%d for call-next)",
        os.getpid(),
        connections,
        call_next if engine.dialect.name == "postgresql" else 0,
    )
    return create_app(
        engine,
        config,
        request_threads=threads,
        call_next_connections=call_next,
        freeze_start_up=True,
    )
