"""What `kiosk run` starts besides the window: background sync and the end-of-day job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kiosk.app.backend import close_stale_tickets_in_background
from kiosk.commands.ui import start_background_sync
from kiosk.config import parse_config
from kiosk.queue.service import QueueService
from server_sync.staff import StaffClient
from tests.support.hospital import Hospital
from tests.support.kiosk import FakePrinter, make_config
from tests.support.server import wait_until


def test_kiosk_pushes_its_tickets_in_the_background(hospital: Hospital) -> None:
    service = hospital.kiosk_service()
    worker = start_background_sync(hospital.config, service)
    assert worker is not None
    try:
        issued = service.issue("NOI").ticket
        worker.wake()
        board = StaffClient(hospital.server.url, hospital.tokens["board"], timeout=30.0)

        def on_server() -> bool:
            return any(t.id == issued.id for t in board.queue("NOI").waiting)

        wait_until(on_server, timeout=60, what="the ticket on the server")
    finally:
        worker.stop(timeout=10)


def test_no_server_or_no_token_means_no_sync_and_no_crash(tmp_path: Path, engine: Engine) -> None:
    alone = parse_config({})
    assert start_background_sync(alone, QueueService(engine, origin="k")) is None
    missing_token = parse_config(
        {"server": {"url": "http://127.0.0.1:9", "token_file": str(tmp_path / "absent")}}
    )
    assert start_background_sync(missing_token, QueueService(engine, origin="k")) is None


def test_end_of_day_runs_off_the_ui_thread(engine: Engine) -> None:
    from tests.support.database import seed

    seed(engine)
    yesterday = QueueService(
        engine, origin="k", clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    stale = yesterday.issue("NOI").ticket
    today = QueueService(engine, origin="k")
    close_stale_tickets_in_background(today)
    wait_until(lambda: today.get(stale.id).status == "cancelled", timeout=60, what="end of day")


def test_background_work_waits_for_the_first_painted_grid(
    qtbot: Any, service: QueueService, fake_printer: FakePrinter
) -> None:
    """Sync, integrity check and end of day start only once the department grid has its counts
    (and the event loop has painted it): they would compete with the first screen."""
    from kiosk.app.kiosk_flow import KioskTimings
    from kiosk.ui.app import after_first_screen, build_window

    window = build_window(make_config(), service, fake_printer, timings=KioskTimings(idle_ms=0))
    seen: list[int] = []
    after_first_screen(window, lambda: seen.append(len(window.home.grid.buttons)))
    window.resize(1080, 1920)
    window.show()
    window.start()
    assert seen == []  # not while the window is being built and shown
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [len(service.departments())]  # the grid had its departments by then
    qtbot.wait(50)
    window.apply_departments(service.departments())
    qtbot.wait(50)
    assert len(seen) == 1  # once, not at every refresh
    window.shutdown()
    window.close()


def test_background_work_starts_even_without_a_first_screen(
    qtbot: Any, service: QueueService, fake_printer: FakePrinter
) -> None:
    from kiosk.ui.app import after_first_screen, build_window

    window = build_window(make_config(), service, fake_printer)
    seen: list[str] = []
    after_first_screen(window, lambda: seen.append("started"), timeout_ms=100)
    qtbot.waitUntil(lambda: seen == ["started"], timeout=30_000)  # departments never loaded
    window.shutdown()
    window.close()


def test_a_sync_worker_never_started_stops_at_once(tmp_path: Path, engine: Engine) -> None:
    token = tmp_path / "token"
    token.write_text("t" * 40, encoding="utf-8")
    config = parse_config({"server": {"url": "http://127.0.0.1:9", "token_file": str(token)}})
    worker = start_background_sync(config, QueueService(engine, origin="k"), start=False)
    assert worker is not None and not worker.running
    worker.stop(timeout=1)  # the kiosk closed before its first screen: no error


class _FakeSync:
    def __init__(self) -> None:
        self.started = self.stopped = False
        self.woken = 0

    def start(self) -> None:
        self.started = True

    def wake(self) -> None:
        self.woken += 1

    def stop(self, timeout: float | None = None) -> None:
        self.stopped = True

    def set_heartbeat(self, report: Any) -> None:
        pass


def test_the_sync_made_after_the_first_screen_starts_wakes_and_stops() -> None:
    import threading

    from kiosk.ui.app import LateSync

    made: list[_FakeSync] = []
    ready = threading.Event()

    def make() -> _FakeSync:
        made.append(_FakeSync())
        ready.set()
        return made[-1]

    late = LateSync(make, lambda _offset: None)
    late.wake()  # before it exists: nothing to wake, no error
    late.start()
    assert ready.wait(30)
    wait_until(lambda: made[0].started, timeout=30, what="the sync worker started")
    late.wake()
    late.stop(timeout=10)
    assert made[0].woken == 1 and made[0].stopped


def test_a_sync_made_after_the_kiosk_closed_never_starts() -> None:
    import threading

    from kiosk.ui.app import LateSync

    release = threading.Event()
    made: list[_FakeSync] = []

    def make() -> _FakeSync:
        release.wait(30)  # importing the HTTP stack while the kiosk closes
        made.append(_FakeSync())
        return made[-1]

    late = LateSync(make, lambda _offset: None)
    late.start()
    late.stop(timeout=0)  # the kiosk closes first
    release.set()
    late.stop(timeout=30)
    assert made and made[0].stopped and not made[0].started
