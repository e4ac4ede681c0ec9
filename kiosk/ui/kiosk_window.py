"""The patient kiosk: department grid → optional priority → printing → your number → home.

All blocking work (database, printer) goes through one `Worker`; this module only reacts to
its results. Every patient-facing string is `translate("Kiosk", <English>)`; `vi.ts` holds
the Vietnamese. Timings come from `KioskTimings`, so tests run them in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QEvent,
    QObject,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.backend import (
    READY,
    KioskBackend,
    PrinterHealth,
    PrinterNotReady,
    SyncInfo,
    TicketNotPrinted,
    TicketView,
)
from kiosk.app.pin import PinLockout, verify_pin
from kiosk.config import Config, KioskConfig
from kiosk.queue.errors import DepartmentUnavailable, StorageFull
from kiosk.queue.service import DepartmentStatus
from kiosk.texts import priority_name
from kiosk.ui import style
from kiosk.ui.i18n import Translations
from kiosk.ui.layout import department_grid
from kiosk.ui.widgets import (
    AlertIcon,
    BigButton,
    BusySpinner,
    DepartmentButton,
    DepartmentTileText,
    PriorityButton,
    QrCodeWidget,
)
from kiosk.ui.worker import Worker

log = logging.getLogger(__name__)

translate = QCoreApplication.translate

# Each language's own name, shown on the button that switches to it (not translated).
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
ADMIN_CORNER_PX = 140


@dataclass(frozen=True)
class KioskTimings:
    """Durations in milliseconds (tests pass tiny ones instead of waiting real seconds)."""

    idle_ms: int = 60_000
    cooldown_ms: int = 3_000
    result_ms: int = 15_000
    message_ms: int = 15_000
    printer_poll_ms: int = 3_000
    refresh_ms: int = 10_000
    admin_taps: int = 5
    admin_tap_window_s: float = 3.0

    @classmethod
    def from_config(cls, kiosk: KioskConfig) -> KioskTimings:
        return cls(
            idle_ms=kiosk.idle_seconds * 1000,
            cooldown_ms=kiosk.cooldown_seconds * 1000,
            result_ms=kiosk.result_seconds * 1000,
            message_ms=kiosk.result_seconds * 1000,
        )


def unavailable_label(why: str) -> str:
    if why == "paused":
        return translate("Kiosk", "Not giving numbers now")
    if why == "full":
        return translate("Kiosk", "No more numbers today")
    return translate("Kiosk", "Closed")


def printer_fault_label(state: str) -> str:
    if state == "paper_out":
        return translate("Kiosk", "The ticket printer has run out of paper.")
    if state == "cover_open":
        return translate("Kiosk", "The ticket printer's cover is open.")
    if state == "storage_full":
        return translate("Kiosk", "This kiosk has run out of storage space.")
    return translate("Kiosk", "The ticket printer is not working.")


def printer_state_label(state: str) -> str:
    labels = {
        "ready": translate("Kiosk", "ready"),
        "paper_near_end": translate("Kiosk", "paper nearly finished"),
        "paper_out": translate("Kiosk", "out of paper"),
        "cover_open": translate("Kiosk", "cover open"),
        "offline": translate("Kiosk", "offline"),
        "error": translate("Kiosk", "error"),
    }
    return labels.get(state, translate("Kiosk", "unknown"))


def ask_reception() -> str:
    return translate("Kiosk", "Please ask at the reception desk.")


def label(role: str, wrap: bool = True, align: Qt.AlignmentFlag | None = None) -> QLabel:
    widget = QLabel()
    widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if align is not None:
        widget.setAlignment(align)
    return widget


class Page(QWidget):
    """One screen of the kiosk; `retranslate()` sets every text in the current language."""

    name = "page"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("page", True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 320)  # the screen decides the size; a page never enlarges the window

    def retranslate(self) -> None:
        pass


class Header(QWidget):
    """Hospital name (the hidden admin corner is here), clock and date, language button."""

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setMinimumHeight(150)
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 16, 24, 16)
        row.setSpacing(24)
        left = QVBoxLayout()
        left.setSpacing(4)
        self.hospital = label("onHeader")
        self.hospital.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        clock_row = QHBoxLayout()
        clock_row.setSpacing(24)
        self.time = label("clock", wrap=False)
        self.date = label("onHeader", wrap=False)
        self.date.setStyleSheet("font-size: 32px; font-weight: normal;")
        clock_row.addWidget(self.time)
        clock_row.addWidget(self.date, 1)
        left.addWidget(self.hospital)
        left.addLayout(clock_row)
        self.language = BigButton(kind="language")
        self.language.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.language.setFixedSize(270, style.TARGET_PX)
        row.addLayout(left, 1)
        row.addWidget(self.language)


class DepartmentGrid(QWidget):
    """Department tiles placed by `department_grid` maths for the space it is given."""

    tapped = Signal(str)

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        self.buttons: dict[str, DepartmentButton] = {}
        self._viewport = QSize(0, 0)

    def set_departments(self, departments: Sequence[DepartmentStatus]) -> None:
        codes = [d.code for d in departments]
        for code in list(self.buttons):
            if code not in codes:
                self.buttons.pop(code).deleteLater()
        ordered: dict[str, DepartmentButton] = {}
        for department in departments:
            button = self.buttons.get(department.code)
            if button is None or button.color != department.color:
                if button is not None:
                    button.deleteLater()
                button = DepartmentButton(department.code, department.color, self.family, self)
                button.clicked.connect(lambda _=False, c=department.code: self.tapped.emit(c))
                button.show()
            ordered[department.code] = button
        self.buttons = ordered
        self.relayout()

    def set_viewport(self, size: QSize) -> None:
        self._viewport = size
        self.relayout()

    def relayout(self) -> None:
        width, height = self._viewport.width(), self._viewport.height()
        if not self.buttons or width <= 0 or height <= 0:
            return
        grid = department_grid(len(self.buttons), width, height, gap=style.GAP_PX)
        total = grid.rows * grid.cell_height + (grid.rows - 1) * style.GAP_PX
        self.setMinimumHeight(total if grid.scrolls else 0)
        for index, button in enumerate(self.buttons.values()):
            row, column = divmod(index, grid.columns)
            button.setGeometry(
                column * (grid.cell_width + style.GAP_PX),
                row * (grid.cell_height + style.GAP_PX),
                grid.cell_width,
                grid.cell_height,
            )


class GridScroll(QScrollArea):
    def __init__(self, grid: DepartmentGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        self.setWidget(grid)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.viewport().setAutoFillBackground(False)
        grid.setAutoFillBackground(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.grid.set_viewport(self.viewport().size())


class HomePage(Page):
    name = "home"

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.header = Header(family)
        column.addWidget(self.header)
        body = QVBoxLayout()
        body.setContentsMargins(32, 24, 32, 32)
        body.setSpacing(20)
        self.instruction = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.banner = label("alert", align=Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()
        self.grid = DepartmentGrid(family)
        self.grid_scroll = GridScroll(self.grid)
        body.addWidget(self.instruction)
        body.addWidget(self.banner)
        body.addWidget(self.grid_scroll, 1)
        column.addLayout(body, 1)
        self.departments: list[DepartmentStatus] = []
        self.language = "vi"

    def show_departments(self, departments: Sequence[DepartmentStatus], language: str) -> None:
        self.departments = list(departments)
        self.language = language
        self.grid.set_departments(self.departments)
        self.retranslate()

    def retranslate(self) -> None:
        self.instruction.setText(translate("Kiosk", "Tap the department you need"))
        for department in self.departments:
            button = self.grid.buttons.get(department.code)
            if button is not None:
                button.set_texts(department_texts(department, self.language))

    def set_banner(self, text: str, role: str = "alert") -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        if self.banner.property("role") != role:
            self.banner.setProperty("role", role)
            self.banner.style().unpolish(self.banner)
            self.banner.style().polish(self.banner)

    def set_enabled(self, can_issue: bool) -> None:
        for department in self.departments:
            button = self.grid.buttons.get(department.code)
            if button is not None:
                button.setEnabled(can_issue and department.unavailable is None)
                button.update()


def department_texts(department: DepartmentStatus, language: str) -> DepartmentTileText:
    if department.waiting == 0:
        status = short = translate("Kiosk", "No one waiting")
    else:
        status = translate("Kiosk", "{waiting} waiting · about {minutes} min").format(
            waiting=department.waiting, minutes=department.estimated_wait_minutes
        )
        short = translate("Kiosk", "{waiting} waiting · ~{minutes} min").format(
            waiting=department.waiting, minutes=department.estimated_wait_minutes
        )
    unavailable = unavailable_label(department.unavailable) if department.unavailable else ""
    return DepartmentTileText(department.name(language), status, short, unavailable)


class PriorityPage(Page):
    name = "priority"
    chosen = Signal(object)  # a reason, or None for "not in a priority group"
    back = Signal()

    def __init__(self, reasons: Sequence[str], family: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.language = "vi"
        column = QVBoxLayout(self)
        column.setContentsMargins(40, 36, 40, 40)
        column.setSpacing(20)
        self.department = label("body")
        self.department.setStyleSheet(f"color: {style.HEADER}; font-weight: bold;")
        self.title = label("title")
        self.hint = label("body")
        column.addWidget(self.department)
        column.addWidget(self.title)
        column.addWidget(self.hint)
        self.grid = QGridLayout()
        self.grid.setSpacing(style.GAP_PX)
        self.buttons: list[PriorityButton] = []
        for reason in reasons:
            button = PriorityButton(reason, family)
            button.clicked.connect(lambda _=False, r=reason: self.chosen.emit(r))
            self.buttons.append(button)
        column.addLayout(self.grid, 1)
        self.skip = BigButton(kind="primary")
        self.skip.setMinimumHeight(170)
        self.skip.setStyleSheet("font-size: 44px;")
        self.skip.clicked.connect(lambda: self.chosen.emit(None))
        column.addWidget(self.skip)
        self.back_button = BigButton()
        self.back_button.clicked.connect(self.back.emit)
        column.addWidget(self.back_button)
        self._columns = 0
        self._name = ""

    def set_department(self, name: str) -> None:
        self._name = name
        self.retranslate()

    def resizeEvent(self, event: QResizeEvent) -> None:
        columns = 3 if self.width() > self.height() else 2
        if columns != self._columns:
            self._columns = columns
            for index, button in enumerate(self.buttons):
                self.grid.addWidget(button, *divmod(index, columns))
        super().resizeEvent(event)

    def retranslate(self) -> None:
        self.department.setText(translate("Kiosk", "Department: {name}").format(name=self._name))
        self.title.setText(translate("Kiosk", "Are you in a priority group?"))
        self.hint.setText(
            translate("Kiosk", "If you are, tap your group. If not, tap the blue button.")
        )
        for button in self.buttons:
            button.setText(priority_name(button.reason, self.language))
            button.setAccessibleName(button.text())
        self.skip.setText(translate("Kiosk", "Not in a priority group"))
        self.back_button.setText(translate("Kiosk", "Back"))


class PrintingPage(Page):
    name = "printing"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.addStretch(1)
        self.spinner = BusySpinner()
        column.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignHCenter)
        self.title = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet("font-size: 64px;")
        self.hint = label("body", align=Qt.AlignmentFlag.AlignCenter)
        column.addSpacing(40)
        column.addWidget(self.title)
        column.addWidget(self.hint)
        column.addStretch(1)

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Printing your ticket…"))
        self.hint.setText(translate("Kiosk", "Please wait a moment."))


class TappablePage(Page):
    tapped = Signal()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.tapped.emit()
        super().mouseReleaseEvent(event)


class TicketPage(TappablePage):
    """Your number, huge, with the department, where to go, people ahead and the QR."""

    name = "ticket"
    done = Signal()

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: TicketView | None = None
        self.language = "vi"
        self.seconds_left = 0
        self.box = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self.box.setContentsMargins(48, 40, 48, 40)
        self.box.setSpacing(32)

        main = QVBoxLayout()
        main.setSpacing(12)
        self.title = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.code = label("code", wrap=False, align=Qt.AlignmentFlag.AlignCenter)
        self.code.setObjectName("TicketCode")
        self.code.setStyleSheet(
            f"background: {style.SURFACE}; border: 6px solid {style.TEXT}; border-radius: 28px;"
            "padding: 0px 40px;"
        )
        self.code.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.department = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.department.setStyleSheet("font-size: 52px;")
        self.priority = label("body", align=Qt.AlignmentFlag.AlignCenter)
        self.priority.setStyleSheet("font-weight: bold;")
        self.go_to = label("body", align=Qt.AlignmentFlag.AlignCenter)
        self.go_to.setStyleSheet("font-size: 40px;")
        self.ahead = label("body", align=Qt.AlignmentFlag.AlignCenter)
        self.ahead.setStyleSheet("font-size: 40px;")
        for widget in (self.title, self.code, self.department, self.priority):
            main.addWidget(widget)
        main.addSpacing(8)
        main.addWidget(self.go_to)
        main.addWidget(self.ahead)
        main.addStretch(1)

        side = QVBoxLayout()
        side.setSpacing(20)
        self.take = label("notice", align=Qt.AlignmentFlag.AlignCenter)
        self.take.setStyleSheet("font-size: 40px;")
        qr_row = QHBoxLayout()
        qr_row.setSpacing(24)
        self.qr = QrCodeWidget()
        self.qr.setFixedSize(230, 230)
        self.qr_hint = label("muted")
        qr_row.addWidget(self.qr)
        qr_row.addWidget(self.qr_hint, 1)
        self.done_button = BigButton(kind="primary")
        self.done_button.clicked.connect(self.done.emit)
        self.countdown = label("muted", align=Qt.AlignmentFlag.AlignCenter)
        side.addWidget(self.take)
        side.addLayout(qr_row)
        side.addWidget(self.done_button)
        side.addWidget(self.countdown)

        self.box.addLayout(main, 3)
        self.box.addLayout(side, 2)
        # Portrait: everything together at the top, the space left over below it (a gap in the
        # middle would split the number from "take your ticket").
        self.box.addStretch(0)
        self.tapped.connect(self.done.emit)

    def show_ticket(self, view: TicketView, language: str) -> None:
        self.view = view
        self.language = language
        self.qr.set_data(view.status_url)
        self.retranslate()

    def set_seconds_left(self, seconds: int) -> None:
        self.seconds_left = seconds
        self.countdown.setText(
            translate("Kiosk", "This screen closes by itself in {seconds} s.").format(
                seconds=seconds
            )
            if seconds > 0
            else ""
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        landscape = self.width() > self.height()
        self.box.setDirection(
            QBoxLayout.Direction.LeftToRight if landscape else QBoxLayout.Direction.TopToBottom
        )
        for index, stretch in enumerate((3, 2, 0) if landscape else (0, 0, 1)):
            self.box.setStretch(index, stretch)
        super().resizeEvent(event)

    def retranslate(self) -> None:
        view = self.view
        if view is None:
            return
        self.title.setText(translate("Kiosk", "Your number"))
        self.code.setText(view.code)
        self.department.setText(view.department_name(self.language))
        self.priority.setText(
            translate("Kiosk", "Priority: {group}").format(
                group=priority_name(view.priority, self.language)
            )
            if view.priority
            else ""
        )
        self.priority.setVisible(bool(view.priority))
        directions = view.directions(self.language)
        self.go_to.setText(
            translate("Kiosk", "Go to: {place}").format(place=directions) if directions else ""
        )
        if view.ahead == 0:
            self.ahead.setText(translate("Kiosk", "You are next."))
        else:
            self.ahead.setText(
                translate("Kiosk", "People ahead of you: {ahead} · about {minutes} minutes").format(
                    ahead=view.ahead, minutes=view.estimated_wait_minutes
                )
            )
        self.take.setText(translate("Kiosk", "Take your ticket from the printer below."))
        self.qr_hint.setText(translate("Kiosk", "Scan with a phone to follow your turn."))
        self.done_button.setText(translate("Kiosk", "Done"))
        self.set_seconds_left(self.seconds_left)


class MessagePage(TappablePage):
    """A problem, told to the patient: what happened, what to do, where to go. No number."""

    name = "message"
    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(60, 60, 60, 60)
        column.setSpacing(36)
        column.addStretch(1)
        column.addWidget(AlertIcon(), 0, Qt.AlignmentFlag.AlignHCenter)
        self.title = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet("font-size: 56px;")
        self.body = label("body", align=Qt.AlignmentFlag.AlignCenter)
        self.body.setStyleSheet("font-size: 40px;")
        self.hint = label("notice", align=Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("font-size: 40px;")
        self.ok = BigButton(kind="primary")
        self.ok.clicked.connect(self.done.emit)
        for widget in (self.title, self.body, self.hint):
            column.addWidget(widget)
        column.addSpacing(20)
        column.addWidget(self.ok)
        column.addStretch(1)
        self.kind = "print_failed"
        self.tapped.connect(self.done.emit)

    def show_message(self, kind: str) -> None:
        self.kind = kind
        self.retranslate()

    def retranslate(self) -> None:
        if self.kind == "print_failed":
            self.title.setText(translate("Kiosk", "Sorry, your ticket could not be printed."))
            self.body.setText(translate("Kiosk", "You have not been given a number."))
        else:
            self.title.setText(translate("Kiosk", "Sorry, something went wrong."))
            self.body.setText(translate("Kiosk", "Your number could not be given."))
        self.hint.setText(ask_reception())
        self.ok.setText(translate("Kiosk", "Back to the start"))


class AttractPage(TappablePage):
    name = "attract"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(60, 60, 60, 60)
        column.setSpacing(40)
        column.addStretch(2)
        self.hospital = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.hospital.setStyleSheet(f"font-size: 64px; color: {style.HEADER};")
        self.welcome = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.touch = QLabel()
        self.touch.setProperty("role", "alert")
        self.touch.setWordWrap(True)
        self.touch.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.touch.setStyleSheet(
            f"background: {style.PRIMARY}; color: {style.ON_PRIMARY}; font-size: 56px;"
            "padding: 48px; border-radius: 28px;"
        )
        self.time = label("title", wrap=False, align=Qt.AlignmentFlag.AlignCenter)
        self.time.setStyleSheet("font-size: 96px;")
        column.addWidget(self.hospital)
        column.addWidget(self.welcome)
        column.addWidget(self.time)
        column.addStretch(1)
        column.addWidget(self.touch)
        column.addStretch(2)
        self.hospital_name = ""

    def retranslate(self) -> None:
        self.hospital.setText(self.hospital_name)
        self.welcome.setText(translate("Kiosk", "Welcome"))
        self.touch.setText(translate("Kiosk", "Touch the screen to get a queue number"))


class PinPage(Page):
    """Staff PIN entry: a big keypad; five wrong PINs lock it for minutes."""

    name = "pin"
    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(60, 40, 60, 40)
        column.setSpacing(20)
        self.entered = ""
        self.title = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.dots = label("title", wrap=False, align=Qt.AlignmentFlag.AlignCenter)
        self.dots.setStyleSheet("font-size: 72px; letter-spacing: 12px;")
        self.message = label("notice", align=Qt.AlignmentFlag.AlignCenter)
        self.message.hide()
        column.addWidget(self.title)
        column.addWidget(self.dots)
        column.addWidget(self.message)
        keys = QGridLayout()
        keys.setSpacing(style.GAP_PX)
        self.keys: dict[str, BigButton] = {}
        for index, key in enumerate("123456789"):
            self._add_key(keys, key, *divmod(index, 3))
        self.clear = BigButton()
        self.clear.clicked.connect(self._clear)
        keys.addWidget(self.clear, 3, 0)
        self._add_key(keys, "0", 3, 1)
        self.enter = BigButton(kind="primary")
        self.enter.clicked.connect(lambda: self.submitted.emit(self.entered))
        keys.addWidget(self.enter, 3, 2)
        column.addLayout(keys)
        self.cancel = BigButton()
        self.cancel.clicked.connect(self.cancelled.emit)
        column.addWidget(self.cancel)
        column.addStretch(1)

    def _add_key(self, grid: QGridLayout, key: str, row: int, column: int) -> None:
        button = BigButton(key, kind="key")
        button.clicked.connect(lambda: self._press(key))
        self.keys[key] = button
        grid.addWidget(button, row, column)

    def _press(self, key: str) -> None:
        if len(self.entered) < 12:
            self.entered += key
            self.dots.setText("●" * len(self.entered))

    def _clear(self) -> None:
        self.entered = ""
        self.dots.setText("")

    def reset(self, message: str = "") -> None:
        self._clear()
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Staff only: enter the PIN"))
        self.clear.setText(translate("Kiosk", "Clear"))
        self.enter.setText(translate("Kiosk", "OK"))
        self.cancel.setText(translate("Kiosk", "Cancel"))


class AdminPage(Page):
    """Staff panel: test print, reprint, pause departments, printer and sync status, exit."""

    name = "admin"
    test_print = Signal()
    reprint = Signal()
    pause = Signal(str, bool)
    exit_kiosk = Signal()
    close_panel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(40, 32, 40, 32)
        column.setSpacing(16)
        self.title = label("title")
        self.printer = label("body")
        self.sync = label("body")
        self.result = label("notice")
        self.result.hide()
        actions = QHBoxLayout()
        actions.setSpacing(style.GAP_PX)
        self.test_button = BigButton()
        self.test_button.clicked.connect(self.test_print.emit)
        self.reprint_button = BigButton()
        self.reprint_button.clicked.connect(self.reprint.emit)
        actions.addWidget(self.test_button)
        actions.addWidget(self.reprint_button)
        self.departments_title = label("title")
        self.list = QWidget()
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setSpacing(12)
        scroll = QScrollArea()
        scroll.setWidget(self.list)
        scroll.setWidgetResizable(True)
        bottom = QHBoxLayout()
        bottom.setSpacing(style.GAP_PX)
        self.close_button = BigButton(kind="primary")
        self.close_button.clicked.connect(self.close_panel.emit)
        self.exit_button = BigButton(kind="danger")
        self.exit_button.clicked.connect(self.exit_kiosk.emit)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.exit_button)
        for widget in (self.title, self.printer, self.sync, self.result):
            column.addWidget(widget)
        column.addLayout(actions)
        column.addWidget(self.departments_title)
        column.addWidget(scroll, 1)
        column.addLayout(bottom)
        self.departments: list[DepartmentStatus] = []
        self.health: PrinterHealth = READY
        self.sync_info: SyncInfo | None = None
        self.language = "vi"
        self.pause_buttons: dict[str, BigButton] = {}

    def set_departments(self, departments: Sequence[DepartmentStatus]) -> None:
        self.departments = list(departments)
        while self.list_layout.count():
            item = self.list_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.pause_buttons = {}
        for department in self.departments:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            name = label("body")
            name.setObjectName("name")
            button = BigButton()
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            button.setFixedWidth(300)
            paused = department.unavailable == "paused"
            button.clicked.connect(
                lambda _=False, c=department.code, p=paused: self.pause.emit(c, not p)
            )
            self.pause_buttons[department.code] = button
            line.addWidget(name, 1)
            line.addWidget(button)
            self.list_layout.addWidget(row)
        self.list_layout.addStretch(1)
        self.retranslate()

    def show_result(self, text: str) -> None:
        self.result.setText(text)
        self.result.setVisible(bool(text))

    def retranslate(self) -> None:
        self.title.setText(translate("Kiosk", "Kiosk administration"))
        self.printer.setText(
            translate("Kiosk", "Printer: {state}").format(
                state=printer_state_label(self.health.state)
            )
            + (f" ({self.health.detail})" if self.health.detail else "")
        )
        info = self.sync_info
        if info is None:
            self.sync.setText("")
        else:
            last = (
                info.last_synced_at.astimezone().strftime("%H:%M:%S %d/%m")
                if info.last_synced_at
                else translate("Kiosk", "never")
            )
            text = translate(
                "Kiosk", "Sync: {pending} events waiting, {rejected} rejected, last sent {last}"
            ).format(pending=info.pending, rejected=info.rejected, last=last)
            if not info.server_url:
                text += " — " + translate("Kiosk", "no server configured")
            self.sync.setText(text)
        self.test_button.setText(translate("Kiosk", "Test print"))
        self.reprint_button.setText(translate("Kiosk", "Reprint last ticket"))
        self.departments_title.setText(translate("Kiosk", "Departments"))
        for index, department in enumerate(self.departments):
            item = self.list_layout.itemAt(index)
            row = item.widget() if item is not None else None
            name = row.findChild(QLabel, "name") if row is not None else None
            paused = department.unavailable == "paused"
            if name is not None:
                state = (
                    translate("Kiosk", "paused") if paused else translate("Kiosk", "taking numbers")
                )
                name.setText(f"{department.prefix} · {department.name(self.language)} — {state}")
            button = self.pause_buttons[department.code]
            button.setText(translate("Kiosk", "Resume") if paused else translate("Kiosk", "Pause"))
        self.close_button.setText(translate("Kiosk", "Close"))
        self.exit_button.setText(translate("Kiosk", "Exit the kiosk program"))


class KioskWindow(QWidget):
    """The whole patient kiosk; talks to the backend only through its worker."""

    page_changed = Signal(str)
    departments_changed = Signal()
    printer_changed = Signal(object)
    ticket_shown = Signal(object)
    issue_failed = Signal(str)
    admin_result = Signal(str)

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
        self.languages: list[str] = list(config.hospital.languages)
        self.default_language = self.languages[0]
        self.language = self.default_language
        self.departments: list[DepartmentStatus] = []
        self.health: PrinterHealth = READY
        self.cooling = False
        self.busy = False
        self.chosen: str | None = None
        self.allow_close = False
        self._admin_taps: list[float] = []
        self._transient = ""

        self.stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The screen decides the window's size: the layout sets no minimum on it (that would
        # also make offscreen Qt warn about propagateSizeHints).
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        outer.addWidget(self.stack)
        self.home = HomePage(family)
        self.priority = PriorityPage(config.queue.priority_reasons, family)
        self.printing = PrintingPage()
        self.ticket = TicketPage(family)
        self.message = MessagePage()
        self.attract = AttractPage()
        self.pin = PinPage()
        self.admin = AdminPage()
        self.pages: list[Page] = [
            self.home,
            self.priority,
            self.printing,
            self.ticket,
            self.message,
            self.attract,
            self.pin,
            self.admin,
        ]
        for page in self.pages:
            self.stack.addWidget(page)

        self.home.header.language.clicked.connect(self.next_language)
        self.home.header.language.setVisible(len(self.languages) > 1)
        self.home.grid.tapped.connect(self.department_tapped)
        self.priority.chosen.connect(self.issue)
        self.priority.back.connect(self.go_home)
        self.ticket.done.connect(self.finish_ticket)
        self.message.done.connect(self.finish_ticket)
        self.attract.tapped.connect(self.go_home)
        self.pin.submitted.connect(self.check_pin)
        self.pin.cancelled.connect(self.go_home)
        self.admin.close_panel.connect(self.go_home)
        self.admin.exit_kiosk.connect(self.exit_kiosk)
        self.admin.test_print.connect(self.test_print)
        self.admin.reprint.connect(self.reprint)
        self.admin.pause.connect(self.set_paused)

        self.clock_timer = self._timer(1000, self.tick)
        self.printer_timer = self._timer(self.timings.printer_poll_ms, self.poll_printer)
        self.refresh_timer = self._timer(self.timings.refresh_ms, self.refresh_departments)
        self.idle_timer = self._timer(self.timings.idle_ms, self.idle_timeout, single=True)
        self.cooldown_timer = self._timer(self.timings.cooldown_ms, self.end_cooldown, single=True)
        self.result_timer = self._timer(self.timings.result_ms, self.finish_ticket, single=True)
        self.message_timer = self._timer(self.timings.message_ms, self.clear_transient, single=True)

        self.set_language(self.language)
        self.tick()
        self.show_page(self.home)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _timer(self, interval: int, slot: Callable[[], None], single: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(max(0, interval))
        timer.setSingleShot(single)
        timer.timeout.connect(slot)
        return timer

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Load data and start the periodic work (the caller shows the window)."""
        self.refresh_departments()
        self.poll_printer()
        self.clock_timer.start()
        self.printer_timer.start()
        self.refresh_timer.start()
        self.idle_timer.start()

    def shutdown(self) -> None:
        """Stop timers and the worker; after this the window may close."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        for timer in self.findChildren(QTimer):
            timer.stop()
        self.worker.stop()
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

    # -- pages and language -------------------------------------------------------------

    def current_page(self) -> str:
        page = self.stack.currentWidget()
        return page.name if isinstance(page, Page) else ""

    def show_page(self, page: Page) -> None:
        if self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
            log.debug("page %s", page.name)
        self.page_changed.emit(page.name)

    def set_language(self, language: str) -> None:
        self.language = language
        self.translations.set_language(language)
        self.retranslate()

    def next_language(self) -> None:
        index = self.languages.index(self.language) if self.language in self.languages else 0
        self.set_language(self.languages[(index + 1) % len(self.languages)])

    def retranslate(self) -> None:
        hospital = self.config.hospital
        name = hospital.name_en if self.language == "en" and hospital.name_en else hospital.name
        self.home.header.hospital.setText(name)
        self.attract.hospital_name = name
        nxt = self.languages[(self.languages.index(self.language) + 1) % len(self.languages)]
        self.home.header.language.setText(LANGUAGE_NAMES.get(nxt, nxt))
        self.home.language = self.language
        self.ticket.language = self.language
        self.priority.language = self.language
        self.admin.language = self.language
        if self.chosen:
            self.priority.set_department(self._department_name(self.chosen))
        for page in self.pages:
            page.retranslate()
        self.tick()
        self.update_home()

    def tick(self) -> None:
        now = self.now()
        date = QDate(now.year, now.month, now.day)
        text = self.translations.locale().toString(date, "dddd, dd/MM/yyyy")
        self.home.header.time.setText(now.strftime("%H:%M"))
        self.home.header.date.setText(text[:1].upper() + text[1:])
        self.attract.time.setText(now.strftime("%H:%M"))

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
        self.departments = departments
        self.home.show_departments(departments, self.language)
        if self.current_page() != "admin":
            self.admin.set_departments(departments)
        self.update_home()
        self.departments_changed.emit()

    def poll_printer(self) -> None:
        if not self.worker.is_pending("printer"):
            self.worker.submit(
                self.backend.printer_health, self.apply_printer, self._log_error, name="printer"
            )

    def apply_printer(self, health: PrinterHealth) -> None:
        changed = health != self.health
        self.health = health
        if changed:
            level = logging.INFO if health.can_issue else logging.WARNING
            log.log(
                level, "printer %s: issuing %s", health.state, "on" if health.can_issue else "off"
            )
            self.admin.health = health
            self.admin.retranslate()
            self.update_home()
        self.printer_changed.emit(health)

    def _log_error(self, error: BaseException) -> None:
        log.error("background job failed: %s", error, exc_info=error)

    def _department_name(self, code: str) -> str:
        for department in self.departments:
            if department.code == code:
                return department.name(self.language)
        return code

    def can_issue(self) -> bool:
        return self.health.can_issue and not self.cooling and not self.busy

    def update_home(self) -> None:
        if not self.health.can_issue:
            text = f"{printer_fault_label(self.health.state)}\n" + translate(
                "Kiosk", "Numbers cannot be given right now."
            )
            self.home.set_banner(f"{text} {ask_reception()}", "alert")
        elif self.cooling:
            self.home.set_banner(translate("Kiosk", "Please wait a moment…"), "notice")
        elif self._transient:
            self.home.set_banner(self._transient, "notice")
        elif not self.departments:
            self.home.set_banner(
                translate("Kiosk", "No department is giving numbers now.") + " " + ask_reception(),
                "notice",
            )
        else:
            self.home.set_banner("")
        self.home.set_enabled(self.can_issue())

    # -- the patient's flow -------------------------------------------------------------

    def department_tapped(self, code: str) -> None:
        if self.current_page() != "home" or not self.can_issue():
            return
        self.chosen = code
        if self.config.queue.priority_reasons:
            self.priority.set_department(self._department_name(code))
            self.show_page(self.priority)
        else:
            self.issue(None)

    def issue(self, priority: object) -> None:
        code = self.chosen
        if code is None or self.busy:
            return
        reason = priority if isinstance(priority, str) else None
        language = self.language
        self.busy = True
        self.show_page(self.printing)
        self.worker.submit(
            lambda: self.backend.issue(code, reason, language),
            self.issued,
            self.not_issued,
            name="issue",
        )

    def issued(self, view: TicketView) -> None:
        self.busy = False
        self.chosen = None
        self.start_cooldown()
        self.ticket.show_ticket(view, self.language)
        self.show_page(self.ticket)
        self.result_timer.start()
        self.ticket.set_seconds_left(self.timings.result_ms // 1000)
        self.refresh_departments()
        self.ticket_shown.emit(view)

    def not_issued(self, error: BaseException) -> None:
        self.busy = False
        self.chosen = None
        if isinstance(error, PrinterNotReady):
            log.warning("not issued: %s", error)
            self.apply_printer(error.health)
            self.go_home()
            kind = "printer"
        elif isinstance(error, StorageFull):
            # The backend keeps issuing off until the disk has room again (the printer poll).
            self.apply_printer(PrinterHealth("storage_full", False, str(error)))
            self.go_home()
            kind = "storage_full"
        elif isinstance(error, DepartmentUnavailable):
            log.info("not issued: %s", error)
            self.show_transient(
                translate("Kiosk", "This department is not giving numbers now.")
                + " "
                + translate("Kiosk", "Please choose another or ask at the reception desk.")
            )
            self.go_home()
            self.refresh_departments()
            kind = "unavailable"
        elif isinstance(error, TicketNotPrinted):
            self.message.show_message("print_failed")
            self.show_page(self.message)
            self.result_timer.start()
            self.poll_printer()
            kind = "print_failed"
        else:
            log.error("issuing failed", exc_info=error)
            self.message.show_message("error")
            self.show_page(self.message)
            self.result_timer.start()
            kind = "error"
        self.issue_failed.emit(kind)

    def show_transient(self, text: str) -> None:
        self._transient = text
        self.message_timer.start()
        self.update_home()

    def clear_transient(self) -> None:
        self._transient = ""
        self.update_home()

    def start_cooldown(self) -> None:
        if self.timings.cooldown_ms <= 0:
            return
        self.cooling = True
        self.cooldown_timer.start()
        self.update_home()

    def end_cooldown(self) -> None:
        self.cooling = False
        self.update_home()

    def finish_ticket(self) -> None:
        """The result or message screen is done: home, in the default language again."""
        self.result_timer.stop()
        if self.language != self.default_language:
            self.set_language(self.default_language)
        self.go_home()

    def go_home(self) -> None:
        self.result_timer.stop()
        self.pin.reset()
        self.show_page(self.home)
        self.update_home()
        self.idle_timer.start()

    def idle_timeout(self) -> None:
        page = self.current_page()
        if page in ("printing", "ticket", "message", "attract"):
            return  # these pages end by themselves
        if self.language != self.default_language:
            self.set_language(self.default_language)
        if page == "home":
            self.show_page(self.attract)
        else:
            self.chosen = None
            self.go_home()

    # -- staff --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        user_input = kind in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.TouchBegin,
            QEvent.Type.KeyPress,
        )
        if user_input and isinstance(watched, QWidget) and watched.window() is self:
            if self.idle_timer.interval() > 0 and self.current_page() != "printing":
                self.idle_timer.start()
            if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
                self._corner_tap(watched.mapTo(self, event.position().toPoint()))
        return False

    def _corner_tap(self, point: QPoint) -> None:
        if point.x() > ADMIN_CORNER_PX or point.y() > ADMIN_CORNER_PX:
            self._admin_taps.clear()
            return
        now = self.monotonic()
        window = self.timings.admin_tap_window_s
        self._admin_taps = [t for t in self._admin_taps if now - t <= window] + [now]
        if len(self._admin_taps) >= self.timings.admin_taps:
            self._admin_taps.clear()
            self.open_pin()

    def open_pin(self) -> None:
        if self.current_page() in ("printing", "pin", "admin"):
            return
        log.info("admin PIN requested")
        self.pin.reset(self._pin_status())
        self.show_page(self.pin)

    def _pin_status(self) -> str:
        if not self.config.kiosk.admin_pin_hash:
            return translate("Kiosk", "No admin PIN is set. Set one with: kiosk set-pin")
        if self.lockout.locked():
            minutes = max(1, round(self.lockout.remaining_seconds() / 60))
            return translate("Kiosk", "Too many wrong PINs. Try again in {minutes} min.").format(
                minutes=minutes
            )
        return ""

    def check_pin(self, entered: str) -> None:
        stored = self.config.kiosk.admin_pin_hash
        if not stored or self.lockout.locked():
            self.pin.reset(self._pin_status())
            self.admin_result.emit("locked" if stored else "no_pin")
            return
        self.worker.submit(
            lambda: verify_pin(entered, stored), self._pin_checked, self._log_error, name="pin"
        )

    def _pin_checked(self, ok: bool) -> None:
        if ok:
            self.lockout.record_success()
            log.warning("admin panel opened")
            self.open_admin()
            self.admin_result.emit("ok")
            return
        self.lockout.record_failure()
        log.warning("wrong admin PIN (%d in a row)", self.lockout.failures)
        if self.lockout.locked():
            self.pin.reset(self._pin_status())
            self.admin_result.emit("locked")
        else:
            left = self.lockout.max_attempts - self.lockout.failures
            self.pin.reset(translate("Kiosk", "Wrong PIN. {left} tries left.").format(left=left))
            self.admin_result.emit("wrong")

    def open_admin(self) -> None:
        self.admin.show_result("")
        self.admin.set_departments(self.departments)
        self.show_page(self.admin)
        self.poll_printer()
        self.worker.submit(self.backend.sync_info, self._apply_sync, self._log_error, name="sync")

    def _apply_sync(self, info: SyncInfo) -> None:
        self.admin.sync_info = info
        self.admin.retranslate()

    def _admin_job(self, job: Callable[[], Any], done: Callable[[Any], str], name: str) -> None:
        def on_done(result: Any) -> None:
            text = done(result)
            self.admin.show_result(text)
            self.admin_result.emit(name)

        def on_error(error: BaseException) -> None:
            log.error("%s failed", name, exc_info=error)
            self.admin.show_result(
                translate("Kiosk", "Failed: {error}").format(
                    error=str(error) or type(error).__name__
                )
            )
            self.admin_result.emit(f"{name}_failed")
            self.poll_printer()

        self.worker.submit(job, on_done, on_error, name=name)

    def test_print(self) -> None:
        self._admin_job(
            self.backend.test_print,
            lambda _: translate("Kiosk", "A test ticket was sent to the printer."),
            "test_print",
        )

    def reprint(self) -> None:
        def done(code: Any) -> str:
            if code is None:
                return translate("Kiosk", "No ticket has been printed yet.")
            return translate("Kiosk", "Ticket {code} was printed again.").format(code=code)

        self._admin_job(self.backend.reprint_last, done, "reprint")

    def set_paused(self, code: str, paused: bool) -> None:
        def done(departments: list[DepartmentStatus]) -> str:
            self.departments = departments
            self.home.show_departments(departments, self.language)
            self.admin.set_departments(departments)
            self.update_home()
            self.departments_changed.emit()
            return ""

        self._admin_job(lambda: self.backend.set_paused(code, paused), done, "pause")
