"""The one QApplication of a process (kiosk, counter, board or the demo's three windows)."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget


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
