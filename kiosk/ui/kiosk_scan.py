"""The priority step after a citizen ID card was scanned: its group in large type, one tap.

"Ưu tiên: Người từ 75 tuổi" fills one large button at the top of the screen: one tap takes the
number with that priority; the button below declines it (the ordinary priority choice follows).
The confirm button is kept above the top of the home page's department grid (the window gives
its height): a second tap meant for a department can never land on it.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.texts import priority_name
from kiosk.ui import style
from kiosk.ui.kiosk_pages import Page, label
from kiosk.ui.widgets import BigButton

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
