"""The kiosk's warm-up for the first ticket leaves the store as it found it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.app.backend import KioskBackend
from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from tests.support.kiosk import FakePrinter, make_config


def _stored(service: QueueService) -> tuple[int, int]:
    with Session(service.engine) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        events = session.scalar(select(func.count()).select_from(Event)) or 0
    return tickets, events


def test_warming_up_stores_nothing_prints_nothing_and_the_first_number_is_still_the_first(
    service: QueueService,
) -> None:
    printer = FakePrinter()
    backend = KioskBackend(service, printer, make_config())
    before = _stored(service)
    backend.warm_up()
    backend.warm_up()
    assert _stored(service) == before
    assert printer.printed == []
    assert backend.issue("NOI", None, "vi").code == "B001"
    assert [d.issued_today for d in service.departments() if d.code == "NOI"] == [1]


def test_a_store_that_cannot_issue_does_not_stop_the_warm_up(service: QueueService) -> None:
    for department in service.departments():
        service.set_paused(department.code, True)
    backend = KioskBackend(service, FakePrinter(), make_config())
    backend.warm_up()  # a sample ticket is drawn instead; nothing raised
    assert _stored(service)[0] == 0
