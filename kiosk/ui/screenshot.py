"""`--screenshot`: draw a window offscreen at a given size and save it as a PNG.

`wait_for` runs the event loop until a scripted screen has its data (screenshots only; tests
wait with qtbot).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.errors import OutputNotWritten

log = logging.getLogger(__name__)


def grab(window: QWidget, size: tuple[int, int], path: Path) -> Path:
    app = QApplication.instance()
    assert app is not None
    window.resize(*size)
    window.show()
    # A few turns of the event loop: layouts settle and fonts are measured before the grab.
    for _ in range(3):
        app.processEvents()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritten(path, exc.strerror or str(exc)) from None
    if not window.grab().save(str(path)):
        raise OutputNotWritten(
            path, "the image could not be saved there (a PNG path we may write?)"
        )
    log.info("screenshot %dx%d written to %s", *size, path)
    return path


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop until `predicate()` holds (scripted screenshots)."""
    app = QApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)
