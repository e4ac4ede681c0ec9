"""A real central server on 127.0.0.1 for the counter, board and demo tests.

Imported by those test modules (`from tests.ui.server_fixtures import ...`); the kiosk screen's
tests, which need no server, don't load it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kiosk.config import Config, parse_config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.devices import add_device
from server_sync.server.embedded import EmbeddedServer
from server_sync.staff import StaffClient
from tests.conftest import seed


@dataclass
class Hospital:
    """The server (seeded, devices registered) and a kiosk database beside it."""

    server: EmbeddedServer
    engine: Engine
    kiosk_engine: Engine
    config: Config
    tokens: dict[str, str]

    def client(self, role: str) -> StaffClient:
        return StaffClient(self.server.url, self.tokens[role], timeout=5.0)

    def server_service(self) -> QueueService:
        """Issues straight into the server's database (as if pushed by a kiosk)."""
        return QueueService(self.engine, origin="kiosk-direct")

    def kiosk_service(self) -> QueueService:
        return QueueService.from_config(self.kiosk_engine, self.config)


def staff_config(url: str, tmp_path: Path, token: str, **sections: dict[str, object]) -> Config:
    token_file = tmp_path / "kiosk.token"
    token_file.write_text(token, encoding="utf-8")
    data: dict[str, object] = {
        "kiosk": {"id": "kiosk-hall-1"},
        "server": {"url": url, "token_file": str(token_file), "timeout_seconds": 5},
        **sections,
    }
    return parse_config(data)


@pytest.fixture
def hospital(tmp_path: Path) -> Iterator[Hospital]:
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
