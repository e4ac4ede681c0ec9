"""Wake long-polling clients when a newer event is committed, without polling the database.

`FeedNotifier` is the in-process signal: writers in this process call `notify()` after their
commit. On PostgreSQL, `PostgresListener` also LISTENs on the channel that the `events_notify`
trigger (migration 0002) signals at each commit, so writes made by *other* server processes
wake this process's waiters too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "kiosk_events"  # the same name as in migration 0002
# Signalled when a device is added or revoked: every server process forgets its cached tokens.
DEVICES_CHANNEL = "kiosk_devices"


class FeedNotifier:
    """A broadcast "something new was committed" for the coroutines of one event loop.

    A waiter takes `current()` *before* it reads the database and then awaits `wait(token)`:
    a notification that lands between its read and its wait is never lost.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event = asyncio.Event()
        # A wake-up is scheduled and has not run yet: later notifications ride on it (it
        # runs after their commits, so the waiters it wakes read them). Under load this
        # spares the event loop one cross-thread wake-up per commit.
        self._loop_thread: int | None = None
        self._scheduled = False
        self.listening_to_database = False
        self.waiters = 0  # long-polls waiting now (read by tests and diagnostics)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()  # attach() runs in the loop's thread
        self._scheduled = False

    def current(self) -> asyncio.Event:
        return self._event

    def notify(self) -> None:
        """Thread-safe: wake every waiter (from a request thread or the listener thread)."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._scheduled:
            return
        self._scheduled = True
        if threading.get_ident() == self._loop_thread:
            # From the loop itself (an `async def` endpoint after its commit): no cross-thread
            # wake-up (a write to the loop's self-pipe) is needed.
            loop.call_soon(self._fire)
            return
        try:
            loop.call_soon_threadsafe(self._fire)
        except RuntimeError:
            # The loop closed in between, so nobody is waiting any more.
            self._scheduled = False

    def _fire(self) -> None:
        # Cleared first: a notification from now on schedules a wake-up of its own.
        self._scheduled = False
        fired, self._event = self._event, asyncio.Event()
        fired.set()

    async def wait(self, token: asyncio.Event, timeout: float) -> bool:
        """True when notified before `timeout` seconds pass."""
        self.waiters += 1
        try:
            await asyncio.wait_for(token.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self.waiters -= 1
        return True


def libpq_dsn(engine: Engine) -> str:
    """The engine's URL as libpq takes it (password and options such as search_path kept)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresListener:
    """A thread that LISTENs for committed events and forwards each notification."""

    RECONNECT_SECONDS = 2.0

    def __init__(
        self,
        engine: Engine,
        notifier: FeedNotifier,
        on_devices_changed: Callable[[], None] | None = None,
    ) -> None:
        self._dsn = libpq_dsn(engine)
        self._notifier = notifier
        self._on_devices_changed = on_devices_changed or (lambda: None)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-pg-listen", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        # Until LISTEN runs, a commit could be missed: wait for it (or the first failure).
        self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        failed = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    conn.execute(f"LISTEN {DEVICES_CHANNEL}")
                    # Whatever changed while nobody listened: forget every cached token.
                    self._on_devices_changed()
                    self._notifier.listening_to_database = True
                    self._ready.set()
                    if failed:
                        log.info("listening for feed notifications again")
                        failed = False
                        # Whatever committed while we were away: let waiters look.
                        self._notifier.notify()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=1):
                            if note.channel == DEVICES_CHANNEL:
                                self._on_devices_changed()
                            else:
                                self._notifier.notify()
            except psycopg.Error as exc:
                self._notifier.listening_to_database = False
                self._on_devices_changed()
                self._ready.set()
                if not failed:
                    log.warning("feed notifications from PostgreSQL lost (%s); retrying", exc)
                    failed = True
                self._stop.wait(self.RECONNECT_SECONDS)
        self._notifier.listening_to_database = False
