"""`kiosk doctor`: what is wrong with this kiosk, one line per check, with what to do about it.

Checks config, database, printer, server (reachable, token, clock), sync backlog and disk. Each
check is independent and never raises: an IT technician at 6 a.m. gets every answer at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from kiosk.config import Config, ConfigError, load_config, resolve_config_path
from kiosk.queue.db import current_revision, head_revision, make_engine
from kiosk.queue.models import Event

log = logging.getLogger(__name__)

CLOCK_WARN_SECONDS = 30.0
CLOCK_FAIL_SECONDS = 300.0
DISK_FAIL_BYTES = 200 * 1024**2
DISK_WARN_BYTES = 1024**3
UNSYNCED_WARN_AGE = dt.timedelta(minutes=15)
DOCTOR_BUSY_TIMEOUT_MS = 2000


class Level(enum.StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    message: str
    hint: str = ""

    def line(self) -> str:
        text = f"{self.level:<4}  {self.name:<9} {self.message}"
        return f"{text}\n{'':15}→ {self.hint}" if self.hint else text


def _ok(name: str, message: str) -> Check:
    return Check(name, Level.OK, message)


def check_config(config_path: str | None) -> tuple[Check, Config | None]:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return Check(
            "config",
            Level.FAIL,
            str(exc),
            "fix that key; the example is in "
            "/etc/kiosk/kiosk.toml.example (deploy/kiosk.toml.example)",
        ), None
    path = resolve_config_path(config_path)
    where = str(path) if path else "built-in demo defaults (no config file)"
    level = Level.OK if path else Level.WARN
    hint = "" if path else "put the kiosk's settings in /etc/kiosk/kiosk.toml"
    return Check("config", level, f"valid: {where}", hint), config


def check_database(url: str, engine: Engine) -> Check:
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_file and not Path(sqlite_file).exists():
        return Check(
            "database",
            Level.WARN,
            f"no database yet at {parsed.database}",
            "it is created at the first start (`kiosk run`, `kiosk seed`)",
        )
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        return Check(
            "database",
            Level.FAIL,
            f"cannot open {shown}: {_first_line(exc)}",
            "check database_url, the file's owner (user kiosk) and permissions",
        )
    head = head_revision()
    if revision != head:
        return Check(
            "database",
            Level.WARN,
            f"schema at {revision}, newest is {head}",
            "it is migrated at the next start of the kiosk",
        )
    try:
        with engine.begin() as connection:  # BEGIN IMMEDIATE on SQLite: takes the write lock
            connection.execute(text("SELECT 1"))
            if connection.dialect.name == "postgresql":
                read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
                if read_only == "on":
                    return Check(
                        "database",
                        Level.FAIL,
                        f"{shown} is read-only",
                        "is this a standby server? point database_url at the primary",
                    )
            connection.rollback()
    except OperationalError as exc:
        reason = _first_line(exc)
        if "locked" in reason:
            return Check(
                "database",
                Level.FAIL,
                f"{shown} is locked by another process (waited "
                f"{DOCTOR_BUSY_TIMEOUT_MS / 1000:.0f} s)",
                "a stuck kiosk process? `systemctl status kiosk`, then restart it",
            )
        if "readonly" in reason or "read-only" in reason:
            return Check(
                "database",
                Level.FAIL,
                f"{shown} is not writable: {reason}",
                "chown kiosk:kiosk the database file and its directory",
            )
        return Check("database", Level.FAIL, f"{shown}: {reason}", "")
    return _ok("database", f"{shown}: reachable, migrated ({revision}), writable")


def check_printer(config: Config) -> Check:
    # Imported here: python-escpos loads only when a printer is really asked.
    from printer.errors import PrinterError
    from printer.output import TicketPrinter
    from printer.status import PrinterState

    try:
        printer = TicketPrinter(config.printer, data_dir=config.data_dir)
    except PrinterError as exc:
        return Check("printer", Level.FAIL, str(exc), "check printer.connection and .profile")
    status = printer.status()
    where = config.printer.connection
    hint = printer.connection.hint
    if status.state == PrinterState.READY:
        return _ok("printer", f"{where}: ready")
    if status.state == PrinterState.PAPER_NEAR_END:
        return Check("printer", Level.WARN, f"{where}: paper near its end", "load a new roll soon")
    if status.state == PrinterState.UNKNOWN:
        if printer.connection.kind == "none":
            return Check(
                "printer",
                Level.WARN,
                "no printer configured (printer.connection = "
                "none): tickets are only shown on screen",
                "set printer.connection",
            )
        return Check(
            "printer", Level.WARN, f"{where}: {status.detail}; printing will be tried", hint
        )
    what = str(status.state).replace("_", " ")
    return Check("printer", Level.FAIL, f"{where}: {what} ({status.detail})", hint)


def check_server(config: Config, engine: Engine) -> list[Check]:
    if not config.server.url:
        return [
            Check(
                "server",
                Level.WARN,
                "server.url is empty: this kiosk works alone",
                "set server.url and server.token_file to sync with the central server",
            )
        ]
    from server_sync.client import ServerRefused, ServerUnreachable, SyncClient, SyncError

    url = config.server.url
    try:
        client = SyncClient.from_config(engine, config)
    except SyncError as exc:
        return [
            Check(
                "server",
                Level.FAIL,
                str(exc),
                f"on the server: kiosk server add-device {config.kiosk.id} --role kiosk, "
                "then put the token in server.token_file",
            )
        ]
    try:
        health = client.probe()
    except ServerUnreachable as exc:
        return [
            Check(
                "server",
                Level.FAIL,
                f"cannot reach {url}: {_first_line(exc)}",
                f"check the network cable and that the server runs "
                f"(`curl {url}/api/v1/health`); the kiosk keeps issuing offline",
            )
        ]
    except ServerRefused as exc:
        if exc.status == 401:
            return [
                Check(
                    "server",
                    Level.FAIL,
                    f"{url} refused this kiosk's token",
                    f"on the server: kiosk server add-device {config.kiosk.id} --role "
                    "kiosk, and put the new token in server.token_file",
                )
            ]
        if exc.status == 403:
            return [
                Check(
                    "server",
                    Level.FAIL,
                    f"{url}: this token's role may not sync",
                    "give the kiosk a device of role kiosk",
                )
            ]
        return [Check("server", Level.FAIL, f"{url} answered {exc.status}: {exc}", "")]
    finally:
        client.close()
    version = health.get("version", "?")
    checks = [_ok("server", f"{url}: reachable, token accepted (server {version})")]
    offset = client.clock_offset_seconds
    if offset is None:
        checks.append(Check("clock", Level.WARN, "the server sent no Date header", ""))
    else:
        direction = "behind" if offset > 0 else "ahead of"
        text_offset = f"this PC's clock is {abs(offset):.0f} s {direction} the server"
        hint = "enable NTP (timedatectl set-ntp true): service dates and times depend on it"
        if abs(offset) > CLOCK_FAIL_SECONDS:
            checks.append(Check("clock", Level.FAIL, text_offset, hint))
        elif abs(offset) > CLOCK_WARN_SECONDS:
            checks.append(Check("clock", Level.WARN, text_offset, hint))
        else:
            checks.append(_ok("clock", f"within {max(1.0, abs(offset)):.0f} s of the server"))
    return checks


def check_sync(config: Config, engine: Engine, now: dt.datetime) -> Check:
    origin = config.kiosk.id
    try:
        with engine.connect() as connection:
            mine = (Event.origin == origin,)
            rejected = connection.execute(
                select(func.count(), func.min(Event.rejected_reason)).where(
                    *mine, Event.rejected_reason.is_not(None)
                )
            ).one()
            pending = connection.execute(
                select(func.count(), func.min(Event.occurred_at)).where(
                    *mine, Event.synced_at.is_(None), Event.rejected_reason.is_(None)
                )
            ).one()
    except SQLAlchemyError as exc:
        return Check("sync", Level.FAIL, f"cannot read the event log: {_first_line(exc)}", "")
    if rejected[0]:
        return Check(
            "sync",
            Level.FAIL,
            f"{rejected[0]} event(s) rejected by the server, e.g.: {rejected[1]}",
            "usually two kiosks with the same numbering.offset or kiosk.id: give each its own",
        )
    count, oldest = pending
    if not count:
        return _ok(
            "sync",
            "every event of this kiosk is on the server"
            if config.server.url
            else "no server configured; nothing to push",
        )
    if config.server.url and oldest is not None:
        oldest_at = (
            oldest if isinstance(oldest, dt.datetime) else dt.datetime.fromisoformat(str(oldest))
        )
        if oldest_at.tzinfo is None:
            oldest_at = oldest_at.replace(tzinfo=dt.UTC)
        if now - oldest_at > UNSYNCED_WARN_AGE:
            minutes = int((now - oldest_at).total_seconds() // 60)
            return Check(
                "sync",
                Level.WARN,
                f"{count} event(s) not yet on the server, the oldest {minutes} min old",
                "they go when the server is reachable; nothing is lost meanwhile",
            )
    if not config.server.url:
        return _ok("sync", f"no server configured; {count} event(s) kept here")
    return _ok("sync", f"{count} event(s) waiting to be pushed")


def check_disk(path: Path) -> Check:
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent
    free = shutil.disk_usage(target).free
    shown = f"{free / 1024**3:.1f} GB free on {target}"
    if free < DISK_FAIL_BYTES:
        return Check(
            "disk",
            Level.FAIL,
            shown,
            "free space: old backups, journal (journalctl "
            "--vacuum-size=200M); the kiosk stops issuing when the disk is full",
        )
    if free < DISK_WARN_BYTES:
        return Check("disk", Level.WARN, shown, "free some space soon")
    return _ok("disk", shown)


def run_checks(
    config_path: str | None,
    *,
    database_url: str | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> list[Check]:
    config_check, config = check_config(config_path)
    checks = [config_check]
    if config is None:
        return checks
    url = database_url or config.kiosk_database_url
    engine = make_engine(url, busy_timeout_ms=DOCTOR_BUSY_TIMEOUT_MS)
    try:
        database = check_database(url, engine)
        checks.append(database)
        checks.extend(_guard("printer", lambda: [check_printer(config)]))
        checks.extend(_guard("server", lambda: check_server(config, engine)))
        if database.level != Level.FAIL and "no database yet" not in database.message:
            checks.extend(_guard("sync", lambda: [check_sync(config, engine, now())]))
        parsed = make_url(url)
        disk_path = (
            Path(parsed.database).parent
            if parsed.get_backend_name() == "sqlite" and parsed.database
            else config.data_dir
        )
        checks.append(check_disk(disk_path))
    finally:
        engine.dispose()
    return checks


def _guard(name: str, check: Callable[[], list[Check]]) -> list[Check]:
    # A check that crashes is a bug: logged whole, reported as a failure, the others go on.
    try:
        return check()
    except Exception as exc:
        log.exception("doctor check %s crashed", name)
        return [Check(name, Level.FAIL, f"the check itself failed: {exc}", "see the log")]


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
