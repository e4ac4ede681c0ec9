"""The patient's way through the kiosk as a plain state: tap, priority, issue, result, home.

`KioskFlow` knows the departments, the printer's health, the language, the department chosen
and whether a ticket is being issued or the kiosk cools down; it answers what a tap leads to,
what the home page's banner says, what a failed issue means and what the idle timeout does.
The window (`kiosk/ui/kiosk_window.py`) renders it, owns the timers and runs the blocking
work (`kiosk/app/backend.py`) on its worker. No Qt: the tests drive it directly.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.app.backend import READY, PrinterHealth, PrinterNotReady, TicketNotPrinted
from kiosk.app.citizen_card import CardReading, ScanResult
from kiosk.config import KioskConfig
from kiosk.queue.errors import DepartmentUnavailable, StorageFull
from kiosk.wire import Department as DepartmentStatus

log = logging.getLogger(__name__)

# Pages that end by themselves: the idle timeout leaves them alone.
SELF_ENDING_PAGES = frozenset({"printing", "ticket", "message"})


class Step(enum.Enum):
    """Where a tap on a department leads."""

    NOTHING = "nothing"  # not now (not on the home page, or issuing is off)
    PRIORITY = "priority"  # ask for a priority group first
    ISSUE = "issue"  # issue at once (no priority groups configured)


class Banner(enum.Enum):
    """What the home page says above the grid, most important first."""

    NONE = "none"
    PRINTER_FAULT = "printer_fault"  # numbers cannot be given: the printer or the disk
    COOLING = "cooling"  # a moment between two patients
    TRANSIENT = "transient"  # a short message (e.g. that department stopped giving numbers)
    NO_DEPARTMENTS = "no_departments"


class Outcome(enum.Enum):
    """Why a ticket was not issued, as the screen tells it."""

    PRINTER = "printer"  # not ready: nothing committed, issuing off
    STORAGE_FULL = "storage_full"  # the disk is full: nothing committed, issuing off
    UNAVAILABLE = "unavailable"  # the department stopped giving numbers
    PRINT_FAILED = "print_failed"  # committed, not printed, cancelled
    ERROR = "error"  # a bug: logged with its traceback


class Scan(enum.Enum):
    """What a scanned code does (the card's text is never kept: only its priority)."""

    IGNORED = "ignored"  # staff pages, or a ticket being printed
    NOT_A_CARD = "not_a_card"  # a short friendly message
    NO_PRIORITY = "no_priority"  # a card, but no group the hospital gives priority to
    HELD = "held"  # a priority kept for the department the patient taps next
    PRESELECTED = "preselected"  # on the priority step: shown to confirm or decline


# Pages where a scan belongs to a patient (anything else is staff's or a ticket in progress).
SCAN_PAGES = frozenset({"home", "priority", "scanned_priority", "ticket", "message"})


class Idle(enum.Enum):
    NOTHING = "nothing"
    ATTRACT = "attract"  # home → its attract state (the grid stays: one tap still issues)
    HOME = "home"  # any other page → home


@dataclass(frozen=True)
class IssueRequest:
    department: str
    priority: str | None
    language: str


@dataclass
class KioskFlow:
    languages: list[str]
    priority_step: bool = True  # whether priority groups are configured
    departments: list[DepartmentStatus] = field(default_factory=list)
    health: PrinterHealth = READY
    cooling: bool = False
    busy: bool = False  # a ticket is being issued
    chosen: str | None = None  # the department tapped
    transient: str = ""  # a short message for the home page
    language: str = ""
    scanned: str | None = None  # the priority a scanned ID card calls for, until home

    def __post_init__(self) -> None:
        self.language = self.language or self.default_language

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def can_issue(self) -> bool:
        return self.health.can_issue and not self.cooling and not self.busy

    def banner(self) -> Banner:
        if not self.health.can_issue:
            return Banner.PRINTER_FAULT
        if self.cooling:
            return Banner.COOLING
        if self.transient:
            return Banner.TRANSIENT
        return Banner.NONE if self.departments else Banner.NO_DEPARTMENTS

    def next_language(self) -> str:
        index = self.languages.index(self.language) if self.language in self.languages else 0
        return self.languages[(index + 1) % len(self.languages)]

    def department_name(self, code: str) -> str:
        department = next((d for d in self.departments if d.code == code), None)
        return department.name(self.language) if department is not None else code

    # -- the patient's flow ---------------------------------------------------------------

    def tap(self, code: str, page: str) -> Step:
        if page != "home" or not self.can_issue():
            return Step.NOTHING
        self.chosen = code
        return Step.PRIORITY if self.priority_step or self.scanned else Step.ISSUE

    def scan(self, result: ScanResult, page: str) -> Scan:
        """A code scanned on `page`. A card's priority (only a configured group: the reader
        checked) is held for the priority step; anything else holds nothing."""
        if page not in SCAN_PAGES or self.busy:
            return Scan.IGNORED
        if not isinstance(result, CardReading):
            return Scan.NOT_A_CARD
        self.scanned = result.priority
        if result.priority is None:
            return Scan.NO_PRIORITY
        on_step = page in ("priority", "scanned_priority")
        return Scan.PRESELECTED if on_step and self.chosen else Scan.HELD

    def decline_scanned(self) -> None:
        """The patient says the scanned priority is not theirs (or not wanted)."""
        self.scanned = None

    def home(self) -> None:
        """Back on the home page: a scanned priority belonged to the patient who left."""
        self.scanned = None

    def begin_issue(self, priority: str | None) -> IssueRequest | None:
        """What to issue now, or None (nothing chosen, or a ticket already in progress)."""
        if self.chosen is None or self.busy:
            return None
        self.busy = True
        return IssueRequest(self.chosen, priority, self.language)

    def issued(self) -> None:
        self.busy = False
        self.chosen = None
        self.scanned = None

    def not_issued(self, error: BaseException) -> Outcome:
        """What went wrong; the health follows when issuing must stop."""
        self.busy = False
        self.chosen = None
        self.scanned = None
        if isinstance(error, PrinterNotReady):
            log.warning("not issued: %s", error)
            self.health = error.health
            return Outcome.PRINTER
        if isinstance(error, StorageFull):
            # The backend keeps issuing off until the disk has room again (the printer poll).
            self.health = PrinterHealth("storage_full", False, str(error))
            return Outcome.STORAGE_FULL
        if isinstance(error, DepartmentUnavailable):
            log.info("not issued: %s", error)
            return Outcome.UNAVAILABLE
        if isinstance(error, TicketNotPrinted):
            return Outcome.PRINT_FAILED
        log.error("issuing failed", exc_info=error)
        return Outcome.ERROR

    def idle(self, page: str) -> Idle:
        """The idle timeout: back to the default language, and home (or the attract screen).
        Never while a ticket is being issued: its outcome decides the next page."""
        if page in SELF_ENDING_PAGES or self.busy:
            return Idle.NOTHING
        self.scanned = None
        if page == "home":
            return Idle.ATTRACT
        self.chosen = None
        return Idle.HOME

    def set_departments(self, departments: Sequence[DepartmentStatus]) -> None:
        self.departments = list(departments)


# The number screen ignores touches this long after it appears (at least the tap guard).
TICKET_GUARD_MS = 2500


@dataclass(frozen=True)
class KioskTimings:
    """The kiosk window's durations in milliseconds, from `[kiosk]` in the config (tests pass
    tiny ones instead of waiting real seconds)."""

    idle_ms: int = 60_000
    cooldown_ms: int = 3_000
    result_ms: int = 15_000
    message_ms: int = 15_000
    printer_poll_ms: int = 3_000
    refresh_ms: int = 10_000
    admin_taps: int = 5
    admin_tap_window_s: float = 3.0
    # Touches ignored after every page change (kiosk.tap_guard_ms), and longer on the number
    # screen: a "did it work?" tap must not take the number away.
    tap_guard_ms: int = 500
    ticket_guard_ms: int = 2500
    countdown_ms: int = 250  # how often the number screen's countdown is redrawn
    # "Printing your ticket…" only when the ticket takes longer than this: a quicker one goes
    # straight to the number, without a page flashing by (and repainting the whole screen)
    # while the ticket is committed.
    printing_page_ms: int = 100

    @classmethod
    def from_config(cls, kiosk: KioskConfig) -> KioskTimings:
        return cls(
            idle_ms=kiosk.idle_seconds * 1000,
            cooldown_ms=kiosk.cooldown_seconds * 1000,
            result_ms=kiosk.result_seconds * 1000,
            message_ms=kiosk.result_seconds * 1000,
            tap_guard_ms=kiosk.tap_guard_ms,
            ticket_guard_ms=max(kiosk.tap_guard_ms, TICKET_GUARD_MS),
        )


@dataclass
class TapGuard:
    """Ghost taps: after a page change, touches are ignored until the new page has been shown
    for the guard time and the finger that was down at the change has lifted.

    A press that starts inside the guard is ignored whole (its moves and its release too), so
    only a deliberate tap on a page the patient has seen can choose anything. The window feeds
    it every press, move and release of its screen once (touch and the mouse events Qt makes
    from it alike); keys (a USB scanner types) are never guarded. Times are seconds of the
    window's monotonic clock.
    """

    down: bool = False  # a finger (or mouse button) is down now
    until: float = 0.0  # presses before this time are ignored
    wait_lift: bool = False  # the finger down at the last page change has not lifted yet
    ignoring: bool = False  # the press now under way is being ignored

    def page_changed(self, now: float, guard_s: float) -> None:
        self.until = max(self.until, now + guard_s)
        if self.down:
            self.wait_lift = self.ignoring = True

    def remaining(self, now: float) -> float:
        """Seconds until a press counts again (0 when it does)."""
        return max(0.0, self.until - now)

    def press(self, now: float) -> bool:
        """A finger came down: True when the press counts."""
        self.ignoring = self.wait_lift or now < self.until
        self.down = True
        return not self.ignoring

    def move(self) -> bool:
        return not self.ignoring

    def release(self) -> bool:
        """The finger lifted: True when the release counts (its press did)."""
        counted = not self.ignoring
        self.down = self.wait_lift = self.ignoring = False
        return counted
