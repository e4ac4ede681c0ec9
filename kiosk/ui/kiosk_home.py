"""The kiosk's home page: the header (hospital, date, time, language) and the department grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import (
    QCoreApplication,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.kiosk_flow import Banner
from kiosk.ui import style
from kiosk.ui.department_tile import DepartmentButton, DepartmentTileText
from kiosk.ui.kiosk_pages import (
    Page,
    ask_reception,
    label,
    printer_fault_label,
    unavailable_label,
)
from kiosk.ui.layout import GridLayout, department_grid
from kiosk.ui.widgets import (
    BigButton,
)
from kiosk.wire import Department as DepartmentStatus

log = logging.getLogger(__name__)

translate = QCoreApplication.translate


class Header(QWidget):
    """Hospital name (the hidden admin corner is here), clock and date, language button."""

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 16, 24, 16)
        row.setSpacing(24)
        left = QVBoxLayout()
        left.setSpacing(4)
        self.hospital = label("onHeader")
        self.hospital.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Time and date side by side, or the date under the time when the header is narrow.
        self.clock_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.clock_row.setSpacing(24)
        self.time = label("clock", wrap=False)
        self.date = label("date", wrap=False)
        self.clock_row.addWidget(self.time)
        self.clock_row.addWidget(self.date, 1)
        left.addWidget(self.hospital)
        left.addLayout(self.clock_row)
        self.language = BigButton(kind="language")
        self.language.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.language.setFixedSize(270, style.TARGET_PX)
        row.addLayout(left, 1)
        row.addWidget(self.language)
        self.scale = 1.0

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.fit_clock()
        super().resizeEvent(event)

    def fit_clock(self) -> None:
        self.language.ensurePolished()
        text = self.language.fontMetrics().horizontalAdvance(self.language.text())
        width = round(max(200 * self.scale, min(270 * self.scale, text + 72 * self.scale)))
        height = round(style.TARGET_PX * self.scale)
        if self.language.width() != width or self.language.height() != height:
            self.language.setFixedSize(width, height)
        room = self.width() - 32 - 24 - 24 - width
        needed = (
            self.time.fontMetrics().horizontalAdvance(self.time.text())
            + 24
            + self.date.fontMetrics().horizontalAdvance(self.date.text())
            + 8
        )
        direction = (
            QBoxLayout.Direction.LeftToRight if needed <= room else QBoxLayout.Direction.TopToBottom
        )
        if self.clock_row.direction() != direction:
            self.clock_row.setDirection(direction)


class DepartmentGrid(QWidget):
    """Department tiles placed by `department_grid` maths for the space it is given; when they
    do not all fit at a finger's size, a page at a time with large buttons to turn pages."""

    tapped = Signal(str)
    page_turned = Signal()

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.family = family
        self.buttons: dict[str, DepartmentButton] = {}
        self.page = 0
        self.pages = 1
        self.pager = QWidget(self)
        row = QHBoxLayout(self.pager)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(style.GAP_PX)
        self.previous = BigButton()
        self.page_label = label("body", wrap=False, align=Qt.AlignmentFlag.AlignCenter)
        self.next = BigButton(kind="primary")
        for button in (self.previous, self.next):
            button.setProperty("pager", True)
            button.setFixedHeight(style.TARGET_PX)
        row.addWidget(self.previous, 1)
        row.addWidget(self.page_label, 0)
        row.addWidget(self.next, 1)
        self.previous.clicked.connect(lambda: self.turn(-1))
        self.next.clicked.connect(lambda: self.turn(1))
        self.pager.hide()

    def set_departments(self, departments: Sequence[DepartmentStatus]) -> None:
        codes = [d.code for d in departments]
        for code in list(self.buttons):
            if code not in codes:
                gone = self.buttons.pop(code)
                gone.hide()  # now, not when the event loop gets round to deleting it
                gone.deleteLater()
        ordered: dict[str, DepartmentButton] = {}
        for department in departments:
            button = self.buttons.get(department.code)
            if button is None or button.color != department.color:
                if button is not None:
                    button.hide()
                    button.deleteLater()
                button = DepartmentButton(department.code, department.color, self.family, self)
                button.clicked.connect(lambda _=False, c=department.code: self.tapped.emit(c))
            ordered[department.code] = button
        self.buttons = ordered
        self.relayout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.relayout()

    def turn(self, step: int) -> None:
        page = max(0, min(self.pages - 1, self.page + step))
        if page != self.page:
            self.page = page
            self.relayout()
            self.page_turned.emit()

    def first_page(self) -> None:
        if self.page:
            self.page = 0
            self.relayout()

    def page_of(self, code: str) -> int:
        codes = list(self.buttons)
        grid = self._grid()
        return codes.index(code) // grid.per_page if grid and code in codes else 0

    def pager_height(self) -> int:
        return style.TARGET_PX

    def _grid(self) -> GridLayout | None:
        width, height = self.width(), self.height()
        if not self.buttons or width <= 0 or height <= 0:
            return None
        return department_grid(
            len(self.buttons), width, height, gap=style.GAP_PX, pager_height=self.pager_height()
        )

    def relayout(self) -> None:
        grid = self._grid()
        if grid is None:
            return
        self.pages = grid.pages
        self.page = min(self.page, grid.pages - 1)
        for index, button in enumerate(self.buttons.values()):
            page, slot = divmod(index, grid.per_page)
            row, column = divmod(slot, grid.columns)
            button.setGeometry(
                column * (grid.cell_width + style.GAP_PX),
                row * (grid.cell_height + style.GAP_PX),
                grid.cell_width,
                grid.cell_height,
            )
            button.setVisible(page == self.page)
        self.pager.setVisible(grid.pages > 1)
        if grid.pages > 1:
            self.pager.setGeometry(
                0, self.height() - style.TARGET_PX, self.width(), style.TARGET_PX
            )
            self.previous.setEnabled(self.page > 0)
            self.next.setEnabled(self.page < grid.pages - 1)
            self.retranslate()

    def retranslate(self) -> None:
        self.previous.setText(translate("Kiosk", "◀ Previous"))
        self.next.setText(translate("Kiosk", "Next page ▶"))
        self.page_label.setText(
            translate("Kiosk", "Page {page} of {pages}").format(
                page=self.page + 1, pages=self.pages
            )
        )


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
        body.setContentsMargins(32, 20, 32, 32)
        body.setSpacing(20)
        self.instruction = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.banner = label("alert", align=Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()
        self.grid = DepartmentGrid(family)
        body.addWidget(self.instruction)
        body.addWidget(self.banner)
        body.addWidget(self.grid, 1)
        column.addLayout(body, 1)
        self.departments: list[DepartmentStatus] = []
        self.language = "vi"
        self.attract = False
        self.scale = 1.0

    def set_scale(self, scale: float) -> None:
        """Type larger than the 1080-px design on big screens (the window's style sheet)."""
        self.scale = self.header.scale = scale
        self.header.fit_clock()
        self.fit_instruction()

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
        self.grid.retranslate()
        self.header.fit_clock()
        self.fit_instruction()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.fit_instruction()
        super().resizeEvent(event)

    def fit_instruction(self) -> None:
        """The instruction on one line where it can be: from the title size down to 36 px."""
        room = self.width() - 64 - 48
        text = self.instruction.text()
        px = round(style.TITLE_PX * self.scale)
        while px > 36 * self.scale:
            if QFontMetricsF(style.font(self.family, px, True)).horizontalAdvance(text) <= room:
                break
            px -= 2
        sheet = f"font-size: {px}px;"
        if self.instruction.styleSheet() != sheet:
            self.instruction.setStyleSheet(sheet)

    def set_attract(self, on: bool) -> None:
        """Nobody is using the kiosk: the same page (one tap on a department still issues), its
        instruction lit up to draw the eye."""
        if on != self.attract:
            self.attract = on
            _set_role(self.instruction, "attract" if on else "title")

    def set_banner(self, text: str, role: str = "alert") -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        _set_role(self.banner, role)

    def show_banner(self, banner: Banner, printer_state: str, transient: str) -> None:
        """The flow's banner above the grid; the instruction ("Tap the department you need")
        only when a tap can give a number."""
        if banner == Banner.PRINTER_FAULT:
            text = f"{printer_fault_label(printer_state)}\n" + translate(
                "Kiosk", "Numbers cannot be given right now."
            )
            self.set_banner(f"{text} {ask_reception()}", "alert")
        elif banner == Banner.COOLING:
            self.set_banner(translate("Kiosk", "Please wait a moment…"), "notice")
        elif banner == Banner.TRANSIENT:
            self.set_banner(transient, "notice")
        elif banner == Banner.NO_DEPARTMENTS:
            self.set_banner(
                translate("Kiosk", "No department is giving numbers now.") + " " + ask_reception(),
                "notice",
            )
        else:
            self.set_banner("")
        self.instruction.setVisible(banner in (Banner.NONE, Banner.TRANSIENT))

    def set_enabled(self, can_issue: bool) -> None:
        for department in self.departments:
            button = self.grid.buttons.get(department.code)
            if button is not None:
                button.setEnabled(can_issue and department.unavailable is None)
                button.update()


def _set_role(widget: QWidget, role: str) -> None:
    if widget.property("role") != role:
        widget.setProperty("role", role)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


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
    # The console's reason when the hospital paused it (a kiosk's own pause has none).
    reason = department.pause_reason if department.unavailable == "paused" else ""
    return DepartmentTileText(
        department.name(language),
        status,
        short,
        unavailable,
        reason,
        translate("Kiosk", "Paused") if reason else "",
    )
