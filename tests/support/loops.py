"""Running a coroutine from a test."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(scenario: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
    """`asyncio.run(scenario)` on a thread of its own: an earlier test of the suite may have left
    an event loop set (or running) in the test's thread, and asyncio.run() then refuses."""
    with ThreadPoolExecutor(1, thread_name_prefix="test-loop") as runner:
        return runner.submit(asyncio.run, scenario).result(timeout=timeout)
