"""The priority step after a citizen ID card was scanned: its group in large type, one tap.

"Ưu tiên: Người từ 75 tuổi" fills one large button at the top of the screen: one tap takes the
number with that priority; the button below declines it (the ordinary priority choice follows).
The confirm button is kept above the top of the home page's department grid (the window gives
its height): a second tap meant for a department can never land on it.

`CardDesk` is the window's side of a scanned code: it reads the card (only the priority it
calls for is kept), asks the flow what that does on the page shown and shows it.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QPoint, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.app.citizen_card import read_card
from kiosk.app.kiosk_flow import Scan
from kiosk.texts import priority_name
from kiosk.ui import style
from kiosk.ui.kiosk_pages import Page, label
from kiosk.ui.widgets import BigButton

if TYPE_CHECKING:
    from kiosk.ui.kiosk_window import KioskWindow

log = logging.getLogger(__name__)

translate = QCoreApplication.translate

TOP_MARGIN_PX = 24
CONFIRM_PADDING_PX = 24


class ScannedPriorityPage(Page):
    name = "scanned_priority"
    confirmed = Signal(str)  # the priority group, taken
    declined = Signal()  # not this group: the ordinary choice
    back = Signal()

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.language = "vi"
        self.reason = ""
        self._department = ""
        column = QVBoxLayout(self)
        column.setContentsMargins(40, TOP_MARGIN_PX, 40, 40)
        column.setSpacing(style.GAP_PX)
        self.confirm = BigButton(kind="primary")
        self.confirm.setObjectName("ScannedConfirm")
        self.confirm.clicked.connect(lambda: self.confirmed.emit(self.reason))
        column.addWidget(self.confirm)
        self.department = label("body", align=Qt.AlignmentFlag.AlignCenter)
        self.department.setStyleSheet(f"color: {style.HEADER}; font-weight: bold;")
        self.hint = label("body", align=Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.department)
        column.addWidget(self.hint)
        column.addStretch(1)
        self.decline = BigButton()
        self.decline.setMinimumHeight(150)
        self.decline.clicked.connect(self.declined.emit)
        column.addWidget(self.decline)
        self.back_button = BigButton()
        self.back_button.clicked.connect(self.back.emit)
        column.addWidget(self.back_button)

    def show_priority(self, reason: str, department: str, confirm_height: int) -> None:
        """The scanned group for `department`; the confirm button `confirm_height` px tall at
        most (its bottom stays above where the department tiles start)."""
        self.reason = reason
        self._department = department
        self.confirm.setFixedHeight(max(style.TARGET_PX, confirm_height))
        self.retranslate()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_confirm()

    def fit_confirm(self) -> None:
        """The group on one line in the largest type that fits (52 px down to 40), else on
        two lines ("Ưu tiên:" above the group): never cut on a narrow screen."""
        text = self.confirm.accessibleName()
        width = self.confirm.width() - 2 * (CONFIRM_PADDING_PX + 3)
        height = self.confirm.height() - 16
        head, _, tail = text.partition(": ")
        candidates = [(text, px) for px in range(52, 38, -2)]
        if tail:
            candidates += [(f"{head}:\n{tail}", px) for px in range(52, 26, -2)]
        chosen = candidates[-1]
        for lines, px in candidates:
            font = QFont(self.confirm.font())
            font.setPixelSize(px)
            metrics = QFontMetrics(font)
            rows = lines.split("\n")
            if (
                max(metrics.horizontalAdvance(row) for row in rows) <= width
                and metrics.lineSpacing() * len(rows) <= height
            ):
                chosen = (lines, px)
                break
        lines, px = chosen
        self.confirm.setStyleSheet(
            f"font-size: {px}px; font-weight: bold; padding: 8px {CONFIRM_PADDING_PX}px;"
        )
        self.confirm.setText(lines)

    def retranslate(self) -> None:
        group = priority_name(self.reason, self.language) if self.reason else ""
        text = translate("Kiosk", "Priority: {group}").format(group=group)
        self.confirm.setAccessibleName(text)
        self.confirm.setText(text)
        self.fit_confirm()
        self.department.setText(
            translate("Kiosk", "Department: {name}").format(name=self._department)
        )
        self.hint.setText(
            translate("Kiosk", "Your ID card gives you priority. Tap the blue button.")
        )
        self.decline.setText(translate("Kiosk", "Not me: choose myself"))
        self.back_button.setText(translate("Kiosk", "Back"))


class CardDesk:
    """The kiosk window's side of the citizen ID card: a scanned code read into a priority
    group (nothing else of the card goes further), and the scanned-priority page."""

    def __init__(self, window: KioskWindow) -> None:
        self.w = weakref.proxy(window)  # the window owns the desk, not the other way round

    def confirm_height(self) -> int:
        """How tall the scanned priority's confirm button may be: its bottom stays a gap above
        the home page's department grid, so a second tap meant for a tile cannot reach it."""
        # The grid starts a spacing below the instruction, lower still under a banner: the
        # instruction's bottom is the highest a tile ever reaches on this screen.
        home: QWidget = self.w.home
        root = home.window()  # the kiosk window itself: one frame for the three heights
        instruction = self.w.home.instruction
        highest_tile: int = self.w.home.grid.mapTo(root, QPoint(0, 0)).y()
        if instruction.isVisible():
            bottom = instruction.mapTo(root, QPoint(0, instruction.height())).y()
            highest_tile = min(highest_tile, bottom)
        top: int = self.w.scanned_priority.mapTo(root, QPoint(0, 0)).y()
        return highest_tile - top - TOP_MARGIN_PX

    def show_priority(self, reason: str) -> None:
        if self.w.chosen is None:
            return
        self.w.scanned_priority.show_priority(
            reason, self.w.flow.department_name(self.w.chosen), self.confirm_height()
        )
        self.w.show_page(self.w.scanned_priority)

    def decline(self) -> None:
        w = self.w
        w.flow.decline_scanned()
        if w.chosen is None:
            w.go_home()
            return
        w.priority.set_department(w.flow.department_name(w.chosen))
        w.show_page(w.priority)

    def scan(self, text: str) -> None:
        """A code the scanner typed. Only the priority a card calls for is kept; the text
        goes no further than the reader (not in a log, a signal or the screen)."""
        w = self.w
        page = w.current_page()
        result = read_card(text, w.now().date(), w.config.queue.priority_reasons)
        del text
        if page in ("ticket", "message") and not w.busy:
            w.finish_ticket()  # the scan is the next patient's
            page = w.current_page()
        outcome = w.flow.scan(result, page)
        log.info("scanned code on %s: %s", page, outcome.value)
        if outcome == Scan.PRESELECTED and w.flow.scanned:
            self.show_priority(w.flow.scanned)
        elif outcome == Scan.HELD and w.flow.scanned:
            group = priority_name(w.flow.scanned, w.language)
            w.show_transient(
                translate("Kiosk", "ID card read: priority {group}.").format(group=group)
                + " "
                + translate("Kiosk", "Tap the department you need")
            )
        elif outcome in (Scan.NOT_A_CARD, Scan.NO_PRIORITY):
            text = (
                translate(
                    "Kiosk",
                    "This code is not an ID card. Please scan the QR code on your citizen ID card.",
                )
                if outcome == Scan.NOT_A_CARD
                else translate("Kiosk", "ID card read: no priority by age.")
            )
            if page == "priority":
                w.priority.hint.setText(text)
            elif page == "scanned_priority":
                self.decline()
                w.priority.hint.setText(text)
            else:
                w.show_transient(text)
        w.scanned.emit(outcome.value)
