"""Fixtures for the screens: a fake printer at the lowest layer, a kiosk window with tiny timings,
and a real central server (seeded, devices registered) for the counter, board and demo tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.devices import add_device
from server_sync.server.embedded import EmbeddedServer
from tests.support.database import seed
from tests.support.hospital import Hospital, staff_config
from tests.support.kiosk import FakeMonotonic, FakePrinter, make_config
from tests.support.kiosk_screen import qtbot_app


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The screen tests run on SQLite only (the queue tests cover PostgreSQL)."""
    return sqlite_url


@pytest.fixture
def fake_printer() -> FakePrinter:
    return FakePrinter()


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
        with qtbot.waitSignal(window.departments_changed, timeout=30_000):
            window.show()
            window.start()
        qtbot.waitUntil(lambda: not window.worker.busy, timeout=30_000)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.close()
        window.deleteLater()


@pytest.fixture
def hospital(tmp_path: Path) -> Iterator[Hospital]:
    """A real central server on 127.0.0.1 (for the counter, board and demo tests)."""
    engine = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    kiosk_engine = open_database(f"sqlite:///{tmp_path / 'kiosk.db'}")
    seed(engine)
    seed(kiosk_engine)
    tokens = {
        role: add_device(engine, "kiosk-hall-1" if role == "kiosk" else f"{role}-1", role)
        for role in ("kiosk", "counter", "board")
    }
    server = EmbeddedServer()
    config = staff_config(server.url, tmp_path, tokens["kiosk"])
    server.factory = lambda: create_app(engine, config)
    server.start()
    yield Hospital(server, engine, kiosk_engine, config, tokens)
    server.stop()
    engine.dispose()
    kiosk_engine.dispose()
