"""The patient kiosk: department grid → optional priority → (printing…) → your number → home.

All blocking work (database, printer) goes through one `Worker`; this module only reacts to
its results. Every patient-facing string is `translate("Kiosk", <English>)`; `vi.ts` holds
the Vietnamese. Timings come from `KioskTimings`, so tests run them in milliseconds.
`kiosk/app/kiosk_flow.py` decides; the pages live in `kiosk_home.py`, `kiosk_pages.py`,
`kiosk_scan.py` (with the card desk) and `kiosk_admin.py` (with the staff desk), and what
reaches the window before any widget (tap guard, scanner keys) in `kiosk_input.py`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QDate, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.backend import (
    KioskBackend,
    PrinterHealth,
    TicketView,
)
from kiosk.app.kiosk_flow import Idle, KioskFlow, KioskTimings, Outcome, Step, TapGuard
from kiosk.app.pin import PinLockout
from kiosk.config import Config
from kiosk.ui import style
from kiosk.ui.i18n import Translations
from kiosk.ui.kiosk_home import HomePage
from kiosk.ui.kiosk_input import KioskInput
from kiosk.ui.kiosk_pages import (
    LANGUAGE_NAMES,
    MessagePage,
    Page,
    PrintingPage,
    PriorityPage,
    TicketPage,
)
from kiosk.ui.worker import Worker
from kiosk.wire import Department as DepartmentStatus

if TYPE_CHECKING:
    # Built with the pages after the home page (`KioskWindow.build_pages`).
    from kiosk.ui.kiosk_admin import AdminPage, PinPage, StaffDesk
    from kiosk.ui.kiosk_scan import CardDesk, ScannedPriorityPage

log = logging.getLogger(__name__)

translate = QCoreApplication.translate

# What waits for the number's first paint runs after this long if no paint comes (a window
# that is not shown).
AFTER_PAINT_FALLBACK_MS = 250


class KioskWindow(QWidget):
    """The whole patient kiosk; talks to the backend only through its worker.

    Only the home page is built with the window: the department grid is the first screen.
    Every other page (and the card and staff desks) is built by `build_pages`, which `kiosk
    run` calls right after that screen is painted, and which the first use of any of them
    calls before that (a tap on a department, a scan, a tap in the staff corner)."""

    page_changed = Signal(str)
    departments_changed = Signal()
    printer_changed = Signal(object)
    ticket_shown = Signal(object)
    issue_failed = Signal(str)
    admin_result = Signal(str)
    scanned = Signal(str)  # what a scanned code did (a kiosk_flow.Scan value); never the code

    def __init__(
        self,
        config: Config,
        backend: KioskBackend,
        *,
        family: str,
        translations: Translations,
        worker: Worker | None = None,
        timings: KioskTimings | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] | None = None,
        lockout: PinLockout | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("KioskRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setWindowTitle(config.hospital.name)
        self.config = config
        self.backend = backend
        self.family = family
        self.translations = translations
        self.worker = worker or Worker("kiosk-worker", self)
        self.timings = timings or KioskTimings.from_config(config.kiosk)
        self.monotonic = monotonic
        self.now = now or (lambda: dt.datetime.now(config.hospital.tz))
        self.lockout = lockout or PinLockout(clock=monotonic)
        self.flow = KioskFlow(
            list(config.hospital.languages), priority_step=bool(config.queue.priority_reasons)
        )
        self.languages = self.flow.languages
        self.default_language = self.flow.default_language
        self.allow_close = False
        self.guard = TapGuard()
        self.ticket_deadline = 0.0
        self.scale = 1.0

        self.stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The screen decides the window's size: the layout sets no minimum on it (that would
        # also make offscreen Qt warn about propagateSizeHints).
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        outer.addWidget(self.stack)
        self.home = HomePage(family)
        self.pages: list[Page] = [self.home]
        self.stack.addWidget(self.home)
        self.pages_built = False

        self.home.header.language.clicked.connect(self.next_language)
        self.home.header.language.setVisible(len(self.languages) > 1)
        self.home.grid.tapped.connect(self.department_tapped)
        self.home.grid.page_turned.connect(self.arm_guard)

        self.clock_timer = self._timer(1000, self.tick)
        self.printer_timer = self._timer(self.timings.printer_poll_ms, self.periodic_poll)
        self.refresh_timer = self._timer(self.timings.refresh_ms, self.periodic_refresh)
        self.idle_timer = self._timer(self.timings.idle_ms, self.idle_timeout, single=True)
        self.cooldown_timer = self._timer(self.timings.cooldown_ms, self.end_cooldown, single=True)
        self.result_timer = self._timer(self.timings.result_ms, self.finish_ticket, single=True)
        self.message_timer = self._timer(self.timings.message_ms, self.clear_transient, single=True)
        self.countdown_timer = self._timer(self.timings.countdown_ms, self.update_countdown)
        self.printing_timer = self._timer(
            self.timings.printing_page_ms, self.show_printing, single=True
        )
        # Work that waits for the number's first paint (the counts' refresh, the sync's wake-up):
        # run then, so nothing competes with the number for the interpreter until it is up.
        self.after_paint: list[Callable[[], None]] = []
        self.after_paint_timer = self._timer(
            AFTER_PAINT_FALLBACK_MS, self.run_after_paint, single=True
        )

        self.set_language(self.language)
        self.tick()
        self.show_page(self.home)
        self.input = KioskInput(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.input)

    # -- the flow's state, as the tests and the demo read it -----------------------------

    @property
    def language(self) -> str:
        return self.flow.language

    @property
    def departments(self) -> list[DepartmentStatus]:
        return self.flow.departments

    @property
    def health(self) -> PrinterHealth:
        return self.flow.health

    @property
    def cooling(self) -> bool:
        return self.flow.cooling

    @property
    def busy(self) -> bool:
        return self.flow.busy

    @property
    def chosen(self) -> str | None:
        return self.flow.chosen

    # -- the pages after the home page, built once ---------------------------------------

    def build_pages(self) -> None:
        """Every page but the home page, and the card and staff desks (once; see the class)."""
        if self.pages_built:
            return
        self.pages_built = True
        from kiosk.ui.kiosk_admin import AdminPage, PinPage, StaffDesk
        from kiosk.ui.kiosk_scan import CardDesk, ScannedPriorityPage

        family = self.family
        self._priority = PriorityPage(self.config.queue.priority_reasons, family)
        self._scanned_priority = ScannedPriorityPage(family)
        self._printing = PrintingPage()
        self._ticket = TicketPage(family)
        self._message = MessagePage()
        self._pin = PinPage()
        self._admin = AdminPage()
        rest: list[Page] = [
            self._priority,
            self._scanned_priority,
            self._printing,
            self._ticket,
            self._message,
            self._pin,
            self._admin,
        ]
        for page in rest:
            self.stack.addWidget(page)
        self.pages += rest

        self._priority.chosen.connect(self.issue)
        self._priority.back.connect(self.back_from_priority)
        self._scanned_priority.confirmed.connect(self.issue)
        self._cards = CardDesk(self)
        self._scanned_priority.declined.connect(self._cards.decline)
        self._scanned_priority.back.connect(self.back_from_priority)
        self._ticket.done.connect(self.finish_ticket)
        self._message.done.connect(self.finish_ticket)
        self._staff = StaffDesk(self)
        self._pin.submitted.connect(self._staff.check_pin)
        self._pin.cancelled.connect(self.go_home)
        self._admin.close_panel.connect(self.go_home)
        self._admin.exit_kiosk.connect(self.exit_kiosk)
        self._admin.test_print.connect(self._staff.test_print)
        self._admin.reprint.connect(self._staff.reprint)
        self._admin.pause.connect(self._staff.set_paused)
        self._ticket.code.painted.connect(self.number_painted)

        self._admin.health = self.health
        if self.departments:
            self._admin.set_departments(self.departments)
        self._retranslate_pages(rest)

    @property
    def priority(self) -> PriorityPage:
        self.build_pages()
        return self._priority

    @property
    def scanned_priority(self) -> ScannedPriorityPage:
        self.build_pages()
        return self._scanned_priority

    @property
    def printing(self) -> PrintingPage:
        self.build_pages()
        return self._printing

    @property
    def ticket(self) -> TicketPage:
        self.build_pages()
        return self._ticket

    @property
    def message(self) -> MessagePage:
        self.build_pages()
        return self._message

    @property
    def pin(self) -> PinPage:
        self.build_pages()
        return self._pin

    @property
    def admin(self) -> AdminPage:
        self.build_pages()
        return self._admin

    @property
    def cards(self) -> CardDesk:
        self.build_pages()
        return self._cards

    @property
    def staff(self) -> StaffDesk:
        self.build_pages()
        return self._staff

    def _timer(self, interval: int, slot: Callable[[], None], single: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(max(0, interval))
        timer.setSingleShot(single)
        timer.timeout.connect(slot)
        return timer

    # -- life cycle ---------------------------------------------------------------------

    def start(self, *, poll_printer: bool = True) -> None:
        """Load data and start the periodic work (the caller shows the window);
        `poll_printer=False`: the caller asks the printer later (after the first screen)."""
        self.refresh_departments()
        if poll_printer:
            self.poll_printer()
        self.clock_timer.start()
        self.printer_timer.start()
        self.refresh_timer.start()
        self.idle_timer.start()

    def shutdown(self) -> None:
        """Stop timers and the worker; after this the window may close."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.input)
        for timer in self.findChildren(QTimer):
            timer.stop()
        self.worker.stop()
        self.translations.close()
        self.allow_close = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.allow_close:
            event.accept()
        else:
            log.info("close request ignored: only staff can exit the kiosk")
            event.ignore()

    def exit_kiosk(self) -> None:
        log.warning("kiosk exit requested from the admin panel")
        self.shutdown()
        self.close()
        QApplication.quit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.apply_scale()
        super().resizeEvent(event)

    def apply_scale(self) -> None:
        """Sizes are designed for a 1080-px-wide portrait (or 1080-px-tall landscape) screen;
        a larger one (a 32" 4K panel) gets proportionally larger type, up to twice."""
        scale = max(1.0, min(2.0, min(self.width(), self.height()) / 1080))
        scale = math.floor(scale * 4) / 4
        if scale != self.scale:
            self.scale = scale
            self.setStyleSheet(style.style_sheet(self.family, scale) if scale > 1 else "")
            self.home.set_scale(scale)

    # -- pages and language -------------------------------------------------------------

    def current_page(self) -> str:
        page = self.stack.currentWidget()
        return page.name if isinstance(page, Page) else ""

    def show_page(self, page: Page) -> None:
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
            log.debug("page %s", page.name)
            guard = self.timings.ticket_guard_ms if page is self.ticket else None
            self.arm_guard(guard)
        self.page_changed.emit(page.name)

    def arm_guard(self, guard_ms: int | None = None) -> None:
        """What is under the finger changed: ignore touches for the guard time (and until the
        finger that is down now lifts)."""
        ms = self.timings.tap_guard_ms if guard_ms is None else guard_ms
        self.guard.page_changed(self.monotonic(), ms / 1000)

    def guard_remaining(self) -> float:
        """Seconds until a touch counts again (tests advance their clock by this)."""
        return self.guard.remaining(self.monotonic())

    def set_language(self, language: str) -> None:
        self.flow.language = language
        self.translations.set_language(language)
        self.retranslate()

    def next_language(self) -> None:
        self.set_language(self.flow.next_language())

    def retranslate(self) -> None:
        hospital = self.config.hospital
        name = hospital.name_en if self.language == "en" and hospital.name_en else hospital.name
        self.home.header.hospital.setText(name)
        nxt = self.flow.next_language()
        self.home.header.language.setText(LANGUAGE_NAMES.get(nxt, nxt))
        self.home.language = self.language
        self.home.retranslate()
        if self.pages_built:
            self._retranslate_pages(self.pages[1:])
        self.tick()
        self.update_home()

    def _retranslate_pages(self, pages: list[Page]) -> None:
        self._ticket.language = self.language
        self._priority.language = self.language
        self._scanned_priority.language = self.language
        self._admin.language = self.language
        if self.chosen:
            self._priority.set_department(self._department_name(self.chosen))
        for page in pages:
            page.retranslate()

    def tick(self) -> None:
        now = self.now()
        date = QDate(now.year, now.month, now.day)
        text = self.translations.locale().toString(date, "dddd, dd/MM/yyyy")
        self.home.header.time.setText(now.strftime("%H:%M"))
        self.home.header.date.setText(text[:1].upper() + text[1:])
        self.home.header.fit_clock()

    # -- data ---------------------------------------------------------------------------

    def refresh_departments(self) -> None:
        if not self.worker.is_pending("departments"):
            self.worker.submit(
                self.backend.departments,
                self.apply_departments,
                self._log_error,
                name="departments",
            )

    def apply_departments(self, departments: list[DepartmentStatus]) -> None:
        self.flow.set_departments(departments)
        self.home.show_departments(departments, self.language)
        if self.pages_built and self.current_page() != "admin":
            self._admin.set_departments(departments)
        self.update_home()
        self.departments_changed.emit()

    def issuing(self) -> bool:
        """A ticket is being issued, or its number is not painted yet."""
        return self.flow.busy or bool(self.after_paint)

    def periodic_refresh(self) -> None:
        """The refresh timer's: skipped while a ticket is issued (one follows its number)."""
        if not self.issuing():
            self.refresh_departments()

    def periodic_poll(self) -> None:
        """The printer poll's: skipped while a ticket is issued (issuing asks the printer
        itself, and the poll would hold the printer and compete with the number)."""
        if not self.issuing():
            self.poll_printer()

    def poll_printer(self) -> None:
        if not self.worker.is_pending("printer"):
            self.worker.submit(
                self.backend.printer_health, self.apply_printer, self._log_error, name="printer"
            )

    def apply_printer(self, health: PrinterHealth) -> None:
        changed = health != self.flow.health
        self.flow.health = health
        if changed:
            level = logging.INFO if health.can_issue else logging.WARNING
            log.log(
                level, "printer %s: issuing %s", health.state, "on" if health.can_issue else "off"
            )
            if self.pages_built:
                self._admin.health = health
                self._admin.retranslate()
            self.update_home()
        self.printer_changed.emit(health)

    def _log_error(self, error: BaseException) -> None:
        log.error("background job failed: %s", error, exc_info=error)

    def _department_name(self, code: str) -> str:
        return self.flow.department_name(code)

    def can_issue(self) -> bool:
        return self.flow.can_issue()

    def update_home(self) -> None:
        self.home.show_banner(self.flow.banner(), self.health.state, self.flow.transient)
        self.home.set_enabled(self.can_issue())

    # -- the patient's flow -------------------------------------------------------------

    def department_tapped(self, code: str) -> None:
        step = self.flow.tap(code, self.current_page())
        if step == Step.PRIORITY and self.flow.scanned:
            self.cards.show_priority(self.flow.scanned)
        elif step == Step.PRIORITY:
            self.priority.set_department(self._department_name(code))
            self.priority.set_band(self._tile_band(code))
            self.show_page(self.priority)
        elif step == Step.ISSUE:
            self.issue(None)

    def _tile_band(self, code: str) -> tuple[int, int] | None:
        """The department tile's top and bottom on the priority page (same place on screen)."""
        tile = self.home.grid.buttons.get(code)
        if tile is None or not tile.isVisible():
            return None
        top = self.priority.mapFrom(self, tile.mapTo(self, QPoint(0, 0))).y()
        return top, top + tile.height()

    def issue(self, priority: object) -> None:
        """The patient chose: issue on the worker. The page stays, its touches guarded, for
        `printing_page_ms`; a ticket that takes longer shows "Printing your ticket…"."""
        request = self.flow.begin_issue(priority if isinstance(priority, str) else None)
        if request is None:
            return
        backend = self.backend
        self.arm_guard()  # the choice is made: nothing on this page counts any more
        self.worker.submit(
            lambda: backend.issue(request.department, request.priority, request.language),
            self.issued,
            self.not_issued,
            name="issue",
            urgent=True,  # never behind a refresh of the counts or a printer poll
        )
        if self.timings.printing_page_ms > 0:
            self.printing_timer.start()
        else:
            self.show_printing()

    def show_printing(self) -> None:
        if self.flow.busy:
            self.show_page(self.printing)

    def back_from_priority(self) -> None:
        if not self.flow.busy:  # a choice made is issued: its outcome decides the page
            self.go_home()

    def issued(self, view: TicketView) -> None:
        """The ticket is committed (and printed): its number on screen first; what the number
        does not need waits for its first paint."""
        self.printing_timer.stop()
        self.flow.issued()
        self.start_cooldown()
        self.ticket.show_ticket(view, self.language)
        self.show_page(self.ticket)
        self.result_timer.start()
        self.ticket_deadline = self.monotonic() + self.timings.result_ms / 1000
        self.update_countdown()
        self.countdown_timer.start()
        self.after_paint += [self.refresh_departments, lambda: self.ticket_shown.emit(view)]
        self.after_paint_timer.start(AFTER_PAINT_FALLBACK_MS)

    def number_painted(self) -> None:
        if self.after_paint:
            self.after_paint_timer.start(0)  # once this paint is on the screen

    def run_after_paint(self) -> None:
        self.after_paint_timer.stop()
        work, self.after_paint = self.after_paint, []
        for item in work:
            item()

    def not_issued(self, error: BaseException) -> None:
        self.printing_timer.stop()
        before = self.flow.health
        outcome = self.flow.not_issued(error)
        if outcome in (Outcome.PRINTER, Outcome.STORAGE_FULL):
            health, self.flow.health = self.flow.health, before
            self.apply_printer(health)
            self.go_home()
        elif outcome == Outcome.UNAVAILABLE:
            self.show_transient(
                translate("Kiosk", "This department is not giving numbers now.")
                + " "
                + translate("Kiosk", "Please choose another or ask at the reception desk.")
            )
            self.go_home()
            self.refresh_departments()
        else:
            self.message.show_message(outcome.value)
            self.show_page(self.message)
            self.result_timer.start()
            if outcome == Outcome.PRINT_FAILED:
                self.poll_printer()
        self.issue_failed.emit(outcome.value)

    def show_transient(self, text: str) -> None:
        self.flow.transient = text
        self.message_timer.start()
        self.update_home()

    def clear_transient(self) -> None:
        self.flow.transient = ""
        self.update_home()

    def start_cooldown(self) -> None:
        if self.timings.cooldown_ms <= 0:
            return
        self.flow.cooling = True
        self.cooldown_timer.start()
        self.update_home()

    def end_cooldown(self) -> None:
        self.flow.cooling = False
        self.update_home()

    def update_countdown(self) -> None:
        """The number screen's "closes by itself in N s", counting down as it goes."""
        left = max(0, math.ceil(self.ticket_deadline - self.monotonic()))
        if self.ticket.seconds_left != left:
            self.ticket.set_seconds_left(left)
        if self.current_page() != "ticket":
            self.countdown_timer.stop()

    def finish_ticket(self) -> None:
        """The result or message screen is done: home, in the default language again."""
        self.result_timer.stop()
        self.countdown_timer.stop()
        if self.language != self.default_language:
            self.set_language(self.default_language)
        self.home.grid.first_page()
        self.go_home()

    def go_home(self) -> None:
        self.result_timer.stop()
        self.flow.home()
        if self.pages_built:
            self._pin.reset()
        self.show_page(self.home)
        self.update_home()
        self.idle_timer.start()

    def idle_timeout(self) -> None:
        step = self.flow.idle(self.current_page())
        if step == Idle.NOTHING:
            return  # these pages end by themselves
        if self.language != self.default_language:
            self.set_language(self.default_language)
        self.home.grid.first_page()
        if step == Idle.ATTRACT:
            # The attract screen is the home page itself, lit up: the next patient's first tap
            # on a department already counts (no wake-up tap).
            self.home.set_attract(True)
        else:
            self.go_home()
