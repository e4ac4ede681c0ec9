"""The counter's widgets: action buttons with their keys, the waiting rows, the pictogram tile,
the colours and the style sheet. They show what they are given; kiosk/ui/counter_window.py
puts them together and kiosk/app/counter.py decides what they show.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
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

from kiosk.app.counter import Action
from kiosk.ui import style
from kiosk.ui.fit import FitLabel
from kiosk.ui.pictograms import paint_pictogram
from kiosk.wire import Ticket

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


def px(base: float, scale: float, least: int = 12) -> int:
    """A pixel size designed at 1366x768, on a window `scale` times that."""
    return max(least, round(base * scale))


class ActionButton(QPushButton):
    """A big button: the action's name, and below it the keys that do the same. Both lines
    shrink to the button's width; disabled, it is grey whatever its kind."""

    def __init__(self, action: Action, kind: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action = action
        self.setObjectName(f"action-{action.value}")
        if kind:
            self.setProperty("kind", kind)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(96)
        lines = QVBoxLayout(self)
        lines.setContentsMargins(10, 4, 10, 4)
        lines.setSpacing(0)
        self.name = FitLabel(34 if kind == "primary" else 28, bold=True, colour="")
        self.keys = FitLabel(26 if kind == "primary" else 22, bold=True, colour="")
        for line in (self.name, self.keys):
            line.setAlignment(Qt.AlignmentFlag.AlignCenter)
            line.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            line.setProperty("role", "onButton")
            lines.addWidget(line)

    def set_caption(self, name: str) -> None:
        self.name.setText(name)
        self.keys.setText(KEY_HINTS[self.action])
        self.setAccessibleName(name)

    def set_scale(self, scale: float, least: int = 64) -> None:
        self.setMinimumHeight(px(96, scale, least))
        margin = px(10, scale, 4)
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(margin, px(4, scale, 2), margin, px(4, scale, 2))
        self.name.set_scale(scale)
        self.keys.set_scale(scale)


class WaitingRow(QWidget):
    """One waiting ticket: place, code, priority (pictogram + word) and the wait so far."""

    def __init__(self, scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(px(10, scale, 4), 2, px(10, scale, 4), 2)
        row.setSpacing(px(8, scale, 4))
        self.scale = scale
        self.place = label()
        self.place.setFixedWidth(px(34, scale))
        self.place.setStyleSheet(f"font-size: {px(26, scale)}px; color: {style.TEXT_MUTED};")
        self.code = label()
        self.code.setStyleSheet(
            f"font-size: {px(36, scale)}px; font-weight: bold; color: {CODE_TEXT};"
        )
        self.picto = Pictogram(px(44, scale))
        self.priority = label()
        # The word must never be cut ("Ưu tiê"): the stretch before the wait gives way instead.
        self.priority.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.priority.setStyleSheet(
            f"font-size: {px(22, scale)}px; font-weight: bold; color: {PRIORITY_TEXT};"
            f"background: {PRIORITY_BG}; border-radius: 6px; padding: 2px 6px;"
        )
        self.wait = label()
        self.wait.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.wait.setStyleSheet(f"font-size: {px(26, scale)}px; color: {style.TEXT};")
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
        return QSize(px(400, self.scale), row_height(self.scale))


def row_height(scale: float) -> int:
    return px(64, scale, 40)


def counter_style_sheet(scale: float = 1.0) -> str:
    """The counter window's style sheet (on top of the application's, kiosk/ui/style.py),
    its sizes for a window `scale` times 1366x768."""
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
QPushButton {{
    font-size: {px(28, scale)}px; min-height: {px(64, scale, 40)}px; padding: 2px 8px;
    border-radius: 12px;
}}
QPushButton QLabel[role="onButton"] {{ color: {style.TEXT}; }}
QPushButton[kind="primary"] QLabel[role="onButton"] {{ color: {style.ON_PRIMARY}; }}
QPushButton[kind="danger"] QLabel[role="onButton"] {{ color: {style.ON_DANGER}; }}
QPushButton[kind="primary"]:disabled, QPushButton[kind="danger"]:disabled {{
    background: {style.DISABLED_BG}; border-color: {style.BORDER};
}}
QLabel[role="onButton"]:disabled,
QPushButton[kind="primary"] QLabel[role="onButton"]:disabled,
QPushButton[kind="danger"] QLabel[role="onButton"]:disabled {{ color: {style.DISABLED_TEXT}; }}
QLabel[role="transferKey"] {{
    font-size: {px(34, scale)}px; font-weight: bold; color: {style.PRIMARY};
}}
QLabel[role="banner"] {{
    background: {style.DANGER}; color: {style.ON_DANGER}; font-size: {px(30, scale)}px;
    font-weight: bold; padding: {px(10, scale, 4)}px {px(20, scale, 8)}px;
}}
QLabel[role="connecting"] {{
    background: {style.NOTICE_BG}; color: {style.NOTICE_TEXT}; font-size: {px(30, scale)}px;
    font-weight: bold; padding: {px(10, scale, 4)}px {px(20, scale, 8)}px;
}}
QLabel[role="message"] {{
    background: {style.NOTICE_BG}; color: {style.NOTICE_TEXT}; font-size: {px(26, scale)}px;
    font-weight: bold; border-radius: 10px;
    padding: {px(8, scale, 4)}px {px(16, scale, 8)}px;
}}
QLabel[role="clock"] {{
    color: {style.ON_HEADER}; font-size: {px(32, scale)}px; font-weight: bold;
}}
QLabel[role="status"] {{ color: {style.ON_HEADER}; font-size: {px(24, scale)}px; }}
QLabel[role="cardTitle"] {{ font-size: {px(28, scale)}px; color: {style.TEXT_MUTED}; }}
QLabel[role="panelTitle"] {{ font-size: {px(30, scale)}px; font-weight: bold; }}
QLabel[role="empty"] {{ font-size: {px(28, scale)}px; color: {style.TEXT_MUTED}; }}
QLabel[role="page"] {{ font-size: {px(28, scale)}px; font-weight: bold; }}
"""


class CounterHeader(QWidget):
    """Department and room, the connection's state and the clock, on the header colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.head = QHBoxLayout(self)
        self.head.setContentsMargins(24, 8, 24, 8)
        self.title = FitLabel(32, bold=True, colour=style.ON_HEADER)
        self.status = label("status")
        self.clock = label("clock")
        self.head.addWidget(self.title, 1)
        self.head.addWidget(self.status)
        self.head.addSpacing(24)
        self.head.addWidget(self.clock)

    def set_scale(self, scale: float) -> None:
        self.head.setContentsMargins(
            px(24, scale, 8), px(8, scale, 4), px(24, scale, 8), px(8, scale, 4)
        )
        self.title.set_scale(scale)


@dataclass(frozen=True)
class CardTexts:
    """What the current-ticket card shows, its words already in the window's language."""

    calling: bool  # a call is on its way, or a patient is called: the card is lit
    title: str
    code: str
    reason: str | None  # the priority group (its pictogram)
    priority: str
    info: str


class CurrentCard(QFrame):
    """The patient called to this room: the code very large, the priority, since when."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Card")
        self.card = QVBoxLayout(self)
        self.card.setContentsMargins(24, 12, 24, 12)
        self.card.setSpacing(4)
        self.title = label("cardTitle")
        self.code = FitLabel(300, min_px=40, bold=True, fill=True, colour=CODE_TEXT)
        self.code.setObjectName("CurrentCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        priority_row = QHBoxLayout()
        priority_row.setSpacing(12)
        self.picto = Pictogram(56)
        self.priority = FitLabel(30, bold=True, colour=PRIORITY_TEXT)
        self.priority.setAlignment(Qt.AlignmentFlag.AlignCenter)
        priority_row.addWidget(self.picto)
        priority_row.addWidget(self.priority, 1)
        self.info = FitLabel(28, wrap=True)
        self.info.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card.addWidget(self.title)
        self.card.addWidget(self.code, 1)
        self.card.addLayout(priority_row)
        self.card.addWidget(self.info)

    def show_texts(self, texts: CardTexts) -> None:
        self.setProperty("calling", texts.calling)
        self.style().unpolish(self)
        self.style().polish(self)
        self.title.setText(texts.title)
        self.code.setText(texts.code)
        self.picto.set_reason(texts.reason)
        self.priority.setText(texts.priority)
        self.priority.setVisible(bool(texts.priority))
        self.info.setText(texts.info)

    def set_scale(self, scale: float) -> None:
        self.card.setContentsMargins(
            px(24, scale, 8), px(12, scale, 4), px(24, scale, 8), px(12, scale, 4)
        )
        self.picto.setFixedSize(px(56, scale, 28), px(56, scale, 28))
        self.code.set_scale(scale)
        for line in (self.priority, self.info):
            line.set_scale(scale)


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
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(10)
        self.scale = 1.0
        self.title = label("panelTitle")
        self.list = QListWidget()
        self.list.setObjectName("WaitingList")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty = label("empty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.call_selected = call_selected
        call_selected.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.counts = FitLabel(22, wrap=True)
        self.counts.setObjectName("TodayCounts")
        self.column.addWidget(self.title)
        self.column.addWidget(self.list, 1)
        self.column.addWidget(self.empty, 1)
        self.column.addWidget(call_selected)
        self.column.addWidget(self.counts)

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self.column.setSpacing(px(10, scale, 4))
        self.call_selected.set_scale(scale)
        self.call_selected.setFixedHeight(px(84, scale, 56))
        self.counts.set_scale(scale)

    def selected_id(self) -> str | None:
        row = self.selected_row()
        item = None if row is None else self.list.item(row)
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def selected_row(self) -> int | None:
        row = self.list.currentRow()
        item = self.list.item(row) if row >= 0 else None
        return row if item is not None and item.isSelected() else None

    def show_entries(
        self, entries: list[WaitingEntry], keep: str | None, title: str, empty: str, counts: str
    ) -> None:
        """Redraw the rows; the row of ticket id `keep` stays selected, and when that ticket
        is gone nothing is (the selection never moves on to another patient by itself)."""
        self.list.blockSignals(True)
        self.list.clear()
        self.list.setCurrentRow(-1)
        for place, entry in enumerate(entries, start=1):
            row = WaitingRow(self.scale)
            row.show_ticket(place, entry.ticket, entry.mark, entry.wait, "")
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, entry.ticket.id)
            item.setSizeHint(QSize(px(300, self.scale), row_height(self.scale)))
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            row.setToolTip(entry.tooltip)
            if keep is not None and keep == entry.ticket.id:
                self.list.setCurrentItem(item)
        if keep is None or self.selected_row() is None:
            self.list.clearSelection()
            self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self.title.setText(title)
        self.list.setVisible(bool(entries))
        self.empty.setVisible(not entries)
        self.empty.setText(empty)
        self.counts.setText(counts)


def action_for_key(key: int, keypad: bool) -> Action | None:
    """The action of a key; keypad keys count only from the keypad (a "+" typed elsewhere
    does not call)."""
    for action, keys in KEYS.items():
        for wanted, on_keypad in keys:
            if key == wanted and (keypad or not on_keypad or wanted == K.Key_Enter):
                return action
    return None


class CounterMain(QWidget):
    """The counter's main page: the current-ticket card, the action buttons and the message
    beside the line on a landscape monitor, above it on a portrait one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body = body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        body.setContentsMargins(20, 16, 20, 16)
        body.setSpacing(20)

        self.left = left = QVBoxLayout()
        left.setSpacing(14)
        self.card = CurrentCard()
        left.addWidget(self.card, 1)

        self.buttons: dict[Action, ActionButton] = {}
        self.button_grid = grid = QGridLayout()
        grid.setSpacing(12)
        self.buttons[Action.CALL_NEXT] = ActionButton(Action.CALL_NEXT, "primary")
        grid.addWidget(self.buttons[Action.CALL_NEXT], 0, 0, 1, 4)
        for column, action in enumerate(
            (Action.RECALL, Action.SERVE, Action.NO_SHOW, Action.TRANSFER)
        ):
            kind = "danger" if action == Action.NO_SHOW else ""
            self.buttons[action] = ActionButton(action, kind)
            grid.addWidget(self.buttons[action], 1, column)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 4)
        left.addLayout(grid)
        self.message = label(wrap=True)
        self.message.setProperty("role", "message")
        left.addWidget(self.message)
        body.addLayout(left, 3)

        self.buttons[Action.CALL_SELECTED] = ActionButton(Action.CALL_SELECTED)
        self.panel = WaitingPanel(self.buttons[Action.CALL_SELECTED])
        body.addWidget(self.panel, 2)

    def set_portrait(self, portrait: bool) -> None:
        if portrait:
            self.body.setDirection(QBoxLayout.Direction.TopToBottom)
            self.body.setStretch(0, 3)
            self.body.setStretch(1, 2)
        else:
            self.body.setDirection(QBoxLayout.Direction.LeftToRight)

    def set_scale(self, scale: float) -> None:
        gap = px(20, scale, 8)
        self.body.setContentsMargins(gap, px(16, scale, 6), gap, px(16, scale, 6))
        self.body.setSpacing(gap)
        self.left.setSpacing(px(14, scale, 6))
        self.button_grid.setSpacing(px(12, scale, 6))
        self.card.set_scale(scale)
        for action, button in self.buttons.items():
            if action != Action.CALL_SELECTED:
                button.set_scale(scale)
        self.panel.set_scale(scale)
