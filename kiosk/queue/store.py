"""The kiosk's own store: opening it safely, its integrity, and restoring it from a backup.

A kiosk's counters (ticket numbers per department and day, event `seq`) must never fall behind
what the central server already holds for its origin, or it would hand out numbers patients
already hold. A store that may be behind — restored from a backup, or created empty for a
kiosk id the server may know — is put on hold: it issues nothing until it has fetched the
server's high-water marks and moved its counters past them (`move_counters_past`). No HTTP
here: the sync client fetches the marks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kiosk.queue.db import DatabaseError, make_engine, migrate, open_engine, schema_is_current
from kiosk.queue.models import Event, LocalFlag, Sequence
from kiosk.queue.records import HOLD_FLAG as HOLD_FLAG
from kiosk.queue.records import Hold as Hold
from kiosk.queue.records import hold_of as hold_of
from kiosk.queue.records import number_counter as number_counter
from kiosk.queue.records import seq_counter as seq_counter

log = logging.getLogger(__name__)

RESTORE_HINT = "kiosk restore BACKUP (the newest file written by kiosk backup)"


def issuing_hold(session: Session) -> Hold | None:
    flag = session.get(LocalFlag, HOLD_FLAG)
    if flag is None:
        return None
    return hold_of(flag.value, flag.set_at)


def set_hold(session: Session, reason: str, offset: int, now: dt.datetime) -> None:
    value = json.dumps({"reason": reason, "offset": offset})
    flag = session.get(LocalFlag, HOLD_FLAG)
    if flag is None:
        session.add(LocalFlag(name=HOLD_FLAG, value=value, set_at=now))
    else:
        flag.value, flag.set_at = value, now


def clear_hold(session: Session) -> bool:
    flag = session.get(LocalFlag, HOLD_FLAG)
    if flag is None:
        return False
    session.delete(flag)
    return True


def _raise_counter(session: Session, name: str, at_least: int) -> bool:
    row = session.get(Sequence, name, with_for_update=True)
    if row is None:
        session.add(Sequence(name=name, last=at_least))
        return True
    if row.last < at_least:
        row.last = at_least
        return True
    return False


def move_counters_past(
    session: Session,
    *,
    origin: str,
    offset: int,
    last_seq: int,
    numbers: Mapping[tuple[str, dt.date], int],
) -> int:
    """Raise this store's counters to at least the server's marks; returns how many moved.

    Numbers count only inside this kiosk's block (the server holds none of ours elsewhere).
    """
    moved = 0
    local_seq = session.scalar(
        select(Event.seq).where(Event.origin == origin).order_by(Event.seq.desc()).limit(1)
    )
    moved += _raise_counter(session, seq_counter(origin), max(last_seq, local_seq or 0))
    for (department, day), number in numbers.items():
        if number > offset:
            moved += _raise_counter(session, number_counter(department, day, offset), number)
    return moved


def local_seq(session: Session, origin: str) -> int:
    row = session.get(Sequence, seq_counter(origin))
    return row.last if row is not None else 0


# -- opening and checking ------------------------------------------------------------------


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def damaged(path: Path | str, why: str) -> DatabaseError:
    return DatabaseError(
        f"the kiosk database {path} is damaged or unreadable ({why}); restore the last "
        f"backup with: {RESTORE_HINT}"
    )


def check_readable(engine: Engine) -> None:
    """A cheap check before anything else: the file's header and its schema can be read."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
    except DBAPIError as exc:
        raise damaged(engine.url.database or "?", _one_line(exc)) from None


def integrity_problem(engine: Engine) -> str | None:
    """SQLite's quick_check over the whole file (seconds on a big store): None when sound."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("PRAGMA quick_check")).scalars().all()
    except DBAPIError as exc:
        return _one_line(exc)
    if [str(r) for r in rows] == ["ok"]:
        return None
    return "; ".join(str(r) for r in rows[:3])


def _one_line(exc: DBAPIError) -> str:
    return " ".join(str(exc.orig).split())


def open_kiosk_store(url: str, *, origin: str, offset: int, has_server: bool) -> Engine:
    """Open (creating if needed), check and migrate the kiosk's store.

    A store created here for a kiosk that syncs with a server is put on hold: the server may
    already hold numbers of this kiosk id (a reinstall, a replaced disk).
    """
    engine = open_engine(url)
    path = sqlite_path(url)
    is_new = path is not None and not path.exists()
    if path is not None and not is_new:
        check_readable(engine)
    try:
        if not schema_is_current(engine):
            migrate(engine)  # loads Alembic: only when the schema is behind
    except DatabaseError:
        raise
    except DBAPIError as exc:
        raise damaged(path or url, _one_line(exc)) from None
    if is_new and has_server:
        with Session(engine) as session, session.begin():
            if session.scalars(select(Event.id).where(Event.origin == origin).limit(1)).first():
                return engine
            set_hold(
                session,
                "new (the server may already hold numbers of this kiosk id)",
                offset,
                dt.datetime.now(dt.UTC),
            )
        log.info("new store %s: issuing waits for the server's high-water marks", path)
    return engine


# -- restore -------------------------------------------------------------------------------


class RestoreError(Exception):
    """A backup cannot be restored; the message says why and what to do."""


def check_backup(backup: Path) -> None:
    """The backup is a sound SQLite file of ours."""
    if not backup.is_file():
        raise RestoreError(f"no backup file at {backup}")
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{backup}?mode=ro", uri=True, timeout=5)
        ) as connection:
            result = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"{backup} is not a readable kiosk database ({exc})") from None
    if result != "ok":
        raise RestoreError(f"{backup} fails its integrity check: {result}")
    if not {"tickets", "events", "alembic_version"} <= tables:
        raise RestoreError(f"{backup} is not a kiosk database (no tickets or events tables)")


def restore_store(backup: Path, target: Path, *, offset: int) -> None:
    """Replace the store at `target` with `backup` and put it on hold.

    The copy is written beside the target and renamed over it, so a power cut leaves either
    the old store or the restored one; the old store's WAL files go with it.
    """
    check_backup(backup)
    if target.exists():
        _refuse_if_in_use(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring")
    partial.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(partial)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    partial.replace(target)
    engine = make_engine(f"sqlite:///{target}")
    try:
        migrate(engine)
        with Session(engine) as session, session.begin():
            set_hold(session, "restored from a backup", offset, dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


def _refuse_if_in_use(target: Path) -> None:
    """A running kiosk holds the store open; replacing it under it would lose tickets."""
    try:
        with contextlib.closing(sqlite3.connect(target, timeout=0.5)) as connection:
            connection.execute("BEGIN EXCLUSIVE")
            connection.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise RestoreError(
                f"{target} is in use: stop the kiosk first (systemctl stop kiosk)"
            ) from None
    except sqlite3.DatabaseError:
        pass  # a damaged store is exactly what a restore replaces
