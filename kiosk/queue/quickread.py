"""What the kiosk's first screen reads, through the standard library's `sqlite3` alone.

Importing SQLAlchemy, the models and the queue service takes longer than painting the whole
department grid; `kiosk run` therefore opens the store read-only here (`file:...?mode=ro`, the
same WAL file the service writes), checks that its schema is Alembic's head, and reads the
departments with their live counts, so the grid is painted before the engine is even imported.
The service is opened right after that first paint and answers every later read.

`departments()` gives exactly what `QueueService.departments()` gives on the same store (a test
compares them after issuing, calling, serving, cancelling, pausing and the end of day): the
same wire model, the same counts, the same estimate. No SQLAlchemy, no Qt here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from kiosk.queue.records import RECENT_SERVED as RECENT_SERVED
from kiosk.queue.records import estimate_minutes, mean_service_minutes
from kiosk.wire import Department, TicketStatus

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# A read never waits long for a writer's checkpoint: the first screen falls back instead.
READ_TIMEOUT_S = 5.0

_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def _head_from_files() -> str | None:
    """The revision no migration file revises (the chain is linear), read from the files."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((name, value) for name, value in _REVISION.findall(path.read_text("utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if "down_revision" in found:
                revised.add(found["down_revision"])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


# Alembic's head, without loading Alembic (a test pins the two together).
HEAD_REVISION = _head_from_files()


def sqlite_file_of(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL; None for anything else (another database,
    in memory, a URL with query options or escapes), which only SQLAlchemy reads right."""
    database = url.removeprefix("sqlite:///")
    if database in (url, "", ":memory:") or any(c in database for c in "?%#"):
        return None
    return Path(database)


class StoreNotReady(Exception):
    """The store cannot be read this way (missing, new, behind Alembic's head, unreadable):
    the caller opens it the full way, which creates, migrates or reports it."""


class QuickReader:
    """The departments with their live counts, read-only, for the first screen."""

    def __init__(
        self,
        path: Path,
        *,
        timezone: str | ZoneInfo,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.path = path
        self.tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.clock = clock

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        timezone: str | ZoneInfo,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> QuickReader:
        """The reader, once the store at `path` is readable and at Alembic's head (the fast
        schema check); StoreNotReady otherwise."""
        reader = cls(path, timezone=timezone, clock=clock)
        if not path.is_file():
            raise StoreNotReady(f"no store at {path}")
        try:
            with reader._connect() as connection:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
                rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error as exc:
            raise StoreNotReady(f"{path}: {' '.join(str(exc).split())}") from None
        if HEAD_REVISION is None or [row[0] for row in rows] != [HEAD_REVISION]:
            raise StoreNotReady(f"{path}: schema {rows} is not at {HEAD_REVISION}")
        return reader

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=READ_TIMEOUT_S, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()

    def service_date(self) -> dt.date:
        """The hospital's local date, as the service computes it."""
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return now.astimezone(self.tz).date()

    def departments(self) -> list[Department]:
        """Every active department with its live counts, in display order (one read
        transaction, so the counts are of one moment)."""
        today = self.service_date().isoformat()
        with self._connect() as connection:
            connection.execute("BEGIN")
            try:
                return self._departments(connection, today)
            finally:
                connection.execute("COMMIT")

    def _departments(self, connection: sqlite3.Connection, today: str) -> list[Department]:
        rooms: dict[str, list[tuple[str, str, str]]] = {}
        for department, code, name_vi, name_en in connection.execute(
            "SELECT department_code, code, name_vi, name_en FROM rooms "
            "WHERE active = 1 ORDER BY department_code, code"
        ):
            rooms.setdefault(department, []).append((code, name_vi, name_en))
        counts: dict[str, dict[str, int]] = {}
        for department, status, total, numbered in connection.execute(
            "SELECT department_code, status, count(*), count(number) FROM tickets "
            "WHERE service_date = ? GROUP BY department_code, status",
            (today,),
        ):
            found = counts.setdefault(department, {"issued": 0})
            found[status] = total
            found["issued"] += numbered
        result = []
        for row in connection.execute(
            "SELECT code, name_vi, name_en, prefix, color, avg_service_minutes, daily_capacity, "
            "paused, hospital_paused, hospital_pause_reason, directions_vi, directions_en "
            "FROM departments WHERE active = 1 ORDER BY sort_order, code"
        ):
            (code, name_vi, name_en, prefix, color, average, capacity, paused, hospital_paused,
             reason, directions_vi, directions_en) = row  # fmt: skip
            own_rooms = rooms.get(code, [])
            count = counts.get(code, {"issued": 0})
            waiting = count.get(TicketStatus.WAITING, 0)
            issued = count["issued"]
            unavailable: Literal["paused", "full"] | None = None
            if paused or hospital_paused:
                unavailable = "paused"
            elif capacity is not None and issued >= capacity:
                unavailable = "full"
            estimate = 0
            if waiting > 0:
                minutes = self._average_minutes(connection, code, today, float(average))
                estimate = estimate_minutes(waiting, minutes, len(own_rooms))
            # model_construct: every value is of its field's type already (the columns' types
            # and the conversions above; a test keeps the result equal to the queue service's),
            # and building Department's validator is not the first screen's work.
            result.append(
                Department.model_construct(
                    code=code,
                    name_vi=name_vi,
                    name_en=name_en,
                    prefix=prefix,
                    color=color,
                    rooms=[room[0] for room in own_rooms],
                    directions_vi=directions_vi,
                    directions_en=directions_en,
                    daily_capacity=capacity,
                    issued_today=issued,
                    waiting=waiting,
                    serving=count.get(TicketStatus.CALLED, 0),
                    estimated_wait_minutes=estimate,
                    unavailable=unavailable,
                    hospital_paused=bool(hospital_paused),
                    pause_reason=reason if hospital_paused else "",
                    paused_here=bool(paused),
                    room_names_vi={room[0]: room[1] for room in own_rooms},
                    room_names_en={room[0]: room[2] for room in own_rooms},
                )
            )
        return result

    @staticmethod
    def _average_minutes(
        connection: sqlite3.Connection, department: str, today: str, configured: float
    ) -> float:
        """Mean service time of today's latest served tickets, else the configured average."""
        rows = connection.execute(
            "SELECT last_called_at, finished_at FROM tickets "
            "WHERE department_code = ? AND service_date = ? AND status = ? "
            "AND last_called_at IS NOT NULL AND finished_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT ?",
            (department, today, TicketStatus.SERVED.value, RECENT_SERVED),
        ).fetchall()
        served = [
            (dt.datetime.fromisoformat(called), dt.datetime.fromisoformat(finished))
            for called, finished in rows
        ]
        return mean_service_minutes(served, configured)
