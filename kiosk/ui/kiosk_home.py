"""The kiosk's home page: the header (hospital, date, time, language) and the department grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import (
    QCoreApplication,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.queue.service import DepartmentStatus
from kiosk.ui import style
from kiosk.ui.kiosk_pages import Page, label, unavailable_label
from kiosk.ui.layout import department_grid
from kiosk.ui.widgets import (
    BigButton,
    DepartmentButton,
    DepartmentTileText,
)

log = logging.getLogger(__name__)

translate = QCoreApplication.translate


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
