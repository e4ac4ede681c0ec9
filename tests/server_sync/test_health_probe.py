"""/health's database check is shared by requests that arrive together, never stale."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import create_engine

from server_sync.server.deps import DatabaseProbe

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: the suite's thread may already run an event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


class CountingProbe(DatabaseProbe):
    """A database that is up or down as the test says; each check reads it when it starts
    and answers when the test lets it."""

    def __init__(self) -> None:
        super().__init__(create_engine("sqlite://"))
        self.up = True
        self.checks = 0
        self.release = threading.Event()
        self.started = threading.Event()

    def _select(self) -> bool:
        self.checks += 1
        up = self.up
        self.started.set()
        self.release.wait(10)
        return up


def test_requests_waiting_together_share_one_check() -> None:
    async def scenario() -> list[bool]:
        probe = CountingProbe()
        probe.release.set()
        answers = await asyncio.gather(*(probe.check() for _ in range(50)))
        assert probe.checks <= 2
        return answers

    assert run(scenario()) == [True] * 50


def test_a_request_never_gets_a_check_begun_before_it_arrived() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        probe = CountingProbe()
        first = asyncio.create_task(probe.check())
        await asyncio.to_thread(probe.started.wait, 10)  # the first check has read "up"
        probe.up = False  # the database goes away while that check runs
        second = asyncio.create_task(probe.check())
        await asyncio.sleep(0.05)
        probe.release.set()
        return await first, await second, probe.checks

    first, second, checks = run(scenario())
    assert (first, second, checks) == (True, False, 2)
