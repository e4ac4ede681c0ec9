"""The in-process feed notifier: notifications from request threads share one scheduled
wake-up, and none is lost once that wake-up has run."""

from __future__ import annotations

import asyncio
import threading

from server_sync.server.notify import FeedNotifier
from tests.support.loops import run_in_own_loop


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

    assert run_in_own_loop(scenario()) == [True] * 6


def test_a_notifier_attached_to_a_new_loop_wakes_its_waiters() -> None:
    notifier = FeedNotifier()

    async def first() -> None:
        notifier.attach(asyncio.get_running_loop())

    run_in_own_loop(first())
    notifier.notify()  # that loop is closed: nobody to wake, and nothing stays scheduled

    async def second() -> bool:
        notifier.attach(asyncio.get_running_loop())
        token = notifier.current()
        notifier.notify()
        return await notifier.wait(token, 10)

    assert run_in_own_loop(second())


def test_a_notification_from_the_event_loop_itself_wakes_its_waiters() -> None:
    """An `async def` endpoint notifies from the loop's own thread (no cross-thread wake-up)."""

    async def main() -> bool:
        notifier = FeedNotifier()
        notifier.attach(asyncio.get_running_loop())
        token = notifier.current()
        notifier.notify()
        notifier.notify()  # rides on the wake-up already scheduled
        return await notifier.wait(token, 5.0)

    assert run_in_own_loop(main())
