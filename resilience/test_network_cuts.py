"""Scenario 3: the network between a kiosk and the server drops mid-request.

The kiosk's sync worker talks to the server through FlakyProxy, which cuts most connections
after a random number of bytes: in the middle of a push body, in the middle of an answer
(the server committed, the kiosk never heard), or at once. Meanwhile the kiosk issues, the
counters call and serve on the server, and another kiosk's tickets arrive there. Once the
worker's retries settle, each side must hold every ticket and event exactly once, with the
same states, and the kiosk's pull cursor must be at the server's feed head.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.events import outbox
from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from resilience.checks import assert_kiosk_consistent, assert_replicated_once
from resilience.conftest import Recorder
from resilience.proxy import FlakyProxy
from server_sync.client import SyncClient, SyncWorker
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.database import seed
from tests.support.server import LiveServer, wait_until

ORIGIN = "kiosk-hall-1"
ROUNDS = 30


@pytest.fixture
def server_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    seed(engine)
    yield engine
    engine.dispose()


def settled(kiosk: Engine, server: Engine, client: SyncClient) -> bool:
    with Session(kiosk) as session:
        if outbox(session, ORIGIN, limit=1):
            return False
    with Session(server) as session:
        head = session.scalar(select(func.max(Event.position))) or 0
    return client.cursor() >= head


@pytest.mark.timeout(300)
def test_network_cut_mid_request(tmp_path: Path, server_engine: Engine, summary: Recorder) -> None:
    token = add_device(server_engine, ORIGIN, "kiosk")
    live = LiveServer(create_app(server_engine, Config())).start()
    host, port = live.sock.getsockname()
    proxy = FlakyProxy((host, port), seed=20261128, fault_rate=0.5, max_cut_bytes=8000)
    kiosk_engine = open_database(f"sqlite:///{tmp_path / 'kiosk.db'}")
    seed(kiosk_engine)
    kiosk = QueueService(kiosk_engine, origin=ORIGIN)
    counters = QueueService(server_engine, origin="server")
    other_kiosk = QueueService(server_engine, origin="kiosk-hall-2", numbering_offset=500)
    client = SyncClient(
        kiosk_engine,
        base_url=proxy.url,
        token=token,
        origin=ORIGIN,
        timeout=3,
        push_batch=5,
        pull_page=10,
    )
    # One request per connection, so that every request meets its own fate at the proxy.
    client.http.headers["Connection"] = "close"
    worker = SyncWorker(client, interval=0.02, base=0.02, cap=0.3, rng=random.Random(3))
    rng = random.Random(11)
    worker.start()
    try:
        for _ in range(ROUNDS):
            for _ in range(20):
                kiosk.issue(rng.choice(("NOI", "NHI")))
            for _ in range(5):
                other_kiosk.issue("NOI")
            for _ in range(8):
                called = counters.call_next("NOI", "101")
                if called is not None and rng.random() < 0.7:
                    counters.serve(called.id)
            seen = proxy.fates.connections
            worker.wake()
            wait_until(lambda n=seen: proxy.fates.connections >= n + 5, 30, "sync traffic")  # type: ignore[misc]
        wait_until(lambda: settled(kiosk_engine, server_engine, client), 180, "sync to settle")
    finally:
        worker.stop()
        client.close()
        proxy.close()
        live.stop()

    assert_kiosk_consistent(kiosk_engine, ORIGIN, synced=True)
    replicated = assert_replicated_once(kiosk_engine, server_engine, ORIGIN)
    with Session(kiosk_engine) as session:
        k_events = session.scalars(select(Event.id)).all()
        k_tickets = {t.id: t.status for t in session.scalars(select(Ticket))}
    with Session(server_engine) as session:
        s_events = session.scalars(select(Event.id)).all()
        s_tickets = {t.id: t.status for t in session.scalars(select(Ticket))}
    assert len(k_events) == len(set(k_events)), "an event doubled on the kiosk"
    assert set(k_events) == set(s_events), "the kiosk's pulls lost or invented events"
    assert k_tickets == s_tickets, "ticket states differ between kiosk and server"
    fates = proxy.fates
    assert fates.cut_request and fates.cut_response and fates.reset, fates
    kiosk_engine.dispose()
    summary.record(
        "3 network cut mid-request",
        f"TCP proxy cut {fates.faults} of {fates.connections} connections "
        f"({fates.cut_request} mid-request, {fates.cut_response} mid-response, "
        f"{fates.reset} reset)",
        fates.faults,
        "server: kiosk's tickets + events once, in seq order; kiosk: every server event "
        "once, cursor at the feed head, same ticket states both sides",
        len(s_tickets),
    )
    assert replicated.tickets == ROUNDS * 20
