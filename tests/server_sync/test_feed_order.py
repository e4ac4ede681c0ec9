"""The feed never skips an event whose transaction commits late, and no writer waits for a
slow one: concurrent writers on the real database, a reader following the cursor throughout."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.events import EventType, append_event
from kiosk.queue.models import Event
from server_sync.server.feed import read_feed


def write_one(engine: Engine, origin: str, hold: threading.Event | None = None) -> str:
    with Session(engine) as session, session.begin():
        stored = append_event(
            session, origin=origin, type=EventType.DEVICE_STATUS, now=dt.datetime.now(dt.UTC)
        )
        if hold is not None:
            hold.wait(30)  # a slow transaction: its event exists, its commit comes late
        return stored.id


def test_a_late_commit_is_never_skipped_and_blocks_no_other_writer(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers by design (BEGIN IMMEDIATE)")
    release = threading.Event()
    slow: list[str] = []
    slow_writer = threading.Thread(
        target=lambda: slow.append(write_one(engine, "slow-kiosk", release))
    )
    slow_writer.start()
    seen: list[str] = []
    fast: list[str] = []

    def fast_writes_and_reads() -> None:
        cursor = 0
        for i in range(20):
            fast.append(write_one(engine, f"fast-{i % 3}"))
            page = read_feed(engine, cursor, None, 1000)
            seen.extend(e["id"] for e in page.events)
            cursor = page.cursor

    others = threading.Thread(target=fast_writes_and_reads)
    others.start()
    others.join(60)
    # Every other writer finished while the slow transaction was still open: no global lock.
    assert not others.is_alive() and len(fast) == 20
    cursor = read_feed(engine, 0, None, 1000).cursor
    release.set()
    slow_writer.join(30)
    page = read_feed(engine, cursor, None, 1000)
    seen += [e["id"] for e in page.events]
    assert sorted(seen) == sorted(fast + slow), "the reader missed an event"
    with Session(engine) as session:
        positions = session.scalars(select(Event.position).order_by(Event.position)).all()
    assert positions == list(range(1, 22))


def test_writers_on_many_threads_lose_nothing_for_a_reader(engine: Engine) -> None:
    written: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def writer(n: int) -> None:
        for _ in range(25):
            event_id = write_one(engine, f"kiosk-{n}")
            with lock:
                written.append(event_id)

    seen: list[str] = []

    def reader() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            page = read_feed(engine, cursor, None, 50)
            seen.extend(e["id"] for e in page.events)
            cursor = page.cursor
            if finished and not page.events:
                return

    follower = threading.Thread(target=reader)
    follower.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    follower.join(120)
    assert len(seen) == len(set(seen)) == len(written) == 150
    assert set(seen) == set(written)
    assert uuid.UUID(seen[0])


def test_the_device_channel_is_named_alike_on_both_sides() -> None:
    from server_sync.server.devices import DEVICES_CHANNEL
    from server_sync.server.notify import DEVICES_CHANNEL as LISTENED

    assert DEVICES_CHANNEL == LISTENED
