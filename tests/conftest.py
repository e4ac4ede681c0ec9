"""Shared fixtures: databases (SQLite and a real PostgreSQL), clocks, seeded services."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kiosk.queue.db import open_database
from kiosk.queue.seeds import apply_seeds, parse_seeds
from kiosk.queue.service import QueueService

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "seeds" / "provincial-general-hospital.toml"
POSTGRES_ENV = "KIOSK_TEST_POSTGRES_URL"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)


class FakeClock:
    """A clock the test moves by hand (aware UTC)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    # 09:00 in Hanoi on a Saturday morning.
    return FakeClock(dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC))


def postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_ENV} is not set in CI: the PostgreSQL runs must not skip")
    return url


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


def seed(engine: Engine) -> None:
    import tomllib

    from sqlalchemy.orm import Session

    seeds = parse_seeds(tomllib.loads(SEED_FILE.read_text(encoding="utf-8")), str(SEED_FILE))
    with Session(engine) as session, session.begin():
        apply_seeds(session, seeds)


@pytest.fixture
def service(engine: Engine, clock: FakeClock) -> QueueService:
    seed(engine)
    return QueueService(engine, origin="kiosk-test", clock=clock)
