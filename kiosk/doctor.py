"""`kiosk doctor`: what is wrong with this kiosk, one line per check, with what to do about it.

Checks config, database, printer, server (reachable, token, clock), sync backlog and disk. Each
check is independent and never raises: an IT technician at 6 a.m. gets every answer at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, make_url, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from kiosk.config import Config, ConfigError, load_config, resolve_config_path
from kiosk.queue.db import current_revision, head_revision, make_engine, read_session
from kiosk.queue.models import Device
from kiosk.queue.outbox import outbox_state
from kiosk.queue.store import RESTORE_HINT, integrity_problem, issuing_hold

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
        reason = _first_line(exc)
        damaged = "not a database" in reason or "malformed" in reason
        return Check(
            "database",
            Level.FAIL,
            f"cannot open {shown}: {reason}",
            f"the file is damaged: restore the last backup with {RESTORE_HINT}"
            if damaged
            else "check database_url, the file's owner (user kiosk) and permissions",
        )
    if sqlite_file:
        problem = integrity_problem(engine)
        # A store locked by another process cannot be read now; the check below says so.
        if problem is not None and "locked" not in problem:
            return Check(
                "database",
                Level.FAIL,
                f"{shown} is damaged: {problem}",
                f"stop the kiosk and restore the last backup: {RESTORE_HINT}",
            )
    head = head_revision()
    if revision != head:
        return Check(
            "database",
            Level.WARN,
            f"schema at {revision}, newest is {head}",
            "it is migrated at the next start of the service",
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
    try:
        with engine.connect() as connection:
            state = outbox_state(connection, config.kiosk.id)
    except SQLAlchemyError as exc:
        return Check("sync", Level.FAIL, f"cannot read the event log: {_first_line(exc)}", "")
    if state.rejected:
        return Check(
            "sync",
            Level.FAIL,
            f"{state.rejected} event(s) rejected by the server, e.g.: {state.first_rejection}",
            _rejection_hint(str(state.first_rejection)),
        )
    count, oldest_at = state.pending, state.oldest_pending
    if not count:
        return _ok(
            "sync",
            "every event of this kiosk is on the server"
            if config.server.url
            else "no server configured; nothing to push",
        )
    if config.server.url and oldest_at is not None and now - oldest_at > UNSYNCED_WARN_AGE:
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


REJECTION_HINTS = {
    "outside_block": "numbering.offset/block_size differ from this kiosk's registration on the "
    "server (kiosk server list-devices): make them match",
    "duplicate_number": "two kiosks give the same numbers: give each its own numbering.offset "
    "and register it (add-device --numbering-offset)",
    "conflict": "an event was changed after it was sent (a store copied between kiosks?): "
    "give each kiosk its own kiosk.id",
    "invalid_event": "the kiosk's clock or config disagrees with the server (timezone, "
    "numbering.width, priority groups): compare them",
    "unknown_department": "seed the same departments on the server as on this kiosk",
}


def _rejection_hint(reason: str) -> str:
    code = reason.split(":", 1)[0].strip()
    return REJECTION_HINTS.get(
        code, "compare this kiosk's config with the server's; the reason says what differs"
    )


def check_hold(config: Config, engine: Engine) -> Check:
    """A restored or new store issues nothing until it has reached the server once."""
    with read_session(engine) as session:
        hold = issuing_hold(session)
    if hold is None:
        return _ok("numbers", "this kiosk's counters are past everything the server holds")
    if hold.offset != config.numbering.offset:
        return Check(
            "numbers",
            Level.WARN,
            f"store {hold.reason}; issuing from the new block numbering.offset = "
            f"{config.numbering.offset}",
            "make sure the server registers that block: kiosk server list-devices",
        )
    return Check(
        "numbers",
        Level.FAIL,
        f"not issuing: the store is {hold.reason} and has not yet reached the server",
        "check the network and server.url, then run kiosk sync --once",
    )


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
    try:
        engine = make_engine(url, busy_timeout_ms=DOCTOR_BUSY_TIMEOUT_MS)
    except OSError as exc:  # the database's directory cannot be made or read by this user
        return [*checks, _unreadable("database", exc)]
    try:
        database = _guard("database", lambda: [check_database(url, engine)])[0]
        checks.append(database)
        checks.extend(_guard("printer", lambda: [check_printer(config)]))
        checks.extend(_guard("server", lambda: check_server(config, engine)))
        if database.level != Level.FAIL and "no database yet" not in database.message:
            checks.extend(_guard("sync", lambda: [check_sync(config, engine, now())]))
            checks.extend(_guard("numbers", lambda: [check_hold(config, engine)]))
        checks.extend(_guard("disk", lambda: [check_disk(_disk_path(url, config))]))
    finally:
        engine.dispose()
    return checks


# -- the central server (`kiosk doctor --server`) ----------------------------------------


def run_server_checks(
    config_path: str | None,
    *,
    database_url: str | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> list[Check]:
    """The server's doctor: config, database, TLS files, its port, devices, clock, disk."""
    config_check, config = check_config(config_path)
    checks = [config_check]
    if config is None:
        return checks
    url = database_url or config.server_database_url
    try:
        engine = make_engine(url, busy_timeout_ms=DOCTOR_BUSY_TIMEOUT_MS)
    except OSError as exc:
        return [*checks, _unreadable("database", exc)]
    try:
        database = _guard("database", lambda: [check_database(url, engine)])[0]
        checks.append(database)
        checks.extend(_guard("tls", lambda: [check_tls(config)]))
        checks.extend(_guard("port", lambda: [check_listening(config)]))
        if database.level != Level.FAIL and "no database yet" not in database.message:
            checks.extend(_guard("devices", lambda: [check_devices(engine)]))
            checks.extend(_guard("clock", lambda: [check_server_clock(engine, now())]))
        checks.extend(_guard("disk", lambda: [check_disk(_disk_path(url, config))]))
    finally:
        engine.dispose()
    return checks


def check_tls(config: Config) -> Check:
    cert, key = config.server.cert_file, config.server.key_file
    if not cert and not key:
        if config.server.allow_plain_http:
            return _ok("tls", "plain HTTP (allow_plain_http): TLS is the reverse proxy's job")
        return Check(
            "tls",
            Level.WARN,
            "no cert_file/key_file: the server listens on plain HTTP",
            "set server.cert_file and server.key_file, or allow_plain_http behind a TLS proxy",
        )
    if not (cert and key):
        return Check(
            "tls", Level.FAIL, "only one of cert_file and key_file is set", "set both, or neither"
        )
    for path in (cert, key):  # a missing or unreadable file is named by _guard
        Path(path).read_bytes()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        return Check(
            "tls",
            Level.FAIL,
            f"{cert} and {key} are not a certificate and its key: {exc.reason or exc}",
            "give the PEM certificate (chain) and the private key it was made for",
        )
    return _ok("tls", f"{cert} with its key {key}: readable, a matching pair")


def check_listening(config: Config) -> Check:
    host = config.server.host
    connect_to = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    port = config.server.port
    scheme = "https" if config.server.cert_file else "http"
    url = f"{scheme}://{connect_to}:{port}/api/v1/health"
    # Our own port on this machine: the certificate is checked by check_tls, not here.
    context = ssl._create_unverified_context() if scheme == "https" else None
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as answer:
            health = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return Check("port", Level.FAIL, f"{url} answered {exc.code}", "journalctl -u kiosk-server")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Check(
            "port",
            Level.FAIL,
            f"nothing answers on {host}:{port} ({reason})",
            "is the server running? systemctl status kiosk-server; journalctl -u kiosk-server",
        )
    version = health.get("version", "?") if isinstance(health, dict) else "?"
    return _ok("port", f"listening on {host}:{port} ({scheme}, server {version})")


def check_devices(engine: Engine) -> Check:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Device.role, func.count())
            .where(Device.revoked_at.is_(None))
            .group_by(Device.role)
            .order_by(Device.role)
        ).all()
    if not rows:
        return Check(
            "devices",
            Level.WARN,
            "no devices yet: no kiosk, counter or board can connect",
            "kiosk server add-device NAME --role kiosk|counter|board (the token is on the "
            "last line)",
        )
    counts = ", ".join(f"{count} {role}" for role, count in rows)
    return _ok("devices", f"{sum(count for _, count in rows)} active: {counts}")


def check_server_clock(engine: Engine, now: dt.datetime) -> Check:
    hint = "enable NTP (timedatectl set-ntp true): service dates and times depend on it"
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            db_now = connection.execute(text("SELECT now()")).scalar_one()
        offset = (now - db_now).total_seconds()
        shown = (
            f"this machine's clock is {abs(offset):.0f} s "
            + ("ahead of" if offset > 0 else "behind")
            + " the database's"
        )
        if abs(offset) > CLOCK_FAIL_SECONDS:
            return Check("clock", Level.FAIL, shown, hint)
        if abs(offset) > CLOCK_WARN_SECONDS:
            return Check("clock", Level.WARN, shown, hint)
    synchronized = _ntp_synchronized()
    if synchronized is False:
        return Check("clock", Level.WARN, "the system clock is not synchronised (NTP)", hint)
    where = " and with the database" if engine.dialect.name == "postgresql" else ""
    state = "synchronised (NTP)" if synchronized else "NTP state unknown"
    return _ok("clock", f"{state}{where}; kiosks compare theirs with this one")


def _ntp_synchronized() -> bool | None:
    timedatectl = shutil.which("timedatectl")
    if timedatectl is None:
        return None
    try:
        answer = subprocess.run(
            [timedatectl, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = answer.stdout.strip()
    return {"yes": True, "no": False}.get(value) if answer.returncode == 0 else None


def _disk_path(url: str, config: Config) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return Path(parsed.database).parent
    return config.data_dir


def _guard(name: str, check: Callable[[], list[Check]]) -> list[Check]:
    # A file or directory this user may not read is the environment, not a bug: one line that
    # names it. Any other crash is a bug: logged whole, reported as a failure, the others go on.
    try:
        return check()
    except OSError as exc:
        return [_unreadable(name, exc)]
    except Exception as exc:
        log.exception("doctor check %s crashed", name)
        return [Check(name, Level.FAIL, f"the check itself failed: {exc}", "see the log")]


def _unreadable(name: str, exc: OSError) -> Check:
    where = f" {exc.filename}" if exc.filename else ""
    return Check(
        name,
        Level.FAIL,
        f"cannot use{where}: {exc.strerror or exc}",
        "run the doctor as the service's user, as the installer's last line says, or fix "
        "that path's owner and mode",
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
