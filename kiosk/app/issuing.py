"""Commit, then print: the one way a kiosk gives a patient a printed number.

1. Ask the printer's status. Paper out, cover open, offline or error: nothing is committed, a
   `device.status` event is recorded and PrinterUnavailable raised (the kiosk disables issuing).
2. Issue the ticket (committed: the number exists from here on).
3. Render and print it. If that fails the ticket is cancelled with reason `print_failed`, so no
   nurse calls a number no patient holds, a `device.status` event is recorded and PrintFailed
   (with `.ticket_code`) raised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.config import Config
from kiosk.queue.models import TicketStatus
from kiosk.queue.service import IssuedTicket, QueueService
from printer.errors import NothingToReprint, PrinterUnavailable, PrintFailed
from printer.status import PrinterStatus

# Pillow, qrcode and python-escpos load with the first ticket (or the kiosk's warm-up after its
# first screen is painted), not with the first screen.
if TYPE_CHECKING:
    from PIL import Image

    from printer.output import TicketPrinterLike
    from printer.ticket import TicketContent

log = logging.getLogger(__name__)

PRINT_FAILED = "print_failed"
REPRINTABLE = frozenset({TicketStatus.WAITING, TicketStatus.CALLED})


@dataclass(frozen=True)
class PrintedTicket:
    issued: IssuedTicket
    image: Image.Image  # the same image is the on-screen "your ticket"
    content: TicketContent


def ticket_content(
    issued: IssuedTicket, config: Config, language: str = "vi", *, reprint: bool = False
) -> TicketContent:
    """What to print for a ticket just issued, in the kiosk's current language."""
    from printer.ticket import TicketContent, priority_label

    english = language == "en"
    ticket = issued.ticket
    hospital = config.hospital
    return TicketContent(
        hospital_name=(hospital.name_en or hospital.name) if english else hospital.name,
        department_name=(issued.department_name_en or issued.department_name_vi)
        if english
        else issued.department_name_vi,
        code=ticket.code,
        priority_label=priority_label(ticket.priority, language),
        directions=(issued.directions_en or issued.directions_vi)
        if english
        else issued.directions_vi,
        ahead=issued.position.ahead,
        estimated_wait_minutes=issued.position.estimated_wait_minutes,
        issued_at=ticket.issued_at.astimezone(hospital.tz),
        status_url=config.status_url(ticket.id),
        footer=config.printer.footer,
        language="en" if english else "vi",
        reprint=reprint,
    )


def _connection(printer: TicketPrinterLike) -> tuple[str, str]:
    """(connection text, what to check) of a TicketPrinter; a stand-in gets its repr."""
    from printer.connection import Connection

    connection = getattr(printer, "connection", None)
    if isinstance(connection, Connection):
        return connection.text, connection.hint
    return repr(printer), "check the printer"


def _device_event(
    printer: TicketPrinterLike, status: PrinterStatus | None, **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"device": "printer", "connection": _connection(printer)[0]}
    if status is not None:
        data.update(state=str(status.state), detail=status.detail)
    data.update(extra)
    return data


def check_printer(service: QueueService, printer: TicketPrinterLike) -> PrinterStatus:
    """The printer's status; PrinterUnavailable (and a device.status event) if it blocks."""
    status = printer.status()
    if not status.can_issue:
        service.record_device_status(_device_event(printer, status, action="issue_refused"))
        text, hint = _connection(printer)
        # The caller shows it (screen, CLI); the device.status event keeps it for staff.
        log.debug("printer %s: %s; not issuing", text, status.detail)
        raise PrinterUnavailable(
            f"printer {text}: {status.state.replace('_', ' ')} ({status.detail}); {hint}",
            status,
        )
    return status


def issue_and_print(
    service: QueueService,
    printer: TicketPrinterLike,
    config: Config,
    department_code: str,
    priority: str | None = None,
    language: str = "vi",
) -> PrintedTicket:
    """Check the printer, commit a ticket, print it; cancel it if the print fails."""
    from printer.ticket import render_ticket  # before the commit: nothing can fail to load after

    check_printer(service, printer)
    issued = service.issue(department_code, priority)
    try:
        content = ticket_content(issued, config, language)
        image = render_ticket(content, config.printer.paper_width_mm)
        printer.print_ticket(image, content)
    except PrintFailed as exc:
        _cancel_unprinted(service, printer, issued, str(exc))
        exc.ticket_code = issued.ticket.code
        raise
    except BaseException as exc:
        # A bug (or an interrupt) after the commit: the number was never handed out either.
        _cancel_unprinted(service, printer, issued, f"{type(exc).__name__}: {exc}")
        raise
    return PrintedTicket(issued=issued, image=image, content=content)


def _cancel_unprinted(
    service: QueueService, printer: TicketPrinterLike, issued: IssuedTicket, why: str
) -> None:
    code = issued.ticket.code
    log.warning("ticket %s not printed, cancelling it: %s", code, why)
    try:
        service.cancel(issued.ticket.id, PRINT_FAILED)
    finally:
        service.record_device_status(
            _device_event(
                printer,
                None,
                state="print_failed",
                detail=why,
                ticket=code,
                ticket_id=issued.ticket.id,
            )
        )


def last_issued(service: QueueService) -> IssuedTicket:
    """The latest ticket this kiosk issued today that a patient can still use."""
    mine = [
        ticket
        for ticket in service.tickets_on(service.service_date())
        if ticket.origin == service.origin
        and ticket.number is not None
        and ticket.transferred_from is None
        and ticket.status in REPRINTABLE
    ]
    if not mine:
        raise NothingToReprint("no ticket issued here today is still waiting: nothing to reprint")
    ticket = max(mine, key=lambda t: (t.issued_at, t.number or 0))
    department = next(
        d for d in service.departments(include_inactive=True) if d.code == ticket.department
    )
    return IssuedTicket(
        ticket=ticket,
        position=service.position(ticket.id),
        department_name_vi=department.name_vi,
        department_name_en=department.name_en,
        directions_vi=department.directions_vi,
        directions_en=department.directions_en,
    )


def reprint_last(
    service: QueueService, printer: TicketPrinterLike, config: Config, language: str = "vi"
) -> PrintedTicket:
    """Staff reprint: the last ticket issued here, marked REPRINT, with today's position.

    Found in the database (survives a restart). A failed reprint cancels nothing: the patient
    may hold the first print. Raises NothingToReprint or PrinterError.
    """
    from printer.ticket import render_ticket

    issued = last_issued(service)
    check_printer(service, printer)
    content = ticket_content(issued, config, language, reprint=True)
    image = render_ticket(content, config.printer.paper_width_mm)
    printer.print_ticket(image, content)
    log.info("reprinted %s", issued.ticket.code)
    return PrintedTicket(issued=issued, image=image, content=content)
