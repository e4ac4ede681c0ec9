"""Freezing a long-running process's start-up objects out of the garbage collector's sight."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import requests

from tests.support.server import LiveServer


def test_start_up_objects_are_frozen_and_a_full_collection_walks_only_what_came_after() -> None:
    # In a process of its own: a frozen object of this test session would never be collected.
    probe = textwrap.dedent(
        """
        import gc, time
        gc.disable()
        import sqlalchemy.orm, pydantic  # what a server or a kiosk loads at start-up
        from kiosk.collector import freeze_start_up_objects
        before = len(gc.get_objects())
        frozen = freeze_start_up_objects()
        assert gc.isenabled(), "the collector runs again after start-up"
        assert frozen >= before // 2, (frozen, before)
        assert len(gc.get_objects()) < before // 10, len(gc.get_objects())
        print("ok")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_an_application_made_for_a_test_freezes_nothing(live: LiveServer) -> None:
    """Only `kiosk server` (and its workers) freeze: a test session's apps stay collectable
    (the server processes' own freezing: test_ready_notify.py and test_workers.py)."""
    frozen = gc.get_freeze_count()
    assert requests.get(f"{live.url}/api/v1/health", timeout=30).status_code == 200
    assert gc.get_freeze_count() == frozen
