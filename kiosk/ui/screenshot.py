"""`--screenshot`: draw a window offscreen at a given size and save it as a PNG."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger("kiosk.ui")


def grab(window: QWidget, size: tuple[int, int], path: Path) -> Path:
    app = QApplication.instance()
    assert app is not None
    window.resize(*size)
    window.show()
    # A few turns of the event loop: layouts settle and fonts are measured before the grab.
    for _ in range(3):
        app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    log.info("screenshot %dx%d written to %s", *size, path)
    return path
