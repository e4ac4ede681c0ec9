"""The one QApplication of a process (kiosk, counter, board or the demo's three windows)."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication


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
