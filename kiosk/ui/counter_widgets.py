"""The counter's widgets: action buttons with their keys, the waiting rows, the pictogram tile,
the colours and the style sheet. They show what they are given; kiosk/ui/counter_window.py
puts them together and kiosk/app/counter.py decides what they show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.counter import Action, Message, Notice
from kiosk.ui import style
from kiosk.ui.pictograms import paint_pictogram
from kiosk.ui.staff_common import ScreenText
from kiosk.wire import Department, Ticket

K = Qt.Key


# Keys of each action: function keys, a letter, and a numeric-keypad key (USB keypads).
KEYS: dict[Action, tuple[tuple[int, bool], ...]] = {
    Action.CALL_NEXT: ((K.Key_F1, False), (K.Key_Space, False), (K.Key_Plus, True)),
    Action.RECALL: ((K.Key_F2, False), (K.Key_R, False), (K.Key_Asterisk, True)),
    Action.NO_SHOW: ((K.Key_F3, False), (K.Key_N, False), (K.Key_Minus, True)),
    Action.SERVE: ((K.Key_F4, False), (K.Key_S, False), (K.Key_Enter, True)),
    Action.TRANSFER: ((K.Key_F5, False), (K.Key_T, False), (K.Key_Slash, True)),
    Action.CALL_SELECTED: ((K.Key_F6, False), (K.Key_C, False), (K.Key_Period, True)),
}
KEY_HINTS: dict[Action, str] = {
    Action.CALL_NEXT: "F1 · Space · +",
    Action.RECALL: "F2 · R · *",
    Action.NO_SHOW: "F3 · N · −",
    Action.SERVE: "F4 · S · Enter",
    Action.TRANSFER: "F5 · T · /",
    Action.CALL_SELECTED: "F6 · C · ↑↓",
}

# Colours of the counter (text/background pairs pass WCAG AA; the code 7:1).
CARD = "#FFFFFF"
CODE_TEXT = "#0B1F3A"
CALLING_BG = "#FFF1C2"
PRIORITY_BG = "#FDE8E8"
PRIORITY_TEXT = "#8A1116"
OK_TEXT = "#14532D"


def label(role: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel()
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    return widget


class Pictogram(QWidget):
    """A priority group's pictogram on a light tile (never colour alone: a word goes beside)."""

    def __init__(self, side: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reason = ""
        self.setFixedSize(side, side)

    def set_reason(self, reason: str | None) -> None:
        self.reason = reason or ""
        self.setVisible(bool(reason))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.reason:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor("#E3ECF8"))
        painter.setPen(Qt.PenStyle.NoPen)
        rect = QRectF(self.rect())
        painter.drawRoundedRect(rect, 8, 8)
        paint_pictogram(painter, rect.adjusted(4, 4, -4, -4), self.reason)
        painter.end()


class ActionButton(QPushButton):
    """A big button: the action's name, and below it the keys that do the same."""

    def __init__(self, action: Action, kind: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action = action
        self.setObjectName(f"action-{action.value}")
        if kind:
            self.setProperty("kind", kind)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(96)

    def set_caption(self, name: str) -> None:
        self.setText(f"{name}\n{KEY_HINTS[self.action]}")
        self.setAccessibleName(name)


class WaitingRow(QWidget):
    """One waiting ticket: place, code, priority (pictogram + word) and the wait so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.setSpacing(8)
        self.place = label()
        self.place.setFixedWidth(32)
        self.place.setStyleSheet(f"font-size: 26px; color: {style.TEXT_MUTED};")
        self.code = label()
        self.code.setMinimumWidth(104)
        self.code.setStyleSheet(f"font-size: 36px; font-weight: bold; color: {CODE_TEXT};")
        self.picto = Pictogram(44)
        self.priority = label()
        # The word must never be cut ("Ưu tiê"): the stretch before the wait gives way instead.
        self.priority.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.priority.setStyleSheet(
            f"font-size: 22px; font-weight: bold; color: {PRIORITY_TEXT};"
            f"background: {PRIORITY_BG}; border-radius: 6px; padding: 2px 6px;"
        )
        self.wait = label()
        self.wait.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.wait.setStyleSheet(f"font-size: 26px; color: {style.TEXT};")
        row.addWidget(self.place)
        row.addWidget(self.code)
        row.addWidget(self.picto)
        row.addWidget(self.priority)
        row.addStretch(1)
        row.addWidget(self.wait)

    def show_ticket(
        self, place: int, ticket: Ticket, priority: str, wait: str, transferred: str
    ) -> None:
        self.place.setText(str(place))
        self.code.setText(ticket.code)
        self.picto.set_reason(ticket.priority)
        label = priority or transferred
        self.priority.setText(label)
        self.priority.setVisible(bool(label))
        self.wait.setText(wait)

    def sizeHint(self) -> QSize:
        return QSize(400, 62)


def counter_style_sheet() -> str:
    """The counter window's style sheet (on top of the application's, kiosk/ui/style.py)."""
    return f"""
QWidget#CounterRoot {{ background: {style.BACKGROUND}; }}
QWidget#Header {{ background: {style.HEADER}; }}
QFrame#Card {{ background: {CARD}; border: 3px solid {style.BORDER}; border-radius: 16px; }}
QFrame#Card[calling="true"] {{ background: {CALLING_BG}; border-color: {style.NOTICE_TEXT}; }}
QListWidget {{
    background: {CARD}; border: 3px solid {style.BORDER}; border-radius: 12px;
    outline: none;
}}
QListWidget::item {{ border-bottom: 1px solid {style.DISABLED_BG}; }}
QListWidget::item:selected {{ background: {style.PRESSED}; border: 3px solid {style.PRIMARY}; }}
QPushButton {{ font-size: 28px; min-height: 80px; padding: 4px 12px; border-radius: 12px; }}
QPushButton[kind="primary"] {{ font-size: 34px; }}
QLabel[role="banner"] {{
    background: {style.DANGER}; color: {style.ON_DANGER}; font-size: 30px; font-weight: bold;
    padding: 10px 20px;
}}
QLabel[role="connecting"] {{
    background: {style.NOTICE_BG}; color: {style.NOTICE_TEXT}; font-size: 30px;
    font-weight: bold; padding: 10px 20px;
}}
QLabel[role="message"] {{
    background: {style.NOTICE_BG}; color: {style.NOTICE_TEXT}; font-size: 26px;
    font-weight: bold; border-radius: 10px; padding: 8px 16px;
}}
"""


class CounterHeader(QWidget):
    """Department and room, the connection's state and the clock, on the header colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        head = QHBoxLayout(self)
        head.setContentsMargins(24, 8, 24, 8)
        self.title = label()
        self.title.setStyleSheet(f"color: {style.ON_HEADER}; font-size: 32px; font-weight: bold;")
        self.status = label()
        self.status.setStyleSheet(f"color: {style.ON_HEADER}; font-size: 24px;")
        self.clock = label()
        self.clock.setStyleSheet(f"color: {style.ON_HEADER}; font-size: 32px; font-weight: bold;")
        head.addWidget(self.title, 1)
        head.addWidget(self.status)
        head.addSpacing(24)
        head.addWidget(self.clock)


class CurrentCard(QFrame):
    """The patient called to this room: the code very large, the priority, since when."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Card")
        card = QVBoxLayout(self)
        card.setContentsMargins(24, 12, 24, 12)
        card.setSpacing(4)
        self.title = label()
        self.title.setStyleSheet(f"font-size: 28px; color: {style.TEXT_MUTED};")
        self.code = label()
        self.code.setObjectName("CurrentCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        priority_row = QHBoxLayout()
        priority_row.setSpacing(12)
        self.picto = Pictogram(56)
        self.priority = label()
        self.priority.setStyleSheet(f"font-size: 30px; font-weight: bold; color: {PRIORITY_TEXT};")
        priority_row.addStretch(1)
        priority_row.addWidget(self.picto)
        priority_row.addWidget(self.priority)
        priority_row.addStretch(1)
        self.info = label(wrap=True)
        self.info.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info.setStyleSheet(f"font-size: 28px; color: {style.TEXT};")
        card.addWidget(self.title)
        card.addWidget(self.code, 1)
        card.addLayout(priority_row)
        card.addWidget(self.info)

    def show_texts(
        self, calling: bool, title: str, code: str, reason: str | None, priority: str, info: str
    ) -> None:
        self.setProperty("calling", calling)
        self.style().unpolish(self)
        self.style().polish(self)
        self.title.setText(title)
        self.code.setText(code)
        self.picto.set_reason(reason)
        self.priority.setText(priority)
        self.info.setText(info)

    def set_code_size(self, height: int) -> None:
        px = max(120, min(300, int(max(400, height) * 0.23)))
        self.code.setStyleSheet(f"font-size: {px}px; font-weight: bold; color: {CODE_TEXT};")


class TransferPage(QWidget):
    """Where to send the patient: one button per department, numbered for the keys 1-9."""

    chosen = Signal(str)  # a department code
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(40, 24, 40, 24)
        column.setSpacing(16)
        self.title = label(wrap=True)
        self.title.setStyleSheet("font-size: 36px; font-weight: bold;")
        column.addWidget(self.title)
        self.grid = QGridLayout()
        self.grid.setSpacing(14)
        column.addLayout(self.grid, 1)
        self.cancel = QPushButton()
        self.cancel.setObjectName("transfer-cancel")
        self.cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel.clicked.connect(self.cancelled.emit)
        column.addWidget(self.cancel)
        self.buttons: list[QPushButton] = []

    def show_targets(self, title: str, targets: list[Department], language: str) -> None:
        for button in self.buttons:
            self.grid.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        columns = 3 if len(targets) > 4 else 2
        for index, department in enumerate(targets):
            button = QPushButton(f"{index + 1}   {department.name(language)}")
            button.setObjectName(f"transfer-{department.code}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, code=department.code: self.chosen.emit(code))
            self.grid.addWidget(button, index // columns, index % columns)
            self.buttons.append(button)
        self.title.setText(title)


@dataclass(frozen=True)
class WaitingEntry:
    """One row of the waiting list, its words already in the window's language."""

    ticket: Ticket
    mark: str  # a short word beside the pictogram ("Priority", "Transferred")
    wait: str  # "12 min"
    tooltip: str  # the priority group in full


class WaitingPanel(QWidget):
    """The line in call order; a row can be selected to call it out of order."""

    def __init__(self, call_selected: ActionButton, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        self.title = label()
        self.title.setStyleSheet("font-size: 30px; font-weight: bold;")
        self.list = QListWidget()
        self.list.setObjectName("WaitingList")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.empty = label(wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"font-size: 28px; color: {style.TEXT_MUTED};")
        call_selected.setMinimumHeight(80)
        call_selected.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.counts = label(wrap=True)
        self.counts.setObjectName("TodayCounts")
        self.counts.setStyleSheet(f"font-size: 22px; color: {style.TEXT};")
        column.addWidget(self.title)
        column.addWidget(self.list, 1)
        column.addWidget(self.empty, 1)
        column.addWidget(call_selected)
        column.addWidget(self.counts)

    def selected_row(self) -> int | None:
        row = self.list.currentRow()
        item = self.list.item(row) if row >= 0 else None
        return row if item is not None and item.isSelected() else None

    def show_entries(
        self, entries: list[WaitingEntry], keep: str | None, title: str, empty: str, counts: str
    ) -> None:
        """Redraw the rows; the row of ticket id `keep` stays selected."""
        self.list.clear()
        for place, entry in enumerate(entries, start=1):
            row = WaitingRow()
            row.show_ticket(place, entry.ticket, entry.mark, entry.wait, "")
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, entry.ticket.id)
            item.setSizeHint(QSize(300, 64))
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            row.setToolTip(entry.tooltip)
            if keep is not None and keep == entry.ticket.id:
                self.list.setCurrentItem(item)
        self.title.setText(title)
        self.list.setVisible(bool(entries))
        self.empty.setVisible(not entries)
        self.empty.setText(empty)
        self.counts.setText(counts)


def message_text(text: ScreenText, message: Message, department_name: Callable[[str], str]) -> str:
    """A message of the counter's state in the window's language."""
    say = text.translate
    if message.notice == Notice.SENT:
        return say("Counter", "{code} sent to {department}.").format(
            code=message.code, department=department_name(message.department)
        )
    if message.notice == Notice.ABSENT:
        return say("Counter", "{code} did not come after {n} recalls: marked absent.").format(
            code=message.code, n=message.recalls
        )
    return {
        Notice.NOBODY_WAITING: say("Counter", "Nobody is waiting."),
        Notice.CONNECTION_BACK: say("Counter", "Connection is back."),
        Notice.NOT_DONE_OFFLINE: say(
            "Counter", "Not done: no connection. Try again when it is back."
        ),
        Notice.CHANGED: say("Counter", "Not possible: the ticket has changed. Updated."),
        Notice.NOT_ALLOWED: say("Counter", "This counter is not allowed: ask IT for its token."),
        Notice.NOT_FOUND: say("Counter", "Not found on the server."),
    }.get(message.notice, say("Counter", "The server could not do it. Try again."))


def action_for_key(key: int, keypad: bool) -> Action | None:
    """The action of a key; keypad keys count only from the keypad (a "+" typed elsewhere
    does not call)."""
    for action, keys in KEYS.items():
        for wanted, on_keypad in keys:
            if key == wanted and (keypad or not on_keypad or wanted == K.Key_Enter):
                return action
    return None
