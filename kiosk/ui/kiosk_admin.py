"""The kiosk's staff pages: the PIN pad and the admin panel (printer, sync, reprint, pause)."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QCoreApplication,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.backend import (
    READY,
    PrinterHealth,
    SyncInfo,
)
from kiosk.app.pin import verify_pin
from kiosk.ui import style
from kiosk.ui.kiosk_pages import Page, label, printer_state_label
from kiosk.ui.widgets import (
    BigButton,
)
from kiosk.wire import Department as DepartmentStatus

if TYPE_CHECKING:
    from kiosk.ui.kiosk_window import KioskWindow

log = logging.getLogger(__name__)

ADMIN_CORNER_PX = 140  # taps in this square, top left, open the PIN pad

translate = QCoreApplication.translate


class PinPage(Page):
    """Staff PIN entry: a big keypad; five wrong PINs lock it for minutes."""

    name = "pin"
    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("staff", True)
        # Portrait: the texts above the keypad; landscape: beside it (five rows of keys under
        # the texts do not fit 768 px).
        self.main = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self.main.setContentsMargins(48, 32, 48, 32)
        self.main.setSpacing(32)
        self.entered = ""
        self.title = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.dots = label("pin", wrap=False, align=Qt.AlignmentFlag.AlignCenter)
        self.message = label("notice", align=Qt.AlignmentFlag.AlignCenter)
        self.message.hide()
        texts = QVBoxLayout()
        texts.setSpacing(20)
        texts.addStretch(1)
        texts.addWidget(self.title)
        texts.addWidget(self.dots)
        texts.addWidget(self.message)
        texts.addStretch(1)
        self.main.addLayout(texts, 1)
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
        self.cancel = BigButton()
        self.cancel.clicked.connect(self.cancelled.emit)
        keys.addWidget(self.cancel, 4, 0, 1, 3)
        for button in (*self.keys.values(), self.clear, self.enter, self.cancel):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.main.addLayout(keys, 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        landscape = self.width() > self.height()
        self.main.setDirection(
            QBoxLayout.Direction.LeftToRight if landscape else QBoxLayout.Direction.TopToBottom
        )
        super().resizeEvent(event)

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
        self.setProperty("staff", True)
        self.column = column = QVBoxLayout(self)
        column.setContentsMargins(24, 24, 24, 24)
        column.setSpacing(12)
        self.title = label("title")
        self.printer = label("body")
        self.sync = label("body")
        self.result = label("notice")
        self.result.hide()
        # The four actions: one row in landscape, two in portrait (see resizeEvent).
        self.action_grid = QGridLayout()
        self.action_columns = 0
        self.action_grid.setSpacing(style.GAP_PX)
        self.test_button = BigButton()
        self.test_button.clicked.connect(self.test_print.emit)
        self.reprint_button = BigButton()
        self.reprint_button.clicked.connect(self.reprint.emit)
        self.departments_title = label("title")
        self.list = QWidget()
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setSpacing(12)
        # Everything but the actions scrolls as one page: on a 768 px screen the printer and
        # sync lines, a result and the departments do not all fit, and a list squeezed to one
        # row under them would be no use.
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(12)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.close_button = BigButton(kind="primary")
        self.close_button.clicked.connect(self.close_panel.emit)
        self.exit_button = BigButton(kind="danger")
        self.exit_button.clicked.connect(self.exit_kiosk.emit)
        for widget in (
            self.title,
            self.printer,
            self.sync,
            self.result,
            self.departments_title,
            self.list,
        ):
            inner.addWidget(widget)
        column.addWidget(scroll, 1)
        column.addLayout(self.action_grid)
        self.departments: list[DepartmentStatus] = []
        self.health: PrinterHealth = READY
        self.sync_info: SyncInfo | None = None
        self.language = "vi"
        self.pause_buttons: dict[str, BigButton] = {}

    def _action_buttons(self) -> tuple[BigButton, ...]:
        return (self.test_button, self.reprint_button, self.close_button, self.exit_button)

    def _place_actions(self) -> None:
        """The four actions in as many columns (4, 2 or 1) as their texts fit side by side."""
        buttons = self._action_buttons()
        widest = max(b.sizeHint().width() for b in buttons)
        margins = self.column.contentsMargins()
        room = self.contentsRect().width() - margins.left() - margins.right()
        columns = next((n for n in (4, 2) if n * widest + (n - 1) * style.GAP_PX <= room), 1)
        if columns == self.action_columns:
            return
        self.action_columns = columns
        for button in buttons:
            self.action_grid.removeWidget(button)
        for index, button in enumerate(buttons):
            self.action_grid.addWidget(button, *divmod(index, columns))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_actions()
        super().resizeEvent(event)

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
            # This kiosk's own pause: the hospital's (from the console) is not this panel's.
            paused = department.paused_here
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
            paused = department.paused_here
            if name is not None:
                if department.hospital_paused:
                    state = translate("Kiosk", "paused by the hospital")
                    if department.pause_reason:
                        state += f": {department.pause_reason}"
                    if paused:
                        state += " · " + translate("Kiosk", "paused here")
                elif paused:
                    state = translate("Kiosk", "paused")
                else:
                    state = translate("Kiosk", "taking numbers")
                name.setText(f"{department.prefix} · {department.name(self.language)} — {state}")
            button = self.pause_buttons[department.code]
            button.setText(translate("Kiosk", "Resume") if paused else translate("Kiosk", "Pause"))
            # As wide as the longer of its two texts, in the window's (scaled) type.
            button.ensurePolished()
            metrics = QFontMetrics(button.font())
            texts = (translate("Kiosk", "Resume"), translate("Kiosk", "Pause"))
            frame = button.sizeHint().width() - metrics.horizontalAdvance(button.text())
            button.setFixedWidth(max(metrics.horizontalAdvance(t) for t in texts) + frame)
        self.close_button.setText(translate("Kiosk", "Close"))
        self.exit_button.setText(translate("Kiosk", "Exit the kiosk program"))
        self._place_actions()


class StaffDesk:
    """The staff's side of the kiosk window: taps in the hidden corner, the PIN (with its
    lockout) and the admin panel's actions, each on the window's worker."""

    def __init__(self, window: KioskWindow) -> None:
        self.w = weakref.proxy(window)  # the window owns the desk, not the other way round
        self.taps: list[float] = []

    def corner_tap(self, point: QPoint) -> None:
        if point.x() > ADMIN_CORNER_PX or point.y() > ADMIN_CORNER_PX:
            self.taps.clear()
            return
        now = self.w.monotonic()
        window = self.w.timings.admin_tap_window_s
        self.taps = [t for t in self.taps if now - t <= window] + [now]
        if len(self.taps) >= self.w.timings.admin_taps:
            self.taps.clear()
            self.open_pin()

    def open_pin(self) -> None:
        if self.w.busy or self.w.current_page() in ("printing", "pin", "admin"):
            return
        log.info("admin PIN requested")
        self.w.pin.reset(self._pin_status())
        self.w.show_page(self.w.pin)

    def _pin_status(self) -> str:
        if not self.w.config.kiosk.admin_pin_hash:
            return translate("Kiosk", "No admin PIN is set. Set one with: kiosk set-pin")
        if self.w.lockout.locked():
            minutes = max(1, round(self.w.lockout.remaining_seconds() / 60))
            return translate("Kiosk", "Too many wrong PINs. Try again in {minutes} min.").format(
                minutes=minutes
            )
        return ""

    def check_pin(self, entered: str) -> None:
        stored = self.w.config.kiosk.admin_pin_hash
        if not stored or self.w.lockout.locked():
            self.w.pin.reset(self._pin_status())
            self.w.admin_result.emit("locked" if stored else "no_pin")
            return
        self.w.worker.submit(
            lambda: verify_pin(entered, stored), self._pin_checked, self.w._log_error, name="pin"
        )

    def _pin_checked(self, ok: bool) -> None:
        if ok:
            self.w.lockout.record_success()
            log.warning("admin panel opened")
            self.open_admin()
            self.w.admin_result.emit("ok")
            return
        self.w.lockout.record_failure()
        log.warning("wrong admin PIN (%d in a row)", self.w.lockout.failures)
        if self.w.lockout.locked():
            self.w.pin.reset(self._pin_status())
            self.w.admin_result.emit("locked")
        else:
            left = self.w.lockout.max_attempts - self.w.lockout.failures
            self.w.pin.reset(translate("Kiosk", "Wrong PIN. {left} tries left.").format(left=left))
            self.w.admin_result.emit("wrong")

    def open_admin(self) -> None:
        self.w.admin.show_result("")
        self.w.admin.set_departments(self.w.departments)
        self.w.show_page(self.w.admin)
        self.w.poll_printer()
        self.w.worker.submit(
            self.w.backend.sync_info, self._apply_sync, self.w._log_error, name="sync"
        )

    def _apply_sync(self, info: SyncInfo) -> None:
        self.w.admin.sync_info = info
        self.w.admin.retranslate()

    def _admin_job(self, job: Callable[[], Any], done: Callable[[Any], str], name: str) -> None:
        def on_done(result: Any) -> None:
            text = done(result)
            self.w.admin.show_result(text)
            self.w.admin_result.emit(name)

        def on_error(error: BaseException) -> None:
            log.error("%s failed", name, exc_info=error)
            self.w.admin.show_result(
                translate("Kiosk", "Failed: {error}").format(
                    error=str(error) or type(error).__name__
                )
            )
            self.w.admin_result.emit(f"{name}_failed")
            self.w.poll_printer()

        self.w.worker.submit(job, on_done, on_error, name=name)

    def test_print(self) -> None:
        self._admin_job(
            self.w.backend.test_print,
            lambda _: translate("Kiosk", "A test ticket was sent to the printer."),
            "test_print",
        )

    def reprint(self) -> None:
        def done(code: Any) -> str:
            if code is None:
                return translate("Kiosk", "No ticket has been printed yet.")
            return translate("Kiosk", "Ticket {code} was printed again.").format(code=code)

        self._admin_job(self.w.backend.reprint_last, done, "reprint")

    def set_paused(self, code: str, paused: bool) -> None:
        def done(departments: list[DepartmentStatus]) -> str:
            self.w.flow.set_departments(departments)
            self.w.home.show_departments(departments, self.w.language)
            self.w.admin.set_departments(departments)
            self.w.update_home()
            self.w.departments_changed.emit()
            return ""

        self._admin_job(lambda: self.w.backend.set_paused(code, paused), done, "pause")
