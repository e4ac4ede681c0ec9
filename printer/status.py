"""Printer status from the ESC/POS real-time status request (DLE EOT n).

Only `network`, `serial` and `usb` connections can answer. Each reply is one byte whose fixed
bits are 0x12 (bit 1 and bit 4 set, bits 0 and 7 clear); a reply without that pattern, or no
reply at all, is not trusted: the state is then UNKNOWN and printing is attempted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DLE_EOT = b"\x10\x04"
STATUS_PRINTER = 1  # bit 3: offline
STATUS_OFFLINE_CAUSE = 2  # bit 2: cover open, bit 5: stopped by paper end, bit 6: error
STATUS_ERROR_CAUSE = 3  # bit 3: auto-cutter error, bit 5: unrecoverable, bit 6: auto-recoverable
STATUS_PAPER = 4  # bits 2+3: paper near end, bits 5+6: paper out

_FIXED_MASK = 0x93
_FIXED_BITS = 0x12


class PrinterState(enum.StrEnum):
    READY = "ready"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    ERROR = "error"
    UNKNOWN = "unknown"


BLOCKING_STATES = frozenset(
    {PrinterState.PAPER_OUT, PrinterState.COVER_OPEN, PrinterState.OFFLINE, PrinterState.ERROR}
)


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    detail: str  # technical, for logs and the admin panel

    @property
    def can_issue(self) -> bool:
        """False when a ticket could not be printed now (paper out, cover open, offline, error)."""
        return self.state not in BLOCKING_STATES

    def to_dict(self) -> dict[str, str | bool]:
        return {"state": str(self.state), "detail": self.detail, "can_issue": self.can_issue}


def request(n: int) -> bytes:
    """The real-time status request DLE EOT n."""
    return DLE_EOT + bytes((n,))


def valid_reply(reply: bytes) -> bool:
    return len(reply) >= 1 and reply[0] & _FIXED_MASK == _FIXED_BITS


def interpret(replies: dict[int, bytes]) -> PrinterStatus:
    """Turn the replies to DLE EOT 1, 2, 4 (missing ones absent) into one status.

    The printer's answers are read in order of what blocks a patient most: paper out, cover
    open, error, offline; paper near end still lets tickets be issued.
    """
    shown = " ".join(f"{n}={replies[n].hex() or '-'}" for n in sorted(replies))
    detail = f"DLE EOT replies {shown}" if replies else "no status reply"
    printer = replies.get(STATUS_PRINTER, b"")
    if not valid_reply(printer):
        return PrinterStatus(PrinterState.UNKNOWN, f"the printer did not answer ({detail})")
    cause = replies.get(STATUS_OFFLINE_CAUSE, b"")
    paper = replies.get(STATUS_PAPER, b"")
    if valid_reply(paper) and paper[0] & 0x60:
        return PrinterStatus(PrinterState.PAPER_OUT, f"paper out ({detail})")
    if valid_reply(cause):
        if cause[0] & 0x04:
            return PrinterStatus(PrinterState.COVER_OPEN, f"cover open ({detail})")
        if cause[0] & 0x20:
            return PrinterStatus(PrinterState.PAPER_OUT, f"stopped at paper end ({detail})")
        if cause[0] & 0x40:
            return PrinterStatus(PrinterState.ERROR, f"printer error ({detail})")
    if printer[0] & 0x08:
        return PrinterStatus(PrinterState.OFFLINE, f"printer reports offline ({detail})")
    if valid_reply(paper) and paper[0] & 0x0C:
        return PrinterStatus(PrinterState.PAPER_NEAR_END, f"paper near end ({detail})")
    return PrinterStatus(PrinterState.READY, f"online ({detail})")
