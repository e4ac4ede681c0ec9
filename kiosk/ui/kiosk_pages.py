"""The patient kiosk's pages: home (the department grid), priority, printing, your number,
and messages, with the labels they share. Each page shows what it is given
and signals what the patient tapped; kiosk/ui/kiosk_window.py moves between them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import (
    QCoreApplication,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.backend import (
    TicketView,
)
from kiosk.texts import priority_name
from kiosk.ui import style
from kiosk.ui.layout import Box, priority_layout
from kiosk.ui.widgets import (
    AlertIcon,
    BigButton,
    BusySpinner,
    CodeBox,
    PriorityButton,
    QrCodeWidget,
)

log = logging.getLogger(__name__)

translate = QCoreApplication.translate

# Each language's own name, shown on the button that switches to it (not translated).
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


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
    if state == "store_damaged":
        return translate("Kiosk", "This kiosk needs maintenance.")
    if state == "on_hold":
        return translate("Kiosk", "This kiosk is connecting to the hospital's system.")
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


class PriorityPage(Page):
    """Are you in a priority group? "Not in a priority group" covers the band where the
    department tile was (a second tap on the department lands on it, never on a group); the
    groups and the title fill the space above and below (`layout.priority_layout`)."""

    name = "priority"
    chosen = Signal(object)  # a reason, or None for "not in a priority group"
    back = Signal()

    def __init__(self, reasons: Sequence[str], family: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.language = "vi"
        self.heading = QWidget(self)
        row = QHBoxLayout(self.heading)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(24)
        texts = QVBoxLayout()
        texts.setSpacing(HEADING_SPACING)
        self.department = label("body")
        self.department.setStyleSheet(f"color: {style.HEADER}; font-weight: bold;")
        self.title = label("title")
        self.hint = label("body")
        for widget in (self.department, self.title, self.hint):
            texts.addWidget(widget)
        texts.addStretch(1)
        row.addLayout(texts, 1)
        self.back_button = BigButton()
        self.back_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.back_button.clicked.connect(self.back.emit)
        row.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)
        self.buttons: list[PriorityButton] = []
        for reason in reasons:
            button = PriorityButton(reason, family, self)
            button.clicked.connect(lambda _=False, r=reason: self.chosen.emit(r))
            self.buttons.append(button)
        self.skip = BigButton(kind="primary", parent=self)
        self.skip.setProperty("size", "large")
        self.skip.clicked.connect(lambda: self.chosen.emit(None))
        self.band: tuple[int, int] | None = None
        self.tile_columns = 0
        self._name = ""

    def set_department(self, name: str) -> None:
        self._name = name
        self.retranslate()

    def set_band(self, band: tuple[int, int] | None) -> None:
        """Where the tapped department was (top and bottom in this page's coordinates)."""
        self.band = band
        self.relayout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.relayout()

    def relayout(self) -> None:
        width, height = self.width(), self.height()
        if width <= 0 or height <= 0:
            return
        margin = PAGE_MARGIN
        back_width = max(240, self.back_button.sizeHint().width())
        self.back_button.setFixedSize(back_width, style.TARGET_PX)
        text_width = max(1, width - 2 * margin - back_width - 24)
        heights = [w.heightForWidth(text_width) for w in (self.department, self.title)]
        short = sum(heights) + HEADING_SPACING
        full = short + HEADING_SPACING + self.hint.heightForWidth(text_width)
        band = self.band or (round(height * 0.6) - 85, round(height * 0.6) + 85)
        placement = priority_layout(
            width,
            height,
            len(self.buttons),
            band,
            [max(style.TARGET_PX, full), max(style.TARGET_PX, short)],
            margin=margin,
        )
        self.tile_columns = placement.tile_columns
        # Short of room, the hint ("tap the blue button") goes: the button says it itself.
        self.hint.setVisible(placement.title_option == 0)
        self.heading.setGeometry(_rect(placement.title))
        self.skip.setGeometry(_rect(placement.skip))
        for button, box in zip(self.buttons, placement.tiles, strict=True):
            button.setGeometry(_rect(box))

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
        self.relayout()


PAGE_MARGIN = 32
HEADING_SPACING = 8


def _rect(box: Box) -> QRect:
    return QRect(box.x, box.y, box.width, box.height)


class PrintingPage(Page):
    name = "printing"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.addStretch(1)
        self.spinner = BusySpinner()
        column.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignHCenter)
        self.title = label("huge", align=Qt.AlignmentFlag.AlignCenter)
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


class TicketPage(Page):
    """Your number, huge, with the department, where to go, people ahead and the QR. Only
    "Done" leaves it early (a tap anywhere else is a patient checking it worked)."""

    name = "ticket"
    done = Signal()

    def __init__(self, family: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: TicketView | None = None
        self.language = "vi"
        self.seconds_left = 0
        self.box = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self.box.setContentsMargins(40, 32, 40, 32)
        self.box.setSpacing(28)

        main = QVBoxLayout()
        main.setSpacing(12)
        self.title = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.code = CodeBox(family)
        self.code.setObjectName("TicketCode")
        self.department = label("large", align=Qt.AlignmentFlag.AlignCenter)
        self.priority = label("body", align=Qt.AlignmentFlag.AlignCenter)
        self.priority.setStyleSheet("font-weight: bold;")
        self.go_to = label("lead", align=Qt.AlignmentFlag.AlignCenter)
        self.ahead = label("lead", align=Qt.AlignmentFlag.AlignCenter)
        for widget in (self.title, self.code, self.department, self.priority):
            main.addWidget(widget)
        main.addSpacing(8)
        main.addWidget(self.go_to)
        main.addWidget(self.ahead)
        main.addStretch(1)

        side = QVBoxLayout()
        side.setSpacing(20)
        self.take = label("notice", align=Qt.AlignmentFlag.AlignCenter)
        self.take.setProperty("size", "lead")
        # The QR beside "Done" (with what it is for above the button): it is never covered, and
        # the page stays short enough for a 1024-px-tall screen.
        self.qr_row = QWidget()
        qr_row = QHBoxLayout(self.qr_row)
        qr_row.setContentsMargins(0, 0, 0, 0)
        qr_row.setSpacing(24)
        self.qr = QrCodeWidget()
        self.qr_hint = label("muted")
        self.done_button = BigButton(kind="primary")
        self.done_button.clicked.connect(self.done.emit)
        beside = QVBoxLayout()
        beside.setSpacing(12)
        beside.addWidget(self.qr_hint)
        beside.addStretch(1)
        beside.addWidget(self.done_button)
        qr_row.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        qr_row.addLayout(beside, 1)
        self.countdown = label("muted", align=Qt.AlignmentFlag.AlignCenter)
        side.addWidget(self.take)
        side.addWidget(self.qr_row)
        side.addWidget(self.countdown)
        side.addStretch(1)

        self.box.addLayout(main, 3)
        self.box.addLayout(side, 2)
        # Portrait: everything together at the top, the space left over below it (a gap in the
        # middle would split the number from "take your ticket").
        self.box.addStretch(0)

    def show_ticket(self, view: TicketView, language: str) -> None:
        self.view = view
        self.language = language
        self.qr.set_data(view.status_url, view.qr_modules)
        # A kiosk working alone has no status page a phone could open: no QR at all.
        self.qr.setVisible(bool(view.status_url))
        self.qr_hint.setVisible(bool(view.status_url))
        self.retranslate()

    def fit(self) -> None:
        """The QR and the number's box take their size from the screen and what else is on it;
        the number's type then comes from its box (CodeBox), never a fixed size a narrow
        screen cuts."""
        width, height = self.width(), self.height()
        if width <= 0 or height <= 0:
            return
        landscape = width > height
        big = max(1.0, min(2.0, min(width, height) / 1080))  # a 4K screen: a larger QR too
        qr_side = int(max(170, min(300 * big, min(width, height) * 0.22)))
        self.qr.setFixedSize(qr_side, qr_side)
        margins = self.box.contentsMargins()
        inner_w = width - margins.left() - margins.right()
        main_w = (inner_w - self.box.spacing()) * 3 // 5 if landscape else inner_w
        side_w = inner_w - main_w - self.box.spacing() if landscape else inner_w

        def tall(widget: QWidget, column: int) -> int:
            if widget.isHidden():
                return 0
            if widget.hasHeightForWidth():
                return max(widget.heightForWidth(column), widget.minimumHeight())
            return max(widget.sizeHint().height(), widget.minimumHeight())

        main = [self.title, self.department, self.priority, self.go_to, self.ahead]
        used = sum(tall(w, main_w) for w in main) + 12 * 5 + 8
        if not landscape:
            side = [self.take, self.qr_row, self.countdown]
            used += self.box.spacing() + sum(tall(w, side_w) for w in side) + 20 * 2
        room = height - margins.top() - margins.bottom() - used - 24
        wanted = min(main_w * 0.42, height * (0.4 if landscape else 0.26))
        self.code.setFixedHeight(int(max(140, min(wanted, room))))

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
        width, height = self.width(), self.height()
        landscape = width > height
        self.box.setDirection(
            QBoxLayout.Direction.LeftToRight if landscape else QBoxLayout.Direction.TopToBottom
        )
        for index, stretch in enumerate((3, 2, 0) if landscape else (0, 0, 1)):
            self.box.setStretch(index, stretch)
        self.fit()
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
        self.fit()


class MessagePage(TappablePage):
    """A problem, told to the patient: what happened, what to do, where to go. No number."""

    name = "message"
    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(48, 40, 48, 40)
        column.setSpacing(28)
        column.addStretch(1)
        self.icon = AlertIcon()
        column.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignHCenter)
        self.title = label("large", align=Qt.AlignmentFlag.AlignCenter)
        self.body = label("lead", align=Qt.AlignmentFlag.AlignCenter)
        self.hint = label("notice", align=Qt.AlignmentFlag.AlignCenter)
        self.hint.setProperty("size", "lead")
        self.ok = BigButton(kind="primary")
        self.ok.clicked.connect(self.done.emit)
        for widget in (self.title, self.body, self.hint):
            column.addWidget(widget)
        column.addSpacing(20)
        column.addWidget(self.ok)
        column.addStretch(1)
        self.kind = "print_failed"
        self.tapped.connect(self.done.emit)

    def resizeEvent(self, event: QResizeEvent) -> None:
        side = int(max(90, min(200, self.height() * 0.16)))
        self.icon.setFixedSize(side, side * 9 // 10)
        super().resizeEvent(event)

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
