"""The in-process feed notifier: notifications from request threads share one scheduled
wake-up, and none is lost once that wake-up has run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from server_sync.server.notify import FeedNotifier

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: the suite's thread may already run an event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


def _notify_from_threads(notifier: FeedNotifier, count: int) -> None:
    threads = [threading.Thread(target=notifier.notify) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_every_round_of_notifications_wakes_the_waiters_of_that_round() -> None:
    async def scenario() -> list[bool]:
        notifier = FeedNotifier()
        notifier.attach(asyncio.get_running_loop())
        woken = []
        for _ in range(5):
            token = notifier.current()  # as a long-poll takes it, before reading the feed
            _notify_from_threads(notifier, 8)
            woken.append(await notifier.wait(token, 10))
        # One more, alone, after the last wake-up ran: it schedules a wake-up of its own.
        token = notifier.current()
        notifier.notify()
        woken.append(await notifier.wait(token, 10))
        return woken

    assert run(scenario()) == [True] * 6


def test_a_notifier_attached_to_a_new_loop_wakes_its_waiters() -> None:
    notifier = FeedNotifier()

    async def first() -> None:
        notifier.attach(asyncio.get_running_loop())

    run(first())
    notifier.notify()  # that loop is closed: nobody to wake, and nothing stays scheduled

    async def second() -> bool:
        notifier.attach(asyncio.get_running_loop())
        token = notifier.current()
        notifier.notify()
        return await notifier.wait(token, 10)

    assert run(second())


def test_a_notification_from_the_event_loop_itself_wakes_its_waiters() -> None:
    """An `async def` endpoint notifies from the loop's own thread (no cross-thread wake-up)."""

    async def main() -> bool:
        notifier = FeedNotifier()
        notifier.attach(asyncio.get_running_loop())
        token = notifier.current()
        notifier.notify()
        notifier.notify()  # rides on the wake-up already scheduled
        return await notifier.wait(token, 5.0)

    # Its own thread and loop: an event loop left set in this thread by other tests would
    # make asyncio.run() refuse.
    with ThreadPoolExecutor(max_workers=1) as runner:
        assert runner.submit(asyncio.run, main()).result(timeout=120)
