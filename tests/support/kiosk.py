"""The kiosk's test parts without Qt: a fake printer at the lowest layer, the config with its
staff PIN, a monotonic clock moved by hand.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from kiosk.app.pin import hash_pin
from kiosk.config import Config, parse_config
from printer.errors import PrintFailed
from printer.status import PrinterState, PrinterStatus

PIN = "2468"


class FakePrinter:
    """Stands where printer.output.TicketPrinter stands; the test decides its answers."""

    def __init__(self) -> None:
        self.state = PrinterState.READY
        self.fail = False
        self.printed: list[Any] = []
        self.gate: threading.Event | None = None  # set: printing waits until the test opens it

    def status(self) -> PrinterStatus:
        return PrinterStatus(self.state, f"fake printer: {self.state}")

    def print_ticket(self, image: Any, content: Any) -> None:
        if self.gate is not None and not self.gate.wait(10):
            raise AssertionError("the test never let the print finish")
        if self.fail:
            raise PrintFailed("fake printer: paper jam while printing")
        self.printed.append(content)


def seeded_kiosk_store(directory: Path) -> tuple[str, Path]:
    """A seeded kiosk database and a config file with no printer, for a real `kiosk run`
    process: (database URL, config path)."""
    from kiosk.queue.db import open_database
    from tests.support.database import seed

    database = f"sqlite:///{directory / 'kiosk.db'}"
    engine = open_database(database)
    seed(engine)
    engine.dispose()
    config = directory / "kiosk.toml"
    config.write_text('[printer]\nconnection = "none"\n', encoding="utf-8")
    return database, config


def make_config(**kiosk: Any) -> Config:
    # A cheap hash: the tests check the flow, test_pin checks the real iteration count.
    settings = {"admin_pin_hash": hash_pin(PIN, iterations=1000), **kiosk}
    return parse_config({"kiosk": settings})


class FakeMonotonic:
    """The kiosk window's monotonic clock (tap guard, countdown, admin taps), moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
