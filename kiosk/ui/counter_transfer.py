"""The counter's transfer page: where to send the patient, every other department nine to a
page, each with its key (1-9), PgDn/PgUp to turn the pages, Esc or F5 to cancel.

kiosk/ui/counter_window.py shows it when the nurse transfers; kiosk/app/counter.py lists the
departments and sends the transfer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.counter_widgets import label, px
from kiosk.ui.fit import FitLabel
from kiosk.wire import Department

K = Qt.Key

# The keys 1-9 choose on the page shown; PgDn/PgUp (or the arrows) turn the pages.
TRANSFER_PAGE_SIZE = 9


class TransferButton(QPushButton):
    """One department to send the patient to: its key in a badge, its name (wrapped)."""

    def __init__(self, key: int, department: Department, language: str) -> None:
        super().__init__()
        self.code = department.code
        self.setObjectName(f"transfer-{department.code}")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.setSpacing(12)
        self.key = label("transferKey")
        self.key.setText(str(key))
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = FitLabel(30, bold=True, wrap=True, fill=True, colour="")
        self.name.setProperty("role", "onButton")
        self.name.setText(department.name(language))
        self.name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for part in (self.key, self.name):
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        row.addWidget(self.key)
        row.addWidget(self.name, 1)

    def set_scale(self, scale: float) -> None:
        self.key.setFixedWidth(px(48, scale, 28))
        self.name.set_scale(scale)


class TransferPage(QWidget):
    """Where to send the patient: every other department, nine to a page, each with its key."""

    chosen = Signal(str)  # a department code
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(40, 24, 40, 24)
        self.column.setSpacing(16)
        self.title = FitLabel(36, bold=True, wrap=True)
        self.column.addWidget(self.title)
        self.grid = QGridLayout()
        self.grid.setSpacing(14)
        self.column.addLayout(self.grid, 1)
        nav = QHBoxLayout()
        nav.setSpacing(14)
        self.previous = QPushButton()
        self.previous.setObjectName("transfer-previous")
        self.page_label = label("page")
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next = QPushButton()
        self.next.setObjectName("transfer-next")
        self.cancel = QPushButton()
        self.cancel.setObjectName("transfer-cancel")
        for button in (self.previous, self.next, self.cancel):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.previous.clicked.connect(lambda: self.turn(-1))
        self.next.clicked.connect(lambda: self.turn(1))
        self.cancel.clicked.connect(self.cancelled.emit)
        nav.addWidget(self.previous, 2)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next, 2)
        nav.addWidget(self.cancel, 2)
        self.column.addLayout(nav)
        self.buttons: list[TransferButton] = []
        self.targets: list[Department] = []
        self.language = "vi"
        self.page = 0
        self.scale = 1.0
        self.page_words = "{page}/{pages}"
        self._laid_columns = 0

    def pages(self) -> int:
        return max(1, -(-len(self.targets) // TRANSFER_PAGE_SIZE))

    def show_targets(self, title: str, targets: list[Department], language: str) -> None:
        self.title.setText(title)
        self.targets = list(targets)
        self.language = language
        self.page = 0
        self._draw()

    def turn(self, step: int) -> None:
        page = max(0, min(self.pages() - 1, self.page + step))
        if page != self.page:
            self.page = page
            self._draw()

    def shown(self) -> list[Department]:
        first = self.page * TRANSFER_PAGE_SIZE
        return self.targets[first : first + TRANSFER_PAGE_SIZE]

    def shown_codes(self) -> list[str]:
        return [d.code for d in self.shown()]

    def choose_key(self, number: int) -> None:
        """The key `number` (1-9) on the page shown."""
        shown = self.shown()
        if 1 <= number <= len(shown):
            self.chosen.emit(shown[number - 1].code)

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        margin = px(40, scale, 12)
        self.column.setContentsMargins(margin, px(24, scale, 8), margin, px(24, scale, 8))
        self.column.setSpacing(px(16, scale, 6))
        self.grid.setSpacing(px(14, scale, 6))
        self.title.set_scale(scale)
        for button in self.buttons:
            button.set_scale(scale)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.buttons and self._columns() != self._laid_columns:
            self._draw()

    def _columns(self) -> int:
        width = self.width() / max(0.5, self.scale)
        return 3 if width >= 1000 else 2 if width >= 560 else 1

    def _draw(self) -> None:
        for button in self.buttons:
            self.grid.removeWidget(button)
            button.hide()
            button.setParent(None)
            button.deleteLater()
        self.buttons = []
        columns = self._columns()
        self._laid_columns = columns
        for index, department in enumerate(self.shown()):
            button = TransferButton(index + 1, department, self.language)
            button.set_scale(self.scale)
            button.clicked.connect(lambda _=False, code=department.code: self.chosen.emit(code))
            self.grid.addWidget(button, index // columns, index % columns)
            self.buttons.append(button)
        rows = -(-TRANSFER_PAGE_SIZE // columns)  # a short last page keeps the rows' size
        for row in range(TRANSFER_PAGE_SIZE):
            self.grid.setRowStretch(row, 1 if row < rows else 0)
        for column in range(3):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)
        pages = self.pages()
        self.page_label.setText(self.page_words.format(page=self.page + 1, pages=pages))
        self.previous.setEnabled(self.page > 0)
        self.next.setEnabled(self.page < pages - 1)
        for widget in (self.previous, self.page_label, self.next):
            widget.setVisible(pages > 1)

    def key(self, key: int) -> None:
        """A key pressed while the page is shown: 1-9 choose, the arrows and PgDn/PgUp turn
        the pages, Esc or F5 cancel."""
        if key in (K.Key_Escape, K.Key_F5):
            self.cancelled.emit()
        elif key in (K.Key_PageDown, K.Key_Right, K.Key_Down):
            self.turn(1)
        elif key in (K.Key_PageUp, K.Key_Left, K.Key_Up):
            self.turn(-1)
        elif K.Key_1 <= key <= K.Key_9:
            self.choose_key(key - K.Key_0)
