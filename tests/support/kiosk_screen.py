"""Taps on the kiosk screen as a patient makes them: after the page's tap guard, on what is
shown and enabled.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QWidget

from kiosk.ui.kiosk_window import KioskWindow


def qtbot_app() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


LEFT = Qt.MouseButton.LeftButton


def settle(widget: QWidget) -> None:
    """Let the page under `widget` be shown for its tap guard (the patient looks, then taps)."""
    window = widget.window()
    if isinstance(window, KioskWindow):
        window.monotonic.advance(window.guard_remaining() + 0.01)


def click(qtbot: Any, widget: QWidget, **kwargs: Any) -> None:
    settle(widget)
    qtbot.mouseClick(widget, LEFT, **kwargs)


def tap(qtbot: Any, widget: QAbstractButton) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    click(qtbot, widget)
