"""A printer that stops issuing is logged at WARNING: `journalctl -u kiosk -p warning` (the
README's advice) must show it; its recovery is INFO."""

from __future__ import annotations

import logging

import pytest

from kiosk.app.backend import KioskBackend
from kiosk.config import Config
from kiosk.queue.service import QueueService
from printer.status import PrinterState
from tests.support.kiosk import FakePrinter


def test_printer_offline_is_a_warning_and_back_is_info(
    service: QueueService, caplog: pytest.LogCaptureFixture
) -> None:
    # Listen on the module's logger itself: a command run earlier in this process may have
    # stopped the kiosk loggers from propagating to the root (setup_logging).
    logger = logging.getLogger("kiosk.app.backend")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="kiosk.app.backend")
    printer = FakePrinter()
    backend = KioskBackend(service, printer, Config())
    backend.printer_health()  # ready at start: nothing to say
    caplog.clear()
    printer.state = PrinterState.OFFLINE
    assert not backend.printer_health().can_issue
    printer.state = PrinterState.READY
    assert backend.printer_health().can_issue
    logger.removeHandler(caplog.handler)
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "kiosk.app.backend"]
    said = list(dict.fromkeys(said))  # once through our handler, maybe again through the root
    assert said == [
        (logging.WARNING, "printer is now offline fake printer: offline"),
        (logging.INFO, "printer is now ready fake printer: ready"),
    ]
