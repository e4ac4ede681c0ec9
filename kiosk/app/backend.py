"""The kiosk's use cases: departments, issue (commit then print), reprint, printer and sync status.

Every method may block: the kiosk window never calls them on the GUI thread but submits them to
its worker. No Qt here. Errors from the printer and the queue are turned into a few typed
outcomes that the screen maps to words for patients.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from kiosk.config import Config
from kiosk.queue.errors import StorageFull
from kiosk.wire import Department as DepartmentStatus
from printer.errors import NothingToReprint, PrinterError, PrinterUnavailable, PrintFailed

if TYPE_CHECKING:
    # Pillow and python-escpos load with the first ticket, SQLAlchemy and the queue service
    # right after the first screen (`LateService`), not before it.
    from kiosk.queue.quickread import QuickReader
    from kiosk.queue.service import IssuedTicket, QueueService
    from printer.output import TicketPrinterLike

log = logging.getLogger(__name__)

# States in which a patient can get a ticket (the printer's own `can_issue` decides first).
READY_STATES = frozenset({"ready", "paper_near_end"})


@dataclass(frozen=True)
class PrinterHealth:
    """The printer as the screen sees it: a lower-case state name and whether to issue."""

    state: str
    can_issue: bool
    detail: str = ""

    @classmethod
    def of(cls, status: Any) -> PrinterHealth:
        state = getattr(status, "state", "unknown")
        name = str(getattr(state, "value", None) or getattr(state, "name", state)).lower()
        can_issue = getattr(status, "can_issue", None)
        if can_issue is None:
            can_issue = name in READY_STATES
        detail = str(getattr(status, "detail", "") or getattr(status, "message", "") or "")
        return cls(state=name, can_issue=bool(can_issue), detail=detail)


READY = PrinterHealth("ready", True)
# Issuing resumes after a full disk once this much is free again under the database.
STORAGE_RESUME_BYTES = 20 * 1024**2


@dataclass(frozen=True)
class TicketView:
    """An issued, printed ticket as the "your number" screen shows it."""

    ticket_id: str
    code: str
    department_code: str
    department_name_vi: str
    department_name_en: str
    directions_vi: str
    directions_en: str
    priority: str | None
    ahead: int
    estimated_wait_minutes: int
    status_url: str
    # The status URL's QR code (True: dark), made off the GUI thread with the printed one.
    qr_modules: tuple[tuple[bool, ...], ...] = ()

    @classmethod
    def of(cls, issued: IssuedTicket, config: Config) -> TicketView:
        status_url = config.status_url(issued.ticket.id)
        modules: tuple[tuple[bool, ...], ...] = ()
        if status_url:
            from printer.ticket import qr_modules

            modules = tuple(tuple(row) for row in qr_modules(status_url))
        return cls(
            ticket_id=issued.ticket.id,
            code=issued.ticket.code,
            department_code=issued.ticket.department,
            department_name_vi=issued.department_name_vi,
            department_name_en=issued.department_name_en,
            directions_vi=issued.directions_vi,
            directions_en=issued.directions_en,
            priority=issued.ticket.priority,
            ahead=issued.position.ahead,
            estimated_wait_minutes=issued.position.estimated_wait_minutes,
            status_url=status_url,
            qr_modules=modules,
        )

    def department_name(self, language: str) -> str:
        return self.department_name_en if language == "en" else self.department_name_vi

    def directions(self, language: str) -> str:
        return self.directions_en if language == "en" else self.directions_vi


class BackgroundSync(Protocol):
    """The kiosk's sync worker as the screen sees it (server_sync.client.SyncWorker)."""

    def start(self) -> None: ...

    def wake(self) -> None: ...

    def stop(self, timeout: float | None = None) -> None: ...

    def set_heartbeat(self, report: Callable[[float | None], None]) -> None: ...


class LateService:
    """The queue service, opened on a thread of its own once the first screen is painted:
    importing SQLAlchemy, the models and the service takes longer than painting that screen,
    which `QuickReader` reads through sqlite3 alone. Whoever needs the service before it is
    open (a patient's tap, the printer poll, the sync) waits for it in `get()`, off the GUI
    thread; if it cannot be opened, `get()` raises why, and `failed` says it at once."""

    def __init__(self, open_service: Callable[[], QueueService]) -> None:
        self._open = open_service
        self._ready = threading.Event()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._service: QueueService | None = None
        self._error: BaseException | None = None
        self._on_failure: list[Callable[[BaseException], None]] = []

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def on_failure(self, report: Callable[[BaseException], None]) -> None:
        """`report(error)` runs on the opening thread if the service cannot be opened."""
        self._on_failure.append(report)

    def start(self) -> None:
        """Open the service on a thread of its own (once; later calls do nothing)."""
        with self._started:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="queue-open", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._service = self._open()
        except BaseException as exc:
            self._error = exc
            log.error("the queue store could not be opened: %s", exc)
            for report in self._on_failure:
                report(exc)
        finally:
            self._ready.set()

    def get(self, timeout: float | None = None) -> QueueService:
        """The service, once open (starting to open it if nobody has yet)."""
        self.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the queue store is still being opened")
        if self._service is None:
            raise self._error or RuntimeError("the queue store was not opened")
        return self._service


if TYPE_CHECKING:
    # The service itself, or one still being opened.
    ServiceSource: TypeAlias = QueueService | LateService


def resolve_service(source: ServiceSource) -> QueueService:
    """The service itself, waiting for it if it is still being opened (never on the GUI
    thread)."""
    return source.get() if isinstance(source, LateService) else source


def close_stale_tickets_in_background(source: ServiceSource) -> None:
    """End of day, off the UI thread: tickets still waiting from earlier days are cancelled."""

    def run() -> None:
        try:
            resolve_service(source).close_stale_tickets()
        except Exception:
            log.exception("end-of-day job failed; trying again later")

    threading.Thread(target=run, name="end-of-day", daemon=True).start()


@dataclass(frozen=True)
class SyncInfo:
    pending: int
    rejected: int
    last_synced_at: dt.datetime | None
    server_url: str


class PrinterNotReady(Exception):
    """The printer cannot print now; nothing was committed."""

    def __init__(self, health: PrinterHealth) -> None:
        super().__init__(f"printer not ready: {health.state} {health.detail}".strip())
        self.health = health


class TicketNotPrinted(Exception):
    """The ticket was committed but printing failed; it has been cancelled (print_failed)."""


class KioskBackend:
    """The queue service and the ticket printer behind one lock (one job at a time anyway)."""

    def __init__(
        self,
        service: ServiceSource,
        printer: TicketPrinterLike,
        config: Config,
        *,
        first_screen: QuickReader | None = None,
    ) -> None:
        self._service = service
        # Until a LateService is open, the department grid is read through sqlite3.
        self._first_screen = first_screen
        self.printer = printer
        self.config = config
        self._lock = threading.Lock()
        self._last_health: PrinterHealth | None = None
        # Set when a ticket could not be committed for lack of disk space.
        self._storage_full: PrinterHealth | None = None
        # Set when SQLite's quick_check finds the store damaged: no number from it.
        self._store_damaged: PrinterHealth | None = None

    @property
    def service(self) -> QueueService:
        """The queue service; while a `LateService` is being opened, this waits for it (the
        worker's threads call it, never the GUI thread)."""
        return resolve_service(self._service)

    @property
    def service_ready(self) -> bool:
        return not isinstance(self._service, LateService) or self._service.ready

    def departments(self) -> list[DepartmentStatus]:
        if self._first_screen is not None and not self.service_ready:
            return self._first_screen.departments()
        return self.service.departments()

    def printer_health(self) -> PrinterHealth:
        """What decides whether tickets can be issued: the printer, and the disk once full."""
        with self._lock:
            if self._storage_full is not None and not self._storage_recovered():
                return self._storage_full
            if self._store_damaged is not None:
                return self._store_damaged
            hold = self.service.issuing_hold()
            if hold is not None:
                # Restored or new: no number until the server's marks are known (sync lifts it).
                return PrinterHealth("on_hold", False, f"store {hold.reason}")
            try:
                health = PrinterHealth.of(self.printer.status())
            except PrinterError as exc:
                log.warning("printer status failed: %s", exc)
                health = PrinterHealth("offline", False, str(exc))
            except Exception as exc:
                log.exception("printer status failed (a bug)")
                health = PrinterHealth("offline", False, str(exc))
            if health != self._last_health:
                self._record_health(health)
            return health

    def check_store(self) -> str | None:
        """SQLite's quick_check over the store (seconds on a big one: run it off the UI thread,
        after the first screen). A damaged store stops issuing until it is restored."""
        from kiosk.queue.store import RESTORE_HINT, integrity_problem

        if self.service.engine.dialect.name != "sqlite":
            return None
        problem = integrity_problem(self.service.engine)
        with self._lock:
            if problem is None:
                self._store_damaged = None
                return None
            log.error("the kiosk's store is damaged (%s); restore it: %s", problem, RESTORE_HINT)
            self._store_damaged = PrinterHealth("store_damaged", False, problem)
        return problem

    def _storage_recovered(self) -> bool:
        from sqlalchemy import make_url

        database = make_url(str(self.service.engine.url)).database
        if self.service.engine.dialect.name != "sqlite" or not database:
            self._storage_full = None
            return True
        try:
            free = shutil.disk_usage(Path(database).parent).free
        except OSError:
            return False
        if free < STORAGE_RESUME_BYTES:
            return False
        log.info("disk space is back (%d MB free): issuing again", free // 1024**2)
        self._storage_full = None
        return True

    def _record_health(self, health: PrinterHealth) -> None:
        previous, self._last_health = self._last_health, health
        if previous is None and health.can_issue:
            return
        # A printer that stops issuing is a warning: `journalctl -p warning` must show it.
        level = logging.INFO if health.can_issue else logging.WARNING
        log.log(level, "printer is now %s %s", health.state, health.detail)
        self.report_status()

    def report_status(self, clock_offset_seconds: float | None = None) -> None:
        """A `device.status` event with printer, disk, sync, clock and version (the console's
        fleet); the sync worker calls it every few minutes with the offset it measured."""
        from sqlalchemy import make_url

        from kiosk.devicestatus import collect_device_status, kiosk_version

        health = self._last_health or READY
        database = make_url(str(self.service.engine.url)).database
        try:
            status = collect_device_status(
                self.service.engine,
                self.service.origin,
                version=kiosk_version(),
                printer=health.state,
                printer_detail=health.detail,
                data_dir=Path(database).parent if database else None,
                clock_offset_seconds=clock_offset_seconds,
            )
            self.service.record_device_status({**status, "can_issue": health.can_issue})
        except Exception:
            log.exception("could not record the device status event")

    def issue(self, department_code: str, priority: str | None, language: str) -> TicketView:
        """Commit a ticket and print it; raise PrinterNotReady or TicketNotPrinted. A tap
        before the service is open waits for it here (once, on the worker)."""
        from kiosk.app.issuing import issue_and_print

        service = self.service
        with self._lock:
            try:
                printed = issue_and_print(
                    service, self.printer, self.config, department_code, priority, language
                )
            except PrinterUnavailable as exc:
                raise PrinterNotReady(_health_of_error(exc)) from exc
            except PrintFailed as exc:
                log.error("ticket for %s not printed, cancelled: %s", department_code, exc)
                raise TicketNotPrinted(str(exc)) from exc
            except StorageFull as exc:
                # Nothing was committed; stop offering numbers until space is freed.
                log.error("not issuing: %s", exc)
                self._storage_full = PrinterHealth("storage_full", False, str(exc))
                raise
            return TicketView.of(printed.issued, self.config)

    def warm_up(self) -> None:
        """What a patient's first ticket would otherwise pay for, done once on the worker after
        the first screen: SQLAlchemy's compiled statements for issuing, through an issue that
        is rolled back (nothing is stored; it writes as background work does, stepping aside
        for a patient's), then drawing the ticket of every department in every language
        (Pillow, the fonts, each department's static parts), its QR and the printer's encoding.
        Nothing here may stop the kiosk."""
        from dataclasses import replace

        from kiosk.app.issuing import ticket_content
        from printer.ticket import render_ticket

        try:
            service = self.service
            issued = _rolled_back_issue(service) or sample_issued(service, self.config)
            TicketView.of(issued, self.config)
            encode = getattr(self.printer, "encode", None)
            for department in service.departments():
                sample = replace(
                    issued,
                    department_name_vi=department.name_vi,
                    department_name_en=department.name_en,
                    directions_vi=department.directions_vi,
                    directions_en=department.directions_en,
                )
                for language in self.config.hospital.languages:
                    content = ticket_content(sample, self.config, language)
                    image = render_ticket(content, self.config.printer.paper_width_mm)
                    if encode is not None and getattr(self.printer, "sends_escpos", False):
                        encode(image, content)
        except Exception as exc:
            log.debug("warming up for the first ticket failed (it pays the cost): %s", exc)

    def reprint_last(self, language: str = "vi") -> str | None:
        """Print the last ticket issued here again (staff); its code, or None if there is none."""
        from kiosk.app.issuing import reprint_last

        with self._lock:
            try:
                printed = reprint_last(self.service, self.printer, self.config, language)
            except NothingToReprint:
                return None
            return printed.issued.ticket.code

    def test_print(self) -> None:
        from printer.ticket import render_ticket, sample_content

        content = sample_content(self.config, "vi")
        image = render_ticket(content, self.config.printer.paper_width_mm)
        with self._lock:
            self.printer.print_ticket(image, content)

    def set_paused(self, department_code: str, paused: bool) -> list[DepartmentStatus]:
        self.service.set_paused(department_code, paused)
        self.report_status()  # the console shows the kiosk's own pauses too
        log.info("department %s %s by staff", department_code, "paused" if paused else "resumed")
        return self.service.departments()

    def sync_info(self) -> SyncInfo:
        from kiosk.queue.outbox import outbox_state

        with self.service.reading() as session:
            state = outbox_state(session, self.service.origin)
        return SyncInfo(state.pending, state.rejected, state.last_synced_at, self.config.server.url)


def _rolled_back_issue(service: QueueService) -> IssuedTicket | None:
    """A ticket numbered in a transaction that is rolled back: SQLAlchemy compiles and caches
    every statement of issuing; the store is left as it was. None if no department can issue."""
    codes = [d.code for d in service.departments() if d.unavailable is None]
    if not codes:
        return None
    return service.rehearse_issue(codes[0])


def _health_of_error(exc: Exception) -> PrinterHealth:
    status = getattr(exc, "status", None)
    if status is not None:
        health = PrinterHealth.of(status)
        return PrinterHealth(health.state, False, health.detail)
    return PrinterHealth("offline", False, str(exc))


def sample_issued(service: QueueService, config: Config) -> IssuedTicket:
    """A realistic ticket that is NOT committed (screenshots, test prints)."""
    import dataclasses

    from kiosk.queue.service import IssuedTicket, Position
    from kiosk.queue.sqlite_issuing import IssuingRules

    departments = service.departments()
    department = next((d for d in departments if d.code == "NOI"), None) or departments[0]
    number = department.issued_today + 1 + config.numbering.offset
    ticket = IssuingRules.of(config).new_ticket(
        department.code, department.prefix, number, None, service.now()
    )
    # A fixed id: the sample's QR is the same in every screenshot.
    ticket = dataclasses.replace(ticket, id="00000000-0000-4000-8000-000000000000")
    return IssuedTicket(
        ticket=ticket,
        position=Position(department.waiting, department.estimated_wait_minutes),
        department_name_vi=department.name_vi,
        department_name_en=department.name_en,
        directions_vi=department.directions_vi,
        directions_en=department.directions_en,
    )
