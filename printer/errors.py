"""Typed printer errors: the message is one line for staff; the UI maps each type to its text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from printer.status import PrinterStatus


class PrinterError(Exception):
    """The printer cannot do what was asked.

    `str(exc)` is one line for staff: which connection, what failed, what to check.
    """


class PrinterUnavailable(PrinterError):
    """The printer's status blocks issuing (paper out, cover open, offline, error)."""

    def __init__(self, message: str, status: PrinterStatus) -> None:
        super().__init__(message)
        self.status = status


class PrintFailed(PrinterError):
    """Sending a ticket failed or timed out; the ticket (if any) was cancelled by the caller."""

    def __init__(self, message: str, *, ticket_code: str | None = None) -> None:
        super().__init__(message)
        self.ticket_code = ticket_code


class NothingToReprint(LookupError):
    """Staff asked for a reprint but no ticket issued here today is still waiting."""
