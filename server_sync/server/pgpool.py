"""Call-next's own PostgreSQL connections: psycopg's `AsyncConnectionPool`, on the event loop.

The busiest request runs its one statement on these (`QueueService.call_next_in_room_async`)
instead of SQLAlchemy's pool in a worker thread: no hop to a thread and back, no pre-ping, no
SQLAlchemy around the statement. Every other route keeps the SQLAlchemy engine.

The pool is made and opened in the application's lifespan (its connections belong to that
event loop) and closed at its end. It does not test a connection at checkout; after a
PostgreSQL restart the first call on a dead connection has the pool check the others and
replace the dead ones (see `call_next_in_room_async`), and the pool reconnects by itself.

Its sessions set `kiosk.feed_notify = after_commit`: the feed's trigger then sends no NOTIFY
from a call-next (migration 0009), and the server announces the calls itself once they have
committed (`CommitAnnouncer`). PostgreSQL serialises the commits of transactions that sent a
NOTIFY behind one lock held through the flush to disk; call-nexts each sending one committed
one at a time (bench: tickets/s 528-555 with it, 661-740 without, one worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from server_sync.server.notify import NOTIFY_CHANNEL, libpq_dsn

log = logging.getLogger("kiosk.server")

# How long a call waits for a free connection before it answers 503 (Retry-After): with the
# database away the pool cannot open one, and a counter should hear so soon, not hang.
CHECKOUT_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 10
# Shown in pg_stat_activity, so the DBA can tell these connections from the rest.
APPLICATION_NAME = "kiosk-server call-next"

# The session setting the feed's trigger reads (migration 0009).
FEED_NOTIFY_OPTION = "-c kiosk.feed_notify=after_commit"
# psycopg prepares call-next's statement on a connection from its sixth run; PostgreSQL would
# then still plan it afresh for every call until its own heuristics chose the generic plan, and
# go on weighing both. The statement's plan does not depend on its values (one department's
# head of line, by index): plan it once per connection. PostgreSQL's CPU per call at 50 counters
# (bench_wrk, README): 1.3-2.2 ms before this and migration 0010, 0.56-0.87 ms after.
GENERIC_PLANS_OPTION = "-c plan_cache_mode=force_generic_plan"

CallNextPool = AsyncConnectionPool[AsyncConnection[Any]]


def connection_options(engine: Engine) -> str:
    """libpq's `options` for call-next's sessions: the URL's own (a `search_path`, say), then
    the feed's setting and generic plans."""
    given = engine.url.query.get("options", ())
    own = [given] if isinstance(given, str) else list(given)
    return " ".join([*own, FEED_NOTIFY_OPTION, GENERIC_PLANS_OPTION])


def call_next_pool(
    engine: Engine, size: int, *, timeout: float = CHECKOUT_TIMEOUT_SECONDS
) -> CallNextPool:
    """A closed pool of `size` autocommit connections (each statement is its own transaction)
    to `engine`'s PostgreSQL database; `await pool.open()` it on the serving event loop.
    Fixed size: the connections are opened at start and kept, none opened under load.
    `timeout`: how long a call waits for a free connection (then PoolTimeout)."""
    return AsyncConnectionPool(
        libpq_dsn(engine),
        connection_class=AsyncConnection[Any],
        kwargs={
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": APPLICATION_NAME,
            "options": connection_options(engine),
        },
        min_size=size,
        max_size=size,
        open=False,
        timeout=timeout,
        name="call-next",
    )


class CommitAnnouncer:
    """Tells every server process's long-polls that call-nexts committed: one `pg_notify` on
    the feed's channel, in its own short transaction on the pool, for as many calls as commit
    while one is in flight (each announcement covers every commit before it starts).

    A failed announcement is logged and not retried: the database is away, and the next
    call announces again (other processes' waiters then hear of both)."""

    def __init__(self, pool: CallNextPool) -> None:
        self._pool = pool
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def announce(self) -> None:
        """On the event loop, after a call-next committed an event."""
        if self._task is not None:
            self._again = True  # the one in flight may have started before this commit
            return
        self._task = asyncio.create_task(self._run(), name="announce-calls")

    async def _run(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    async with self._pool.connection() as conn:
                        await conn.execute("SELECT pg_notify(%s, '')", (NOTIFY_CHANNEL,))
                except Exception as exc:  # the database away: the pool and /health report it
                    log.warning("could not announce committed calls to other processes: %s", exc)
                    return
                if not self._again:
                    return
        finally:
            self._task = None

    async def aclose(self) -> None:
        """Wait for the announcement in flight (at the application's end, before the pool)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
