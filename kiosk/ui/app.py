"""Start the patient kiosk, or render one of its screens to a PNG and exit."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor

from kiosk.app.backend import (
    READY,
    BackgroundSync,
    KioskBackend,
    LateService,
    TicketView,
    close_stale_tickets_in_background,
    sample_issued,
)
from kiosk.app.kiosk_flow import KioskTimings
from kiosk.collector import freeze_start_up_objects
from kiosk.config import Config
from kiosk.ui.i18n import Translations
from kiosk.ui.kiosk_window import KioskWindow
from kiosk.ui.qapp import create_application, exec_until_interrupted, show_fullscreen
from kiosk.ui.screenshot import grab
from kiosk.ui.style import apply_style, load_fonts
from kiosk.ui.watchdog import SystemdWatchdog
from printer.status import PrinterState, PrinterStatus

if TYPE_CHECKING:
    # Pillow and python-escpos load with the first ticket, SQLAlchemy and the queue service
    # right after the first screen.
    from PIL import Image

    from kiosk.app.backend import ServiceSource
    from kiosk.queue.quickread import QuickReader
    from printer.output import TicketPrinterLike
    from printer.ticket import TicketContent

log = logging.getLogger(__name__)

END_OF_DAY_INTERVAL_MS = 10 * 60 * 1000
# Background work waits for the first painted screen, or this long if it never comes.
FIRST_SCREEN_TIMEOUT_MS = 10_000
# The store's full integrity check: at start-up, then once a day.
STORE_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000


def build_window(
    config: Config,
    service: ServiceSource,
    printer: TicketPrinterLike,
    *,
    timings: KioskTimings | None = None,
    first_screen: QuickReader | None = None,
) -> KioskWindow:
    """The kiosk window over `service`; with a `LateService` still being opened, its grid is
    read through `first_screen` (sqlite3) until the service is open."""
    app = create_application()
    family = load_fonts()
    apply_style(app, family)
    backend = KioskBackend(service, printer, config, first_screen=first_screen)
    return KioskWindow(config, backend, family=family, translations=Translations(), timings=timings)


def check_store_in_background(window: KioskWindow) -> None:
    """The store's full integrity check, off the UI thread (the first screen comes first)."""

    def run() -> None:
        try:
            window.backend.check_store()
        except Exception:
            log.exception("store integrity check failed to run")

    threading.Thread(target=run, name="store-check", daemon=True).start()


def warm_up_in_background(window: KioskWindow) -> None:
    """What the first patient's ticket would otherwise pay for (compiling the statements of
    issuing, loading the ticket's drawing, fonts and encoding), on the worker after whatever
    it was asked before (the printer is loaded first)."""
    window.worker.submit(window.backend.warm_up, name="warm-up")


def after_first_screen(
    window: KioskWindow, *work: Callable[[], object], timeout_ms: int = FIRST_SCREEN_TIMEOUT_MS
) -> None:
    """Run `work` once the department grid has its live counts and the event loop has painted
    it; background work started earlier (sync, integrity check, end of day) would compete with
    the first screen for the interpreter and the disk. Without departments within `timeout_ms`
    (a store that cannot be read), it starts anyway."""
    done = False

    def begin() -> None:
        nonlocal done
        if done:
            return
        done = True
        for item in work:
            try:
                item()
            except Exception:
                log.exception("background work after the first screen failed to start")

    window.departments_changed.connect(lambda: QTimer.singleShot(0, begin))
    QTimer.singleShot(timeout_ms, begin)


class LateSync:
    """The sync worker, made and started off the GUI thread once the first screen is painted:
    making it imports the HTTP stack, which takes longer than painting that screen."""

    def __init__(
        self,
        make: Callable[[], BackgroundSync | None],
        heartbeat: Callable[[float | None], None],
    ) -> None:
        self._make = make
        self._heartbeat = heartbeat
        self._lock = threading.Lock()
        self._worker: BackgroundSync | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sync-start", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            worker = self._make()
        except Exception:
            log.exception("the background sync failed to start")
            return
        if worker is None:
            return
        worker.set_heartbeat(self._heartbeat)
        with self._lock:
            if not self._stopped:
                self._worker = worker
                worker.start()
                return
        worker.stop(timeout=1)  # the kiosk closed meanwhile: never started

    def wake(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.wake()

    def stop(self, timeout: float | None = None) -> None:
        with self._lock:
            self._stopped = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._worker is not None:
            self._worker.stop(timeout=timeout)


class _GuiThread(QObject):
    """Runs a callable on the GUI thread, whichever thread asks (a queued signal)."""

    call = Signal(object)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.call.connect(self._run)

    def _run(self, work: Callable[[], None]) -> None:
        work()


def open_late_service(service: LateService, window: KioskWindow) -> None:
    """Open the queue service on its own thread; once it is open, what it loaded (SQLAlchemy,
    the models, their mappers) is frozen out of the garbage collector too, on the GUI thread
    (a collection may delete Qt objects, which only their own thread may do)."""
    gui = _GuiThread(window)

    def run() -> None:
        try:
            service.get()
        except Exception:
            return  # reported by the service's own failure callbacks
        gui.call.emit(freeze_start_up_objects)

    service.start()
    threading.Thread(target=run, name="queue-opened", daemon=True).start()


def run_kiosk(
    config: Config,
    service: ServiceSource,
    printer: TicketPrinterLike,
    make_sync: Callable[[], BackgroundSync | None] | None = None,
    *,
    load_printer: Callable[[], object] | None = None,
    first_screen: QuickReader | None = None,
) -> int:
    """The kiosk screen until it is closed.

    Nothing slow runs before the department grid is painted with its counts: then systemd
    hears READY=1 and the watchdog starts, the queue service is opened if it is a
    `LateService` (the grid was read through `first_screen` until then; a tap meanwhile waits
    for it; a store it cannot open ends the kiosk and its error is raised here), the printer
    is loaded (`load_printer`, on the worker; a `PrinterError` from it ends the kiosk and is
    raised here, as the printer's own constructor would have before) and asked for its status,
    the sync worker is made (`make_sync`) and started, the pages after the home page are
    built (a tap before that builds them itself), and the store check and end-of-day work
    begin."""
    app = create_application()
    window = build_window(config, service, printer, first_screen=first_screen)
    watchdog = SystemdWatchdog(window)
    failures: list[BaseException] = []

    gui = _GuiThread(window)

    def service_failed(exc: BaseException) -> None:  # on the service's opening thread
        failures.append(exc)
        # exit, not quit: Qt 6's quit() first asks the windows to close, which the kiosk's
        # window refuses (only staff close it), and the kiosk would go on without its store.
        gui.call.emit(lambda: app.exit(1))

    def printer_failed(exc: BaseException) -> None:
        log.error("the printer cannot be used: %s", exc)
        failures.append(exc)
        app.exit(1)

    def first_printer_status() -> None:
        if load_printer is None:
            window.poll_printer()
        else:
            window.worker.submit(
                load_printer, lambda _: window.poll_printer(), printer_failed, name="printer"
            )

    sync: LateSync | None = None
    background: list[Callable[[], object]] = [watchdog.start]  # READY=1: the first screen is up
    if isinstance(service, LateService):
        service.on_failure(service_failed)
        background.append(lambda: open_late_service(service, window))
    background += [
        window.build_pages,  # only the home page was built before its first paint
        first_printer_status,
        lambda: warm_up_in_background(window),
        lambda: check_store_in_background(window),
        freeze_start_up_objects,
    ]
    if make_sync is not None:
        sync = LateSync(make_sync, window.backend.report_status)
        window.ticket_shown.connect(lambda _view: sync.wake())
        background.append(sync.start)
    if not config.server.url:
        # With a server, the server closes the day and the kiosk pulls it.
        background.append(lambda: close_stale_tickets_in_background(service))
        end_of_day = QTimer(window)
        end_of_day.timeout.connect(lambda: close_stale_tickets_in_background(service))
        end_of_day.start(END_OF_DAY_INTERVAL_MS)
    after_first_screen(window, *background)
    if config.kiosk.fullscreen:
        window.setWindowFlags(
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
        show_fullscreen(window)
    else:
        window.resize(1080, 1920)
        window.show()
    window.start(poll_printer=False)
    nightly_check = QTimer(window)
    nightly_check.timeout.connect(lambda: check_store_in_background(window))
    nightly_check.start(STORE_CHECK_INTERVAL_MS)
    try:
        code = exec_until_interrupted(
            app,
            lambda: log.info(
                "kiosk %s running (fullscreen=%s)", config.kiosk.id, config.kiosk.fullscreen
            ),
        )
    finally:
        watchdog.stop()
        window.shutdown()
        if sync is not None:
            sync.stop(timeout=5)
        gc.unfreeze()  # tear down as any Python program does: every object collectable
    if failures:
        raise failures[0]
    return int(code)


class _NoPrinter:
    """The screenshot neither asks the printer nor prints."""

    def status(self) -> PrinterStatus:
        return PrinterStatus(PrinterState.READY, "screenshot")

    def print_ticket(self, image: Image.Image, content: TicketContent | None) -> None:
        raise AssertionError("a screenshot never prints")


def render_screenshot(
    config: Config,
    service: ServiceSource,
    path: Path,
    *,
    size: tuple[int, int] = (1080, 1920),
    language: str = "vi",
    screen: str = "home",
    first_screen: QuickReader | None = None,
) -> Path:
    """Draw one screen with the database's departments into a PNG; nothing is committed.
    With `first_screen`, the grid is read through it while `service` is not open (the home
    screen as `kiosk run` first paints it)."""
    app = create_application(offscreen=True)

    window = build_window(
        config, service, _NoPrinter(), timings=KioskTimings(idle_ms=0), first_screen=first_screen
    )
    try:
        window.resize(*size)
        window.show()  # laid out: the priority step sits where the tapped tile is
        app.processEvents()
        window.apply_departments(window.backend.departments())
        window.apply_printer(READY)
        window.set_language(language)
        if screen == "priority" and window.departments:
            app.processEvents()
            window.department_tapped(window.departments[min(1, len(window.departments) - 1)].code)
        elif screen == "ticket":
            view = TicketView.of(sample_issued(window.backend.service, config), config)
            window.ticket.show_ticket(view, language)
            window.ticket.set_seconds_left(config.kiosk.result_seconds)
            window.show_page(window.ticket)
        grab(window, size, path)
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
    log.info("screenshot of %s (%dx%d, %s) written to %s", screen, *size, language, path)
    return path
