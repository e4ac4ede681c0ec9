"""`kiosk run` paints its grid before the queue service is open (read through sqlite3); a patient
who taps before the service is open waits for it and gets exactly one ticket."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiosk.app.backend import KioskBackend, LateService
from kiosk.app.kiosk_flow import KioskTimings
from kiosk.queue.errors import DatabaseError
from kiosk.queue.models import Event, Ticket
from kiosk.queue.quickread import QuickReader
from kiosk.queue.service import QueueService
from kiosk.ui.i18n import Translations
from kiosk.ui.kiosk_window import KioskWindow
from kiosk.ui.style import apply_style, load_fonts
from tests.support.database import FakeClock
from tests.support.kiosk import FakeMonotonic, FakePrinter, make_config
from tests.support.kiosk_screen import qtbot_app, tap


class GatedOpening:
    """Opens the service only once the test lets it, and counts how often it was asked."""

    def __init__(self, service: QueueService) -> None:
        self.service = service
        self.release = threading.Event()
        self.asked = 0

    def __call__(self) -> QueueService:
        self.asked += 1
        assert self.release.wait(60), "the test never let the service open"
        return self.service


def _window(
    qtbot: Any, backend: KioskBackend, monotonic: FakeMonotonic, clock: FakeClock
) -> KioskWindow:
    config = backend.config
    family = load_fonts()
    apply_style(qtbot_app(), family)
    window = KioskWindow(
        config,
        backend,
        family=family,
        translations=Translations(),
        timings=KioskTimings(idle_ms=600_000, cooldown_ms=0, result_ms=600_000),
        monotonic=monotonic,
        now=lambda: clock().astimezone(config.hospital.tz),
    )
    window.resize(1080, 1920)
    with qtbot.waitSignal(window.departments_changed, timeout=30_000):
        window.show()
        window.start(poll_printer=False)
    return window


def _tickets(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "ticket.issued")
        )
        return tickets, events or 0


def test_a_tap_before_the_service_is_open_waits_and_issues_exactly_one_ticket(
    qtbot: Any, seeded_store: tuple[Path, Engine], clock: FakeClock, fake_printer: FakePrinter
) -> None:
    path, engine = seeded_store
    config = make_config()
    service = QueueService.from_config(engine, config, clock=clock)
    service.issue("NOI")  # someone before: the grid shows it
    opening = GatedOpening(service)
    late = LateService(opening)
    reader = QuickReader.open(path, timezone=config.hospital.tz, clock=clock)
    backend = KioskBackend(late, fake_printer, config, first_screen=reader)
    window = _window(qtbot, backend, FakeMonotonic(), clock)
    try:
        # The grid and its live counts, painted without the service.
        assert not late.ready and opening.asked == 0
        assert {d.code: d.waiting for d in window.departments}["NOI"] == 1
        assert window.departments == service.departments()

        late.start()  # as after the first paint; it stays closed until released
        tap(qtbot, window.home.grid.buttons["NOI"])
        tap(qtbot, window.priority.skip)
        # A ticket that takes its time says so ("Printing your ticket…").
        qtbot.waitUntil(lambda: window.current_page() == "printing", timeout=30_000)
        qtbot.waitUntil(lambda: opening.asked == 1, timeout=30_000)
        assert _tickets(engine) == (1, 1)  # not issued while the service is not open
        assert window.current_page() == "printing"  # nor lost: it waits

        with qtbot.waitSignal(window.ticket_shown, timeout=30_000) as shown:
            opening.release.set()
        assert shown.args[0].code == window.ticket.code.text() == "B002"
        qtbot.waitUntil(lambda: not window.worker.busy, timeout=30_000)
        assert _tickets(engine) == (2, 2)  # exactly one more
        assert [c.code for c in fake_printer.printed] == ["B002"]
        assert opening.asked == 1  # opened once
        assert backend.service_ready
        assert {d.code: d.waiting for d in window.departments}["NOI"] == 2
    finally:
        opening.release.set()
        window.shutdown()
        window.close()


def test_a_store_the_service_cannot_open_is_reported_not_hidden(
    seeded_store: tuple[Path, Engine], fake_printer: FakePrinter
) -> None:
    def refuse() -> QueueService:
        raise DatabaseError("cannot migrate the database: disk I/O error")

    late = LateService(refuse)
    failures: list[BaseException] = []
    late.on_failure(failures.append)
    backend = KioskBackend(late, fake_printer, make_config())
    with pytest.raises(DatabaseError, match="disk I/O"):
        backend.service  # noqa: B018 - what a tap's issue reaches first
    assert [str(f) for f in failures] == ["cannot migrate the database: disk I/O error"]
