"""Feed systemd's watchdog from the Qt event loop: a frozen screen stops the pings and
systemd restarts the kiosk (`WatchdogSec=` in kiosk.service)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from kiosk import systemd

log = logging.getLogger(__name__)


class SystemdWatchdog(QObject):
    """Says READY=1 once the first screen is up, then WATCHDOG=1 from a GUI-thread timer."""

    def __init__(self, parent: QObject | None = None, interval: float | None = None) -> None:
        super().__init__(parent)
        self._interval = interval if interval is not None else systemd.watchdog_interval()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._ping)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        systemd.notify("READY=1")
        if self._interval:
            log.info("feeding the systemd watchdog every %.1f s", self._interval)
            self._timer.start(max(100, int(self._interval * 1000)))

    def stop(self) -> None:
        self._timer.stop()
        systemd.notify("STOPPING=1")

    def _ping(self) -> None:
        systemd.notify("WATCHDOG=1")
