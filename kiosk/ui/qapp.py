"""The one QApplication of a process (kiosk, counter, board or the demo's three windows)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QSocketNotifier
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

# The exit status of a process ended by Ctrl-C (128 + SIGINT), as the command line returns it.
EXIT_INTERRUPTED = 128 + signal.SIGINT


def create_application(*, offscreen: bool = False) -> QApplication:
    """The one QApplication (an existing one is reused, e.g. under pytest-qt)."""
    if offscreen:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    existing = QCoreApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("hospital-queue-kiosk")
    app.setQuitOnLastWindowClosed(False)  # only the admin panel's exit ends the kiosk
    return app


def show_fullscreen(window: QWidget) -> None:
    """Fullscreen on the screen it is on, with or without a window manager: without one (a
    bare X server) the fullscreen request is nobody's to honour and the window kept its
    size hint (1280x275), so it is first given the screen's whole geometry itself."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        window.setGeometry(screen.geometry())
        screen.geometryChanged.connect(window.setGeometry)
    window.showFullScreen()


def exec_until_interrupted(app: QCoreApplication, started: Callable[[], None] | None = None) -> int:
    """`app.exec()`, ended cleanly by Ctrl-C (SIGINT): the exit status is then 130.

    While Qt's loop runs, Python's own SIGINT handler only runs when some Python code does
    (and then raises KeyboardInterrupt inside whatever Qt callback that is, where PySide
    prints it and carries on), so Ctrl-C did nothing. Here the signal wakes the loop through
    a socket (signal.set_wakeup_fd) and the handler ends the loop; the caller's
    clean-up after exec() runs as after any other exit. `started` runs once Ctrl-C is
    handled so (it may say the program is running); a Ctrl-C from then on ends the loop even
    before it has begun.
    """
    if threading.current_thread() is not threading.main_thread():
        if started is not None:
            started()
        return int(app.exec())
    interrupted: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        interrupted.append(signum)
        log.warning("interrupted (signal %d): closing", signum)
        # exit(), not quit(): Qt 6's quit() first asks every window to close, and the kiosk's
        # refuses (only staff may close it).
        app.exit(EXIT_INTERRUPTED)

    receiver, sender = socket.socketpair()
    receiver.setblocking(False)
    sender.setblocking(False)
    notifier = QSocketNotifier(receiver.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        # Python has already queued its handler for the next bytecode: running this is enough.
        with contextlib.suppress(OSError):
            receiver.recv(64)

    notifier.activated.connect(drain)
    previous_handler = signal.signal(signal.SIGINT, on_signal)
    previous_fd = signal.set_wakeup_fd(sender.fileno())
    try:
        if started is not None:
            started()
        code = EXIT_INTERRUPTED if interrupted else int(app.exec())
    finally:
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGINT, previous_handler)
        notifier.setEnabled(False)
        notifier.deleteLater()
        receiver.close()
        sender.close()
    return EXIT_INTERRUPTED if interrupted else code
