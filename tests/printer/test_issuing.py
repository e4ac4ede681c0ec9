"""Commit, then print, against a TCP printer on 127.0.0.1; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PIL import ImageChops
from sqlalchemy import select

from kiosk.app.issuing import issue_and_print, reprint_last
from kiosk.config import Config, PrinterConfig
from kiosk.queue.models import Event, TicketStatus
from kiosk.queue.service import QueueService
from printer.errors import NothingToReprint, PrinterUnavailable, PrintFailed
from printer.output import TicketPrinter
from printer.status import PrinterState
from tests.printer.escpos_stream import parse, printed_raster, significant
from tests.support.printer import PrinterPeer

Peer = Callable[..., PrinterPeer]


def setup(connection: str) -> tuple[Config, TicketPrinter]:
    config = Config(printer=PrinterConfig(connection=connection))
    return config, TicketPrinter(config.printer, status_timeout=1.0)


def device_events(service: QueueService) -> list[dict[str, Any]]:
    with service.reading() as session:
        events = session.scalars(select(Event).where(Event.type == "device.status")).all()
        return [dict(e.data) for e in events]


def test_ticket_is_committed_then_printed(service: QueueService, peer: Peer) -> None:
    server = peer()
    config, printer = setup(server.connection)
    printed = issue_and_print(service, printer, config, "NOI", "elderly_75")
    ticket = service.get(printed.issued.ticket.id)
    assert ticket.status == TicketStatus.WAITING
    assert printed.content.code == ticket.code
    assert printed.image.width == 576
    assert server.wait_for(lambda: len(server.jobs) == 1)
    commands = significant(parse(server.jobs[0]))
    assert commands[0].name == "init"
    assert max(c.width_bytes for c in commands if c.name == "raster") <= 72
    on_paper = printed_raster(server.jobs[0], 576).convert("L")
    assert ImageChops.difference(on_paper, printed.image.convert("L")).getbbox() is None
    assert "cut" in [c.name for c in commands]
    assert device_events(service) == []


@pytest.mark.parametrize("mode", ["paper_out", "cover_open"])
def test_blocking_status_stops_issuing_before_the_commit(
    service: QueueService, peer: Peer, mode: str
) -> None:
    server = peer(mode)
    config, printer = setup(server.connection)
    with pytest.raises(PrinterUnavailable) as caught:
        issue_and_print(service, printer, config, "NOI")
    assert caught.value.status.state == mode
    assert not caught.value.status.can_issue
    assert service.tickets_on(service.service_date()) == []  # nothing committed
    assert server.jobs == []  # nothing sent to print
    [event] = device_events(service)
    assert event["state"] == mode and event["action"] == "issue_refused"
    assert event["connection"] == server.connection


def test_silent_printer_is_tried(service: QueueService, peer: Peer) -> None:
    server = peer("silent")
    config = Config(printer=PrinterConfig(connection=server.connection))
    printer = TicketPrinter(config.printer, status_timeout=0.2)
    assert printer.status().state == PrinterState.UNKNOWN
    printed = issue_and_print(service, printer, config, "NOI")
    assert server.wait_for(lambda: len(server.jobs) == 1)
    assert service.get(printed.issued.ticket.id).status == TicketStatus.WAITING


def test_failure_mid_print_cancels_the_ticket(service: QueueService, peer: Peer) -> None:
    server = peer(close_after=5000)
    config, printer = setup(server.connection)
    with pytest.raises(PrintFailed) as caught:
        issue_and_print(service, printer, config, "NOI")
    [ticket] = service.tickets_on(service.service_date())
    assert caught.value.ticket_code == ticket.code
    assert ticket.status == TicketStatus.CANCELLED
    assert ticket.cancel_reason == "print_failed"
    [event] = device_events(service)
    assert event["state"] == "print_failed" and event["ticket"] == ticket.code
    # The next patient gets the next number: the cancelled one is not reused.
    server.close_after = None
    printed = issue_and_print(service, printer, config, "NOI")
    assert printed.issued.ticket.number == (ticket.number or 0) + 1


def test_reprint_last_for_staff(service: QueueService, peer: Peer) -> None:
    server = peer()
    config, printer = setup(server.connection)
    with pytest.raises(NothingToReprint):
        reprint_last(service, printer, config)
    first = issue_and_print(service, printer, config, "NOI")
    again = reprint_last(service, printer, config)
    assert again.issued.ticket.id == first.issued.ticket.id
    assert again.content.reprint
    assert server.wait_for(lambda: len(server.jobs) == 2)
    # A failed reprint cancels nothing: the patient may hold the first print.
    server.close_after = 5000
    with pytest.raises(PrintFailed):
        reprint_last(service, printer, config)
    assert service.get(first.issued.ticket.id).status == TicketStatus.WAITING
