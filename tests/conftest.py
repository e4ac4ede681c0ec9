"""Shared fixtures: databases (SQLite and a real PostgreSQL), clocks, seeded services, and a real
central server on 127.0.0.1 with device tokens (server, sync and console tests).

Fixtures only: the plain helpers they use are in tests/support/.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.database import POSTGRES_ENV, FakeClock, postgres_admin_url, seed
from tests.support.server import ROLES, Api, LiveServer, device_name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def clock() -> FakeClock:
    # 09:00 in Hanoi on a Saturday morning.
    return FakeClock(dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema on the test server, dropped afterwards."""
    base = postgres_admin_url()
    if not base:
        pytest.skip(f"no PostgreSQL: set {POSTGRES_ENV} (.ci/run does) to run these on it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'queue.db'}"


@pytest.fixture
def seeded_store(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """A kiosk's SQLite store file with the example hospital, and its engine."""
    path = tmp_path / "kiosk.db"
    engine = open_database(f"sqlite:///{path}")
    seed(engine)
    yield path, engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on the real PostgreSQL server."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def service(engine: Engine, clock: FakeClock) -> QueueService:
    seed(engine)
    return QueueService(engine, origin="kiosk-test", clock=clock)


# -- a real central server (server, sync and console tests) ------------------------------


@pytest.fixture
def server_config() -> Config:
    return Config()


@pytest.fixture
def server_engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def tokens(server_engine: Engine) -> dict[str, str]:
    return {role: add_device(server_engine, device_name(role), role) for role in ROLES}


@pytest.fixture
def make_server(
    server_engine: Engine, server_config: Config
) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def make(engine: Engine | None = None, start: bool = True) -> LiveServer:
        live = LiveServer(create_app(engine or server_engine, server_config))
        servers.append(live)
        return live.start() if start else live

    yield make
    for live in servers:
        live.stop()


@pytest.fixture
def live(make_server: Callable[..., LiveServer], tokens: dict[str, str]) -> LiveServer:
    return make_server()


@pytest.fixture
def api(live: LiveServer, tokens: dict[str, str]) -> Callable[[str | None], Api]:
    def make(role: str | None) -> Api:
        return Api(live.url, tokens[role] if role else None)

    return make


@pytest.fixture
def kiosk_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'kiosk.db'}")
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def kiosk_service(kiosk_engine: Engine) -> QueueService:
    return QueueService(kiosk_engine, origin="kiosk-hall-1")


@pytest.fixture
def server_service(server_engine: Engine) -> QueueService:
    """Issues tickets straight into the server's database (as if pushed by a kiosk)."""
    return QueueService(server_engine, origin="kiosk-direct")
