"""The kiosk's sync client against a real server: offline issuing, push, pull, backoff, clock."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
from collections.abc import Callable

import pytest
import requests
from sqlalchemy import Engine, select

from kiosk.queue.events import event_to_dict, outbox
from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from server_sync.backoff import full_jitter
from server_sync.client import (
    CLOCK_WARN_SECONDS,
    ServerRefused,
    ServerUnreachable,
    SyncWorker,
    parse_retry_after,
)
from tests.support.server import LiveServer, sync_client, wait_until


def test_kiosk_offline_issues_200_then_pushes_each_once_in_order(
    make_server: Callable[..., LiveServer],
    tokens: dict[str, str],
    server_engine: Engine,
    kiosk_engine: Engine,
    kiosk_service: QueueService,
) -> None:
    live = make_server(start=False)
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    issued = [kiosk_service.issue("NOI").ticket for _ in range(200)]
    with pytest.raises(ServerUnreachable):
        client.sync_once()
    live.start()

    report = client.sync_once()
    assert report.push.accepted == 200 and report.push.duplicates == 0
    assert report.push.rejected == []
    with kiosk_engine.connect() as connection:
        assert connection.scalar(select(Event.id).where(Event.synced_at.is_(None))) is None

    with server_engine.connect() as connection:
        numbers = connection.execute(
            select(Ticket.number, Ticket.id).order_by(Ticket.issued_at, Ticket.number)
        ).all()
        events = connection.execute(
            select(Event.seq, Event.type)
            .where(Event.origin == "kiosk-hall-1")
            .order_by(Event.position)
        ).all()
    assert [n for n, _ in numbers] == list(range(1, 201))
    assert [i for _, i in numbers] == [t.id for t in issued]
    assert events == [(seq, "ticket.issued") for seq in range(1, 201)]

    # The same batch again: every event a duplicate, nothing stored twice.
    with kiosk_engine.connect() as connection:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            batch = [
                event_to_dict(e)
                for e in session.scalars(select(Event).order_by(Event.seq)).all()
                if e.origin == "kiosk-hall-1"
            ]
    again = requests.post(
        f"{live.url}/api/v1/sync/events",
        json={"origin": "kiosk-hall-1", "events": batch},
        headers={"Authorization": f"Bearer {tokens['kiosk']}"},
        timeout=30,
    ).json()
    assert again["accepted"] == [] and again["rejected"] == []
    assert again["duplicates"] == [e["id"] for e in batch]
    with server_engine.connect() as connection:
        assert len(connection.execute(select(Ticket.id)).all()) == 200
    client.close()


def test_pull_brings_counter_calls_to_the_kiosk(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    kiosk_service: QueueService,
    server_engine: Engine,
) -> None:
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    tickets = [kiosk_service.issue("NOI").ticket for _ in range(3)]
    client.sync_once()
    assert kiosk_service.position(tickets[2].id).ahead == 2

    counter = {"Authorization": f"Bearer {tokens['counter']}"}
    for _ in range(2):
        requests.post(
            f"{live.url}/api/v1/departments/NOI/call-next",
            json={"room": "101"},
            headers=counter,
            timeout=30,
        )
    moved = requests.post(
        f"{live.url}/api/v1/tickets/{tickets[0].id}/transfer",
        json={"department": "NGOAI"},
        headers=counter,
        timeout=30,
    ).json()

    report = client.sync_once()
    assert report.pull.applied == 3  # two calls and a transfer
    assert kiosk_service.position(tickets[2].id).ahead == 0
    assert kiosk_service.get(tickets[1].id).status == "called"
    assert kiosk_service.get(moved["id"]).department == "NGOAI"
    counts = {d.code: d for d in kiosk_service.departments()}
    assert counts["NOI"].waiting == 1 and counts["NOI"].serving == 1
    assert counts["NGOAI"].waiting == 1
    # The cursor is durable: a new client on the same database pulls nothing again.
    fresh = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    assert fresh.cursor() == report.pull.cursor
    assert fresh.sync_once().pull.received == 0
    client.close()
    fresh.close()


def test_second_kiosk_with_the_same_numbers_is_rejected_not_merged(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    server_engine: Engine,
    tmp_path: object,
) -> None:
    from kiosk.queue.db import open_database
    from tests.support.database import seed

    other_engine = open_database(f"sqlite:///{tmp_path}/other.db")
    seed(other_engine)
    first = QueueService(kiosk_engine, origin="kiosk-hall-1")
    second = QueueService(other_engine, origin="kiosk-hall-2")  # same numbering.offset: wrong
    first.issue("NOI")
    clash = second.issue("NOI").ticket
    sync_client(kiosk_engine, live.url, tokens["kiosk"]).push()
    from server_sync.server.devices import add_device

    second_token = add_device(server_engine, "kiosk-hall-2", "kiosk")
    result = sync_client(other_engine, live.url, second_token, origin="kiosk-hall-2").push()
    assert result.accepted == 0 and len(result.rejected) == 1
    reason = result.rejected[0][1]
    assert "numbering.offset" in reason and "kiosk-hall-1" in reason
    with other_engine.connect() as connection:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            assert outbox(session, "kiosk-hall-2") == []
            stored = session.scalars(select(Event).where(Event.ticket_id == clash.id)).one()
            assert stored.rejected_reason == reason
    other_engine.dispose()


def test_cancel_after_the_server_called_the_ticket_is_rejected(
    live: LiveServer, tokens: dict[str, str], kiosk_engine: Engine, kiosk_service: QueueService
) -> None:
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    ticket = kiosk_service.issue("NOI").ticket
    client.push()
    requests.post(
        f"{live.url}/api/v1/departments/NOI/call-next",
        json={"room": "101"},
        headers={"Authorization": f"Bearer {tokens['counter']}"},
        timeout=30,
    )
    kiosk_service.cancel(ticket.id, "print_failed")
    result = client.push()
    assert len(result.rejected) == 1 and "it is called" in result.rejected[0][1]
    client.pull()  # the server is the authority: the kiosk now shows it called
    assert kiosk_service.get(ticket.id).status == "called"


def test_wrong_token_is_a_refusal(live: LiveServer, kiosk_engine: Engine) -> None:
    client = sync_client(kiosk_engine, live.url, "wrong")
    with pytest.raises(ServerRefused) as info:
        client.sync_once()
    assert info.value.status == 401


def test_worker_backs_off_while_the_server_is_down_then_recovers(
    make_server: Callable[..., LiveServer],
    tokens: dict[str, str],
    kiosk_engine: Engine,
    kiosk_service: QueueService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    live = make_server(start=False)
    kiosk_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    worker = SyncWorker(client, interval=0.05, base=0.01, cap=0.05, rng=random.Random(1))
    with caplog.at_level(logging.WARNING, logger="server_sync.client"):
        worker.start()
        wait_until(lambda: worker.failures >= 3, 60, "three failed rounds")
        live.start()
        worker.wake()
        wait_until(lambda: worker.last_report is not None and worker.failures == 0, 10)
        worker.stop()
    assert not worker.running
    assert any("sync failed" in r.getMessage() for r in caplog.records)
    with kiosk_engine.connect() as connection:
        assert connection.scalar(select(Event.id).where(Event.synced_at.is_(None))) is None
    client.close()


def test_full_jitter_and_retry_after() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        delays = [full_jitter(attempt, 1.0, 60.0, rng) for _ in range(50)]
        assert all(0 <= d <= min(60.0, 2**attempt) for d in delays)
    assert parse_retry_after("120") == 120.0
    now = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now) == 30.0
    assert parse_retry_after("soon") is None


def test_retry_after_is_honoured(kiosk_engine: Engine) -> None:
    client = sync_client(kiosk_engine, "http://127.0.0.1:9", "t")
    worker = SyncWorker(client, interval=5, base=1, cap=100)
    worker.failures = 1
    assert worker.next_delay(ServerRefused(503, "busy", retry_after=42)) == 42
    assert worker.next_delay(None) == 5


def test_the_clock_offset_comes_from_the_quickest_exchange(
    kiosk_engine: Engine, tokens: dict[str, str]
) -> None:
    """As NTP does: among recent exchanges the one with the smallest round trip gives the
    offset; slow answers (a loaded machine, a congested link) do not drag it."""
    client = sync_client(kiosk_engine, "http://127.0.0.1:9", tokens["kiosk"])
    t = 1_800_000_000.0  # a whole second: the Date header's moment is [t, t + 1)
    date = email.utils.formatdate(t + 10, usegmt=True)  # the server is 10 s ahead
    try:
        # Stamped early in a 6 s exchange: its midpoint reading would say +7.5 s.
        client._observe_clock(date, t, t + 6.0)
        assert client.clock_offset_seconds == pytest.approx(7.5)
        assert client.clock_offset_error_seconds == pytest.approx(4.5)
        client._observe_clock(email.utils.formatdate(t + 20, usegmt=True), t + 10.0, t + 10.2)
        assert client.clock_offset_seconds == pytest.approx(10.4)
        assert client.clock_offset_error_seconds == pytest.approx(1.6)
        client._observe_clock(email.utils.formatdate(t + 30, usegmt=True), t + 17.0, t + 21.0)
        assert client.clock_offset_seconds == pytest.approx(10.4)  # slower: not taken
    finally:
        client.close()


def test_clock_offset_from_the_date_header(
    live: LiveServer, tokens: dict[str, str], kiosk_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    client.sync_once()
    # Server and kiosk share this machine's clock, so the live estimate must stay far from the
    # warning threshold. How close to zero it comes depends on load, not on the code: uvicorn
    # refreshes its Date header from its event loop's once-a-second tick, which a busy machine
    # delays (seen: -1.94 s, then -2.97 s against error bars of 1.7 and 1.6 s while other test
    # suites ran). The estimate's arithmetic is checked exactly below, on given exchanges.
    offset, error = client.clock_offset_seconds, client.clock_offset_error_seconds
    assert offset is not None and error is not None
    assert abs(offset) < CLOCK_WARN_SECONDS / 3, offset
    client._clock_samples.clear()
    sent = dt.datetime(2026, 11, 28, 2, 0, 0, tzinfo=dt.UTC).timestamp()
    header = email.utils.format_datetime(dt.datetime.fromtimestamp(sent + 10, dt.UTC), usegmt=True)
    client._observe_clock(header, sent, sent + 4.0)  # a slow exchange: 4 s round trip
    client._observe_clock(header, sent + 0.5, sent + 1.5)  # a quick one: 1 s, which wins
    # The Date header has whole seconds (+0.5 for its midpoint) against the quick exchange's
    # midpoint: 10.5 - 1.0 = 9.5 s; the error bar is half its round trip plus that 1.5 s.
    assert client.clock_offset_seconds == pytest.approx(9.5)
    assert client.clock_offset_error_seconds == pytest.approx(0.5 + 1.5)
    client._clock_samples.clear()
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    now = dt.datetime.now(dt.UTC).timestamp()
    with caplog.at_level(logging.WARNING, logger="server_sync.client"):
        client._observe_clock(email.utils.format_datetime(ahead, usegmt=True), now, now)
    assert 298 < client.clock_offset_seconds < 302
    assert any("clock is +30" in r.getMessage() for r in caplog.records)


def test_pull_commits_at_once_when_a_patient_waits_for_the_write_lock(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    server_service: QueueService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A patient's issue waiting (the write gate held shared, as `begin_immediate` holds it)
    ends the sync's transaction after the step of events it is applying: one step per commit
    then, not a chunk of them."""
    import fcntl
    import os

    from sqlalchemy import event

    from kiosk.queue.db import write_gate
    from server_sync import client as client_module

    monkeypatch.setattr(client_module, "APPLY_SECONDS", 3600.0)  # only the patient ends one
    monkeypatch.setattr(client_module, "APPLY_STEP", 2)
    for _ in range(6):
        server_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    commits: list[int] = []
    event.listen(kiosk_engine, "commit", lambda _connection: commits.append(1))
    gate = write_gate(kiosk_engine)
    assert gate is not None
    fd = os.open(gate, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # a patient waiting for the write lock
        result = client.pull()
    finally:
        os.close(fd)
        client.close()
    assert result.applied == 6
    # One commit per step of two events, and the last page's cursor in a commit of its own.
    assert len(commits) == 4


def test_pull_steps_aside_after_each_step_while_a_patient_is_issued_here(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    server_service: QueueService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A patient's issue in flight in the kiosk's own process (another thread) ends the sync's
    transaction after the step it is applying (here of one event), and the next one waits for
    the issue (here BACKGROUND_YIELD_S, the most it waits); every event is still applied once,
    in order, and the cursor moves with the page's last commit."""
    import threading

    from sqlalchemy import event

    from kiosk.queue import db, writers
    from server_sync import client as client_module

    monkeypatch.setattr(client_module, "APPLY_SECONDS", 3600.0)  # only the patient ends one
    monkeypatch.setattr(client_module, "APPLY_STEP", 1)
    monkeypatch.setattr(writers, "BACKGROUND_YIELD_S", 0.05)
    for _ in range(6):
        server_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    commits: list[int] = []
    event.listen(kiosk_engine, "commit", lambda _connection: commits.append(1))
    started, done = threading.Event(), threading.Event()

    def patient() -> None:
        with db.PATIENTS.patient():
            started.set()
            done.wait(60)

    issuing = threading.Thread(target=patient)
    issuing.start()
    try:
        assert started.wait(30)
        result = client.pull()
    finally:
        done.set()
        issuing.join(timeout=30)
        client.close()
    assert result.applied == 6
    assert len(commits) == 7  # one per step, the cursor with the last page's own commit
    assert client.cursor() == result.cursor > 0
    with kiosk_engine.connect() as connection:
        seqs = connection.scalars(
            select(Event.seq).where(Event.origin == "kiosk-direct").order_by(Event.position)
        ).all()
    assert list(seqs) == [1, 2, 3, 4, 5, 6]  # each once, in the server's order


def test_a_push_marks_its_events_in_short_transactions(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    kiosk_service: QueueService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Marking a big push synced holds the write lock once per MARK_CHUNK events, never for
    the whole batch (a patient's issue waits for one short commit at most)."""
    from sqlalchemy import event

    from server_sync import client as client_module

    monkeypatch.setattr(client_module, "MARK_CHUNK", 2)
    for _ in range(5):
        kiosk_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    marks: list[int] = []  # the transaction (commit count so far) of each marking statement
    commits: list[int] = []

    def on_statement(*args: object) -> None:
        if str(args[2]).startswith("UPDATE events SET synced_at"):
            marks.append(len(commits))

    event.listen(kiosk_engine, "before_cursor_execute", on_statement)
    event.listen(kiosk_engine, "commit", lambda _connection: commits.append(1))
    try:
        assert client.push().accepted == 5
    finally:
        client.close()
    assert len(marks) == 3 and len(set(marks)) == 3  # 2 + 2 + 1, each committed on its own
    with kiosk_engine.connect() as connection:
        assert connection.scalar(select(Event.id).where(Event.synced_at.is_(None))) is None


def test_no_garbage_collection_starts_inside_the_syncs_write_transactions(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    kiosk_service: QueueService,
) -> None:
    """The collector is paused while the sync holds the write lock (applying pulled events,
    marking pushed ones): a full collection started by its allocations kept that lock 100-170
    ms, and every writer of the store waited it out. Between its transactions it runs."""
    import gc

    from sqlalchemy import Connection, event

    from kiosk.queue.db import READ_ONLY

    for _ in range(3):
        kiosk_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    seen: dict[str, list[bool]] = {"write": [], "read": []}

    def on_statement(connection: Connection, *_: object) -> None:
        reads = connection.get_execution_options().get(READ_ONLY)
        seen["read" if reads else "write"].append(gc.isenabled())

    event.listen(kiosk_engine, "before_cursor_execute", on_statement)
    try:
        assert client.push().accepted == 3
        for _ in range(2):
            requests.post(
                f"{live.url}/api/v1/departments/NOI/call-next",
                json={"room": "101"},
                headers={"Authorization": f"Bearer {tokens['counter']}"},
                timeout=30,
            )
        assert client.pull().applied == 2
    finally:
        event.remove(kiosk_engine, "before_cursor_execute", on_statement)
        client.close()
    assert seen["write"] and not any(seen["write"])
    assert seen["read"] and all(seen["read"])
    assert gc.isenabled()


def test_the_pull_rests_after_each_write_transaction(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    server_service: QueueService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After each transaction of a pulled page the sync leaves the write lock free APPLY_REST
    times as long as the transaction took (a patient's issue then finds it held by the sync
    about half as often); every event is still applied once."""
    import itertools
    import time

    from sqlalchemy import Connection, event

    from kiosk.queue.db import READ_ONLY
    from server_sync import client as client_module

    monkeypatch.setattr(client_module, "APPLY_REST", 3.0)
    monkeypatch.setattr(client_module, "APPLY_SECONDS", 0.0)  # one step per transaction
    monkeypatch.setattr(client_module, "APPLY_STEP", 1)
    for _ in range(4):
        server_service.issue("NOI")
    client = sync_client(kiosk_engine, live.url, tokens["kiosk"])
    writes: list[list[float]] = []  # [began, committed] of each write transaction

    def on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY):
            writes.append([time.monotonic()])

    def on_commit(connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY):
            writes[-1].append(time.monotonic())

    event.listen(kiosk_engine, "begin", on_begin)
    event.listen(kiosk_engine, "commit", on_commit)
    try:
        result = client.pull()
    finally:
        event.remove(kiosk_engine, "begin", on_begin)
        event.remove(kiosk_engine, "commit", on_commit)
        client.close()
    assert result.applied == 4
    assert len(writes) == 5  # one per event, and the cursor's
    for (began, committed), (next_began, _) in itertools.pairwise(writes):
        assert next_began - committed >= 3.0 * (committed - began)
