"""/health's database check is shared by requests that arrive together, never stale."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import create_engine

from server_sync.server.deps import DatabaseProbe
from tests.support.loops import run_in_own_loop


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

    assert run_in_own_loop(scenario()) == [True] * 50


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

    first, second, checks = run_in_own_loop(scenario())
    assert (first, second, checks) == (True, False, 2)
