"""Fixtures for the kiosk screen: a fake printer at the lowest layer, a window with tiny timings."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kiosk.app.pin import hash_pin
from kiosk.config import Config, parse_config
from kiosk.queue.service import QueueService
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


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The screen tests run on SQLite only (the queue tests cover PostgreSQL)."""
    return sqlite_url


@pytest.fixture
def fake_printer() -> FakePrinter:
    return FakePrinter()


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


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def make_window(
    qtbot: Any,
    service: QueueService,
    fake_printer: FakePrinter,
    clock: Any,
    monotonic: FakeMonotonic,
) -> Iterator[Callable[..., Any]]:
    from kiosk.app.backend import KioskBackend
    from kiosk.app.kiosk_flow import KioskTimings
    from kiosk.ui.i18n import Translations
    from kiosk.ui.kiosk_window import KioskWindow
    from kiosk.ui.style import apply_style, load_fonts

    windows: list[KioskWindow] = []

    def make(
        config: Config | None = None, size: tuple[int, int] = (1080, 1920), **timing: Any
    ) -> KioskWindow:
        config = config or make_config()
        defaults: dict[str, Any] = {
            "idle_ms": 600_000,
            "cooldown_ms": 0,
            "result_ms": 600_000,
            "message_ms": 600_000,
            "printer_poll_ms": 600_000,
            "refresh_ms": 600_000,
        }
        defaults.update(timing)
        family = load_fonts()
        apply_style(qtbot_app(), family)
        window = KioskWindow(
            config,
            KioskBackend(service, fake_printer, config),
            family=family,
            translations=Translations(),
            timings=KioskTimings(**defaults),
            monotonic=monotonic,
            now=lambda: clock().astimezone(config.hospital.tz),
        )
        windows.append(window)
        window.resize(*size)
        with qtbot.waitSignal(window.departments_changed, timeout=5000):
            window.show()
            window.start()
        qtbot.waitUntil(lambda: not window.worker.busy, timeout=5000)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.close()
        window.deleteLater()


def qtbot_app() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
