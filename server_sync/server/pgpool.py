"""Call-next's own PostgreSQL connections: psycopg's `AsyncConnectionPool`, on the event loop.

The busiest request runs its one statement on these (`QueueService.call_next_in_room_async`)
instead of SQLAlchemy's pool in a worker thread: no hop to a thread and back, no pre-ping, no
SQLAlchemy around the statement. Every other route keeps the SQLAlchemy engine.

The pool is made and opened in the application's lifespan (its connections belong to that
event loop) and closed at its end. It does not test a connection at checkout; after a
PostgreSQL restart the first call on a dead connection has the pool check the others and
replace the dead ones (see `call_next_in_room_async`), and the pool reconnects by itself.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from server_sync.server.notify import libpq_dsn

# How long a call waits for a free connection before it answers 503 (Retry-After): with the
# database away the pool cannot open one, and a counter should hear so soon, not hang.
CHECKOUT_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 10
# Shown in pg_stat_activity, so the DBA can tell these connections from the rest.
APPLICATION_NAME = "kiosk-server call-next"

CallNextPool = AsyncConnectionPool[AsyncConnection[Any]]


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
        },
        min_size=size,
        max_size=size,
        open=False,
        timeout=timeout,
        name="call-next",
    )
