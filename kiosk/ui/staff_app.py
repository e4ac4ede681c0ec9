"""Start the counter or the board as a program (or render it once to a PNG and exit)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCursor

from kiosk.config import Config
from kiosk.ui.board_window import BoardWindow
from kiosk.ui.counter_window import CounterWindow
from kiosk.ui.qapp import create_application, exec_until_interrupted, show_fullscreen
from kiosk.ui.style import apply_style, load_fonts
from kiosk.ui.watchdog import SystemdWatchdog
from server_sync.staff import StaffClient

log = logging.getLogger(__name__)


def _run(window: Any, *, fullscreen: bool, size: tuple[int, int], screenshot: Path | None) -> int:
    app = create_application(offscreen=screenshot is not None)
    if screenshot is not None:
        from kiosk.ui.screenshot import grab, wait_for

        window.start()
        try:
            wait_for(lambda: window.online is not None and not window.worker.busy, 20, "data")
            grab(window, size, screenshot)
        finally:
            window.shutdown()
        return 0
    app.setQuitOnLastWindowClosed(True)
    if fullscreen:
        app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
        show_fullscreen(window)
    else:
        window.resize(*size)
        window.show()
    window.start()
    watchdog = SystemdWatchdog(window)
    watchdog.start()
    code = exec_until_interrupted(app)
    watchdog.stop()
    window.shutdown()
    return code


def run_counter(
    config: Config,
    client: object,
    *,
    department: str,
    room: str,
    language: str | None = None,
    screenshot: Path | None = None,
    size: tuple[int, int] = (1366, 768),
) -> int:
    assert isinstance(client, StaffClient)
    app = create_application(offscreen=screenshot is not None)
    family = load_fonts()
    apply_style(app, family)
    window = CounterWindow(
        config, client, department=department, room=room, family=family, language=language
    )
    log.info("counter %s/%s on %s", department, room, config.server.url)
    return _run(window, fullscreen=False, size=size, screenshot=screenshot)


def run_board(
    config: Config,
    client: object,
    *,
    departments: Sequence[str] = (),
    fullscreen: bool = True,
    screenshot: Path | None = None,
    size: tuple[int, int] = (1920, 1080),
) -> int:
    assert isinstance(client, StaffClient)
    app = create_application(offscreen=screenshot is not None)
    family = load_fonts()
    apply_style(app, family)
    window = BoardWindow(config, client, family=family, departments=departments)
    log.info("board of %s on %s", ", ".join(departments) or "all departments", config.server.url)
    return _run(window, fullscreen=fullscreen, size=size, screenshot=screenshot)
