"""The example hospital's seeds, a clock the test moves by hand, the test PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, event

from kiosk.queue.seeds import apply_seeds, parse_seeds
from tests.support.loops import run_in_own_loop

if TYPE_CHECKING:
    from kiosk.queue.service import QueueService, TicketInfo

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
POSTGRES_ENV = "KIOSK_TEST_POSTGRES_URL"


class FakeClock:
    """A clock the test moves by hand (aware UTC)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def trace_statements(engine: Engine, seen: Callable[[str], None]) -> None:
    """`seen(sql)` for every statement SQLite runs on `engine`'s connections, in the thread
    that runs it: those run on the driver's connection past SQLAlchemy's engine events (a
    patient's issue), BEGIN and COMMIT included (sqlite3's trace callback)."""

    @event.listens_for(engine, "checkout")
    def _trace(dbapi_connection: sqlite3.Connection, *_: Any) -> None:
        dbapi_connection.set_trace_callback(seen)

    @event.listens_for(engine, "checkin")
    def _untrace(dbapi_connection: sqlite3.Connection, *_: Any) -> None:
        dbapi_connection.set_trace_callback(None)


def seed(engine: Engine) -> None:
    import tomllib

    from sqlalchemy.orm import Session

    seeds = parse_seeds(tomllib.loads(SEED_FILE.read_text(encoding="utf-8")), str(SEED_FILE))
    with Session(engine) as session, session.begin():
        apply_seeds(session, seeds)


def postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set in CI: the PostgreSQL runs must not skip")
    return url


def call_in_room_async(
    service: QueueService, department: str, room: str, request_id: str | None = None
) -> tuple[TicketInfo | None, bool]:
    """`service.call_next_in_room_async` on a pool of its own (one connection, opened and
    closed around the call, on an event loop of its own), as the server's call-next runs it."""
    from server_sync.server.pgpool import call_next_pool

    async def call() -> tuple[TicketInfo | None, bool]:
        async with call_next_pool(service.engine, 1) as pool:
            return await service.call_next_in_room_async(pool, department, room, request_id)

    return run_in_own_loop(call())
