"""Call-next's sessions send no NOTIFY from the feed's trigger (PostgreSQL serialises the
commits of notifying transactions); the server announces their calls once committed, so a
board long-polling any server process still hears every call at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from kiosk.queue.db import make_engine
from kiosk.queue.service import QueueService
from server_sync.server.notify import NOTIFY_CHANNEL, libpq_dsn
from server_sync.server.pgpool import call_next_pool
from tests.support.loops import run_in_own_loop
from tests.support.server import Api, LiveServer, wait_until

pytestmark = pytest.mark.postgres

# The feed's trigger fires once per INSERT statement on events, even one inserting no row.
INSERT_NO_EVENT = "INSERT INTO events SELECT * FROM events WHERE false"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


def own_notifications(connection: psycopg.Connection[Any]) -> int:
    """The feed notifications this session sent itself (other tests share the database, and
    notifications are the database's: theirs are told apart by the sending backend)."""
    pid = connection.info.backend_pid
    connection.execute("SELECT 1")  # delivers what arrived
    return sum(
        1
        for note in connection.notifies(timeout=0.5)
        if note.channel == NOTIFY_CHANNEL and note.pid == pid
    )


def test_the_trigger_leaves_the_notify_to_call_nexts_sessions_only(server_engine: Engine) -> None:
    with psycopg.connect(libpq_dsn(server_engine), autocommit=True) as connection:
        connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
        connection.execute(INSERT_NO_EVENT)
        assert own_notifications(connection) == 1  # any other writer: at its commit
        connection.execute("SET kiosk.feed_notify = 'after_commit'")
        connection.execute(INSERT_NO_EVENT)
        assert own_notifications(connection) == 0
        connection.execute("RESET kiosk.feed_notify")
        connection.execute(INSERT_NO_EVENT)
        assert own_notifications(connection) == 1


def test_call_nexts_pool_sessions_carry_the_setting_and_keep_the_urls_options(
    server_engine: Engine,
) -> None:
    async def scenario() -> tuple[str, str]:
        async with call_next_pool(server_engine, 1) as pool, pool.connection() as connection:
            setting = await (await connection.execute("SHOW kiosk.feed_notify")).fetchone()
            path = await (await connection.execute("SHOW search_path")).fetchone()
            assert setting is not None and path is not None
            return str(setting[0]), str(path[0])

    setting, path = run_in_own_loop(scenario())
    schema = server_engine.url.query["options"]
    assert setting == "after_commit"
    assert isinstance(schema, str) and path in schema  # the test's own schema, not public


def test_calls_made_through_one_process_wake_a_long_poll_on_another_every_time(
    make_server: Callable[..., LiveServer],
    tokens: dict[str, str],
    server_engine: Engine,
    server_service: QueueService,
) -> None:
    other_engine = make_engine(server_engine.url.render_as_string(hide_password=False))
    first, second = make_server(), make_server(other_engine)
    called: list[str] = []
    for _ in range(5):
        server_service.issue("NOI")
    board = Api(first.url, tokens["board"])
    cursor = board.get("/api/v1/events").json()["cursor"]
    notifier = first.app.state.kiosk.notifier
    wait_until(lambda: notifier.listening_to_database, 30, "the first server to listen")
    seen: list[str] = []
    failure: list[BaseException] = []

    def poll() -> None:
        nonlocal cursor
        try:
            while len(seen) < 5:
                # Longer than the join below: only an announcement answers it in time.
                answer = board.http.get(
                    f"{board.base}/api/v1/events?after={cursor}&wait=60&type=ticket.called",
                    timeout=90,
                ).json()
                seen.extend(e["ticket_id"] for e in answer["events"])
                cursor = answer["cursor"]
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    wait_until(lambda: notifier.waiters > 0, 30, "the long-poll to wait")
    counter = Api(second.url, tokens["counter"])

    def call(index: int) -> None:
        answer = counter.http.post(
            f"{counter.base}/api/v1/departments/NOI/call-next",
            json={"room": "101", "request_id": f"notify-{index}"},
            timeout=30,
        )
        called.append(answer.json()["ticket"]["id"])

    callers = [threading.Thread(target=call, args=(i,)) for i in range(5)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=60)
    thread.join(timeout=40)
    other_engine.dispose()
    assert not failure, failure
    assert not thread.is_alive(), f"the long-poll heard {len(seen)} of 5 calls"
    assert sorted(seen) == sorted(called)
