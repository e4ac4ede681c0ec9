"""Call-next on PostgreSQL runs on psycopg's own async pool (`pgpool`), on the event loop: its
connections live with the application, its failures answer as the rest of the server does (503
with Retry-After, StorageFull), and it recovers by itself when its connections die under it (a
PostgreSQL restart ends them all) - replaying a call only when its request id makes that safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text

from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from server_sync.server.pgpool import APPLICATION_NAME, call_next_pool
from tests.support.loops import run_in_own_loop
from tests.support.server import Api, LiveServer, wait_until

pytestmark = pytest.mark.postgres

CALL_NEXT = "/api/v1/departments/NOI/call-next"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: SQLite's call-next keeps the SQLAlchemy path in a worker thread."""
    return postgres_url


def pool_backends(engine: Engine) -> list[int]:
    """The server processes of call-next's pools on this test's schema."""
    with engine.connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :name"
                    " AND datname = current_database() AND pid <> pg_backend_pid()"
                ),
                {"name": APPLICATION_NAME},
            )
        )


def end_pool_connections(engine: Engine, pids: list[int]) -> None:
    """What a PostgreSQL restart does to the pool: every one of its connections is ended."""
    with engine.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    wait_until(lambda: not set(pids) & set(pool_backends(engine)), 30, "the backends to end")


def called_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).select_from(Event).where(Event.type == "ticket.called")
            )
            or 0
        )


@pytest.fixture
def counter(api: Callable[[str | None], Api]) -> Api:
    return api("counter")


@pytest.fixture
def own_pids(live: LiveServer, server_engine: Engine) -> Iterator[Callable[[], list[int]]]:
    """The pids of this live server's call-next connections (this test's server only: other
    test runs share the PostgreSQL server and have pools of the same name)."""
    pool = live.app.state.kiosk.call_pool
    assert pool is not None, "call-next has no pool of its own on PostgreSQL"

    async def pids() -> list[int]:
        found = []
        async with pool.connection() as connection:
            cursor = await connection.execute("SELECT pg_backend_pid()")
            row = await cursor.fetchone()
            assert row is not None
            found.append(int(row[0]))
        return found

    def run() -> list[int]:
        # Every connection of the pool: its size, from the pool's own statistics.
        size = pool.get_stats()["pool_max"]
        wait_until(lambda: pool.get_stats().get("pool_available", 0) == size, 30, "the pool")
        loop = live_loop(live)
        seen: set[int] = set()
        for _ in range(size * 4):
            seen.update(asyncio.run_coroutine_threadsafe(pids(), loop).result(30))
        return sorted(seen)

    yield run


def live_loop(live: LiveServer) -> asyncio.AbstractEventLoop:
    loop = live.app.state.kiosk.notifier._loop
    assert loop is not None
    return loop


def test_the_pool_opens_with_the_application_and_closes_with_it(
    make_server: Callable[..., LiveServer], tokens: dict[str, str], server_engine: Engine
) -> None:
    live = make_server()
    pool = live.app.state.kiosk.call_pool
    assert pool is not None
    size = pool.get_stats()["pool_max"]
    wait_until(lambda: pool.get_stats().get("pool_available", 0) == size, 30, "the pool to fill")
    assert Api(live.url, tokens["counter"]).post(CALL_NEXT, json={"room": "101"}).json() == {
        "ticket": None
    }
    live.stop()
    assert live.app.state.kiosk.call_pool is None
    assert pool.closed


def test_a_call_with_its_request_id_on_a_dead_connection_is_made_once_on_a_sound_one(
    counter: Api,
    server_service: QueueService,
    server_engine: Engine,
    own_pids: Callable[[], list[int]],
) -> None:
    for _ in range(3):
        server_service.issue("NOI")
    assert counter.post(CALL_NEXT, json={"room": "101"}).json()["ticket"]["code"] == "B001"
    end_pool_connections(server_engine, own_pids())
    body = {"room": "101", "request_id": "after-restart-1"}
    answer = counter.post(CALL_NEXT, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ticket"]["code"] == "B002"
    # The retry of a counter that did not hear the answer: the same ticket, not a new call.
    again = counter.post(CALL_NEXT, json=body)
    assert again.json()["ticket"]["code"] == "B002"
    assert called_events(server_engine) == 2
    with server_engine.connect() as connection:
        assert connection.scalar(select(Ticket.call_count).where(Ticket.code == "B002")) == 1


def test_a_call_without_request_id_on_a_dead_connection_answers_503_and_is_not_replayed(
    counter: Api,
    server_service: QueueService,
    server_engine: Engine,
    own_pids: Callable[[], list[int]],
) -> None:
    """It may have committed before its connection died: only the caller can retry it. The
    pool replaces its dead connections at once, so the next call is served."""
    for _ in range(3):
        server_service.issue("NOI")
    end_pool_connections(server_engine, own_pids())
    down = counter.post(CALL_NEXT, json={"room": "101"})
    assert down.status_code == 503, down.text
    assert int(down.headers["Retry-After"]) > 0
    assert down.json()["code"] == "database_unavailable"
    assert called_events(server_engine) == 0
    answers = [counter.post(CALL_NEXT, json={"room": "101"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200], answers[-1].text
    assert [a.json()["ticket"]["code"] for a in answers] == ["B001", "B002", "B003"]


def test_a_full_disk_under_the_call_is_storage_full_and_calls_nobody(
    counter: Api, server_service: QueueService, server_engine: Engine
) -> None:
    """PostgreSQL's disk_full (SQLSTATE 53100), raised for real by the database while the
    call's event is written, answers as StorageFull does on every other path."""
    server_service.issue("NOI")
    with server_engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION disk_is_full() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
                " USING ERRCODE = 'disk_full'; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER disk_is_full BEFORE INSERT ON events"
                " FOR EACH ROW EXECUTE FUNCTION disk_is_full()"
            )
        )
    full = counter.post(CALL_NEXT, json={"room": "101", "request_id": "disk-full-0001"})
    assert full.status_code == 409, full.text
    assert full.json()["code"] == "storage_full"
    assert "No space left" not in full.text
    with server_engine.begin() as connection:
        connection.execute(text("DROP TRIGGER disk_is_full ON events"))
    assert called_events(server_engine) == 0
    answer = counter.post(CALL_NEXT, json={"room": "101", "request_id": "disk-full-0001"})
    assert answer.json()["ticket"]["code"] == "B001"


def test_no_free_connection_in_time_is_sqlalchemys_operational_error(
    server_service: QueueService,
) -> None:
    """The pool's PoolTimeout is the server's "database unreachable" (503), as SQLAlchemy's
    pool timeout is on the other routes."""
    from sqlalchemy.exc import OperationalError

    server_service.issue("NOI")

    async def scenario() -> None:
        async with call_next_pool(server_service.engine, 1, timeout=0.2) as pool:
            async with pool.connection():  # the only connection, held
                with pytest.raises(OperationalError):
                    await server_service.call_next_in_room_async(pool, "NOI", "101", "busy-1")
            ticket, new = await server_service.call_next_in_room_async(pool, "NOI", "101", "busy-1")
            assert ticket is not None and ticket.code == "B001" and new

    run_in_own_loop(scenario())
