"""What reaches the kiosk window before any widget: the tap guard, the scanner's keys, the idle
timer's restarts and the taps in the staff's hidden corner.

`KioskInput` is the application's event filter while the window lives. Touch and mouse events
of the window's screen pass the tap guard (`kiosk/app/kiosk_flow.py`'s `TapGuard`) once, before
any widget: a ghost tap just after a page changed is swallowed. Keys on the patients' pages are
a USB code scanner's (`kiosk/app/scanner.py` tells its keys from a person's by time); a scanned
code goes to the window's card desk (`kiosk/ui/kiosk_scan.py`).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWindow
from PySide6.QtWidgets import QWidget

from kiosk.app.scanner import KeystrokeScanner

if TYPE_CHECKING:
    from kiosk.ui.kiosk_window import KioskWindow

log = logging.getLogger(__name__)

# Pages whose keys are a scanner's (the staff's PIN and admin pages keep theirs).
SCANNER_PAGES = frozenset({"home", "priority", "scanned_priority", "printing", "ticket", "message"})

PRESSES = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.TouchBegin)
MOVES = (QEvent.Type.MouseMove, QEvent.Type.TouchUpdate)
RELEASES = (QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel)
# The events the filter acts on; every other one (paints, layouts, timers: ~1,500 before the
# first screen is up) passes at once.
WATCHED = frozenset((*PRESSES, *MOVES, *RELEASES, QEvent.Type.KeyPress))


class KioskInput(QObject):
    """The kiosk window's event filter (installed on the application by the window)."""

    def __init__(self, window: KioskWindow) -> None:
        super().__init__(window)
        self._window = weakref.ref(window)  # the window owns its input, not the other way round
        # A USB code scanner types like a keyboard: its keys are told from a person's by time.
        self.scanner = KeystrokeScanner()
        self.scan_clock: Callable[[], float] = time.monotonic

    @property
    def w(self) -> KioskWindow:
        window = self._window()
        assert window is not None, "the window's input outlived the window"
        return window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        window = self._window()
        if window is None:
            return False
        kind = event.type()
        if kind not in WATCHED:
            return False
        if isinstance(watched, QWindow) and watched is window.windowHandle():
            return self.guard_input(kind)
        user_input = kind in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.TouchBegin,
            QEvent.Type.KeyPress,
        )
        ours = isinstance(watched, QWidget) and watched.window() is window
        if (
            kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and ours
            and self.scanner_key(event)
        ):
            self.restart_idle()
            return True
        if user_input and isinstance(watched, QWidget) and ours:
            self.restart_idle()
            window.home.set_attract(False)
            if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
                window.staff.corner_tap(watched.mapTo(window, event.position().toPoint()))
        return False

    def restart_idle(self) -> None:
        window = self.w
        if window.idle_timer.interval() > 0 and window.current_page() != "printing":
            window.idle_timer.start()

    def guard_input(self, kind: QEvent.Type) -> bool:
        """Every touch and mouse event of the window's screen passes here once, before any
        widget: True swallows it (a ghost tap). Keys pass (a USB scanner types)."""
        window = self.w
        if kind in PRESSES:
            counted = window.guard.press(window.monotonic())
            if not counted:
                log.info("tap ignored on %s: the page has just changed", window.current_page())
        elif kind in MOVES:
            counted = window.guard.move()
        elif kind in RELEASES:
            counted = window.guard.release()
        else:
            return False
        return not counted

    def scanner_key(self, event: QKeyEvent) -> bool:
        """Feed a key press to the scanner; True when it is the kiosk's to keep (patients'
        pages have no text field: their keys are a scanner's, or nobody's)."""
        if self.w.current_page() not in SCANNER_PAGES:
            self.scanner.reset()
            return False
        # When the key was pressed (the input system's time): a busy event loop that handles
        # a scanner's keys late must not spread them out. Synthetic keys carry none.
        at = event.timestamp() / 1000 if event.timestamp() else self.scan_clock()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            text = self.scanner.enter(at)
            if text is not None:
                self.w.cards.scan(text)
            return True
        typed = event.text()
        if typed and typed.isprintable():
            self.scanner.key(typed, at)
        return True
