"""Scenario 4: PostgreSQL restarted under the server while counters call next over HTTP.

Several counter threads call next through a real uvicorn on 127.0.0.1 (retrying a failed
request with the same request id, as the counter app does) while `pg_ctlcluster ... restart`
runs twice. No ticket may be called twice or lost: each is called once (and its caller got it)
or still waiting. The server must recover by itself: pool_pre_ping replaces SQLAlchemy's dead
connections, call-next's own psycopg pool replaces its dead ones after the first call that
meets one (and makes that call again, safely, under its request id), and the LISTEN thread
reconnects.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from sqlalchemy import Engine, make_url, select
from sqlalchemy.orm import Session

from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.events import EventType
from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from resilience.conftest import Recorder, must_run_in_ci, root_with
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.database import seed
from tests.support.server import LiveServer, wait_until

COUNTERS = 4
TICKETS = 1200
RESTARTS = 2
REQUEST_DEADLINE = 90.0  # a counter keeps retrying one request this long


def cluster_of(url: str) -> tuple[str, str]:
    """(version, name) of the local cluster serving `url`'s port."""
    port = str(make_url(url).port or 5432)
    listed = subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=False, timeout=30
    )
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == port:
            return parts[0], parts[1]
    must_run_in_ci(f"no local PostgreSQL cluster on port {port} (pg_lsclusters)")
    raise AssertionError("unreachable")


def pg_ready(url: str) -> bool:
    host = make_url(url).host or "127.0.0.1"
    port = str(make_url(url).port or 5432)
    ready = subprocess.run(["pg_isready", "-q", "-h", host, "-p", port], check=False, timeout=30)
    return ready.returncode == 0


@pytest.fixture
def cluster(postgres_url: str) -> Iterator[tuple[str, str]]:
    root_with("pg_ctlcluster", "pg_lsclusters", "pg_isready")
    version, name = cluster_of(postgres_url)
    try:
        yield version, name
    finally:
        # Whatever happened, leave PostgreSQL running.
        if not pg_ready(postgres_url):
            subprocess.run(["pg_ctlcluster", version, name, "start"], check=False, timeout=120)
        wait_until(lambda: pg_ready(postgres_url), 60, "PostgreSQL to be back")


@dataclass
class Counter_:
    token: str
    room: str
    got: list[str] = field(default_factory=list)
    calls: int = 0
    failures: int = 0
    empty: bool = False
    error: str | None = None


def counter_loop(base: str, counter: Counter_, stop: threading.Event) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {counter.token}"
    try:
        while not stop.is_set() and not counter.empty:
            request_id = uuid.uuid4().hex
            deadline = time.monotonic() + REQUEST_DEADLINE
            while True:
                try:
                    response = http.post(
                        f"{base}/api/v1/departments/NOI/call-next",
                        json={"room": counter.room, "request_id": request_id},
                        timeout=10,
                    )
                except requests.RequestException:
                    response = None
                if response is not None and response.status_code == 200:
                    break
                if response is not None and response.status_code < 500:
                    raise AssertionError(f"{response.status_code}: {response.text}")
                counter.failures += 1
                if time.monotonic() > deadline:
                    raise AssertionError(f"request {request_id} failed for {REQUEST_DEADLINE} s")
                stop.wait(0.05)  # retry pace while the database is away
            ticket = response.json()["ticket"]
            counter.calls += 1
            if ticket is None:
                counter.empty = True
            else:
                counter.got.append(ticket["id"])
    except BaseException as exc:  # reported by the test
        counter.error = repr(exc)
    finally:
        http.close()


def total_calls(counters: list[Counter_]) -> int:
    return sum(c.calls for c in counters)


@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_postgres_restart_while_counters_call(
    postgres_url: str,
    cluster: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    summary: Recorder,
) -> None:
    caplog.set_level(logging.INFO, logger="server_sync.server")
    engine: Engine = open_database(postgres_url)
    seed(engine)
    issuer = QueueService(engine, origin="kiosk-direct")
    for i in range(TICKETS):
        issuer.issue("NOI", "elderly_75" if i % 9 == 0 else None)
    counters = [
        Counter_(add_device(engine, f"counter-{i}", "counter"), ("101", "102", "103")[i % 3])
        for i in range(COUNTERS)
    ]
    app = create_app(engine, Config())
    live = LiveServer(app).start()
    notifier = app.state.kiosk.notifier
    wait_until(lambda: notifier.listening_to_database, 20, "the LISTEN thread")
    stop = threading.Event()
    threads = [
        threading.Thread(target=counter_loop, args=(live.url, c, stop), daemon=True)
        for c in counters
    ]
    version, name = cluster
    try:
        for thread in threads:
            thread.start()
        for _ in range(RESTARTS):
            before = total_calls(counters)
            wait_until(lambda b=before: total_calls(counters) >= b + 40, 60, "calls")  # type: ignore[misc]
            restarted = subprocess.run(
                ["pg_ctlcluster", version, name, "restart"],
                capture_output=True,
                text=True,
                check=False,
                timeout=180,
            )
            assert restarted.returncode == 0, restarted.stderr
            after = total_calls(counters)
            # Recovered by itself: calls go on without anyone restarting the server.
            wait_until(lambda a=after: total_calls(counters) >= a + 40, 90, "calls after restart")  # type: ignore[misc]
        wait_until(
            lambda: "listening for feed notifications again" in caplog.text,
            30,
            "the LISTEN thread to reconnect",
        )
        wait_until(lambda: notifier.listening_to_database, 30, "LISTEN again")
        health = requests.get(f"{live.url}/api/v1/health", timeout=10)
        assert health.status_code == 200, health.text
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_DEADLINE + 20)
        live.stop()
    errors = [c.error for c in counters if c.error]
    assert not errors, errors

    with Session(engine) as session:
        tickets = session.scalars(select(Ticket).where(Ticket.department_code == "NOI")).all()
        called_events = Counter(
            session.scalars(select(Event.ticket_id).where(Event.type == EventType.CALLED))
        )
    engine.dispose()
    got = Counter(t for c in counters for t in c.got)
    doubled = sum(n - 1 for n in got.values() if n > 1)
    doubled += sum(n - 1 for n in called_events.values() if n > 1)
    doubled += sum(1 for t in tickets if t.call_count > 1)
    called = {t.id for t in tickets if t.status == "called"}
    waiting = {t.id for t in tickets if t.status == "waiting"}
    lost = len(tickets) - len(called) - len(waiting)  # any other state is a loss here
    lost += len(called - set(got))  # called, but no counter was told: nobody will serve it
    assert doubled == 0, "a ticket was called twice"
    assert lost == 0, "a ticket was lost"
    assert set(called_events) == called == set(got)
    failures = sum(c.failures for c in counters)
    summary.record(
        "4 PostgreSQL restarted under the server",
        f"`pg_ctlcluster {version} {name} restart` while {COUNTERS} counters call next "
        f"over HTTP ({failures} failed requests retried with their request id)",
        RESTARTS,
        "each ticket called once or still waiting; every called ticket reached its counter; "
        "server recovers alone (pool_pre_ping, call-next's pool, LISTEN reconnects, "
        "/health 200)",
        len(tickets),
        lost=lost,
        duplicated=doubled,
    )
