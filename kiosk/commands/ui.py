"""`kiosk run` (the patient kiosk screen) and `kiosk set-pin` (its admin PIN).

Qt is imported only inside `cmd_run`, so every other command starts without PySide6. `kiosk
run` paints its first screen before it imports SQLAlchemy: over a store that exists and is at
Alembic's head, the department grid is read through sqlite3 (`kiosk.queue.quickread`) and the
queue service is opened right after that screen is painted; any other store (missing, new,
behind, unreadable) is opened, migrated or reported first, as before.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.cli import EXIT_PRINTER, EXIT_USAGE, CommandError, common_options
from kiosk.config import (
    Config,
    confirm_config,
    load_checked_config,
    load_config,
    parse_config,
    resolve_config_path,
    write_atomically,
)

if TYPE_CHECKING:
    from kiosk.app.backend import ServiceSource
    from kiosk.queue.quickread import QuickReader
    from kiosk.queue.service import QueueService
    from kiosk.wire import Department
    from server_sync.client import SyncWorker

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_options()
    run = subparsers.add_parser(
        "run", parents=[common], help="the patient kiosk (fullscreen when kiosk.fullscreen)"
    )
    run.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    run.add_argument(
        "--screenshot", type=Path, metavar="PATH", help="render one screen to a PNG and exit"
    )
    run.add_argument(
        "--size", type=_size, default=(1080, 1920), metavar="WxH", help="default 1080x1920"
    )
    run.add_argument("--language", choices=("vi", "en"), help="default: the first configured")
    run.add_argument("--screen", choices=("home", "ticket", "priority"), default="home")
    # The collector stays paused (kiosk/__main__.py) until the first screen is painted.
    run.set_defaults(handler=cmd_run, long_running=True, collect_after_first_screen=True)

    pin = subparsers.add_parser(
        "set-pin",
        parents=[common],
        help="set the kiosk's admin PIN (stored as a salted hash in the config file)",
    )
    pin.add_argument(
        "--stdin", action="store_true", help="read the PIN from standard input (one line)"
    )
    pin.set_defaults(handler=cmd_set_pin)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1080x1920") from None
    if not (320 <= width <= 7680 and 320 <= height <= 7680):
        raise argparse.ArgumentTypeError(f"{text!r}: each side must be 320 to 7680 pixels")
    return width, height


def _open_service(args: argparse.Namespace, config: Config) -> QueueService:
    # Here, not at the top: the other commands' module (csv, statistics, the seed files) is
    # not the first screen's.
    from kiosk.commands.queue import open_service

    return open_service(args, config)


@contextlib.contextmanager
def _screenshot_service(args: argparse.Namespace, config: Config) -> Iterator[QueueService]:
    """The configured database if it exists and has departments, else a seeded temporary one."""
    import tempfile

    from kiosk.resources import EXAMPLE_SEEDS, seed_file

    url = args.database or config.kiosk_database_url
    if not (url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()):
        service = _open_service(args, config)
        if service.departments():
            yield service
            service.engine.dispose()
            return
        service.engine.dispose()
    with tempfile.TemporaryDirectory(prefix="kiosk-screenshot-") as tmp:
        from kiosk.queue.db import open_database
        from kiosk.queue.seeds import seed_database
        from kiosk.queue.service import QueueService

        engine = open_database(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        try:
            seed_database(engine, seed_file(EXAMPLE_SEEDS))
            service = QueueService.from_config(engine, config)
            for code, count in (("NOI", 7), ("NHI", 4), ("TIEPDON", 12), ("XN", 5), ("MAT", 2)):
                if code in service.department_codes():
                    for _ in range(count):
                        service.issue(code)
            yield service
        finally:
            engine.dispose()


def cmd_run(args: argparse.Namespace) -> int:
    # A config validated at an earlier start is made from the values kept then; the file is
    # validated again right after the first screen, by the thread that opens the store, before
    # the store is used (and so before the sync and any ticket); a difference ends the kiosk.
    config, unconfirmed = load_checked_config(args.config)
    if unconfirmed:

        def open_confirmed() -> QueueService:
            confirm_config(config, args.config)
            return _open_service(args, config)

    else:

        def open_confirmed() -> QueueService:
            return _open_service(args, config)

    language = args.language or config.hospital.languages[0]
    if args.screenshot:
        from kiosk.ui.app import render_screenshot

        # The home screen of a store at Alembic's head, with departments: as `kiosk run` first
        # paints it, through sqlite3 (the service is never opened).
        quick = None
        if args.screen == "home":
            quick = quick_reader(args.database or config.kiosk_database_url, config)
        if quick is not None and quick[1]:
            from kiosk.app.backend import LateService

            path = render_screenshot(
                config,
                LateService(open_confirmed),
                args.screenshot,
                size=args.size,
                language=language,
                first_screen=quick[0],
            )
            if unconfirmed:
                confirm_config(config, args.config)
            print(f"screenshot written to {path}")
            return 0
        if unconfirmed:
            confirm_config(config, args.config)
        with _screenshot_service(args, config) as shown:
            path = render_screenshot(
                config,
                shown,
                args.screenshot,
                size=args.size,
                language=language,
                screen=args.screen,
            )
        print(f"screenshot written to {path}")
        return 0

    from kiosk.app.backend import LateService, resolve_service
    from printer.deferred import DeferredPrinter
    from printer.errors import PrinterError

    quick = quick_reader(args.database or config.kiosk_database_url, config)
    first_screen: QuickReader | None = None
    service: ServiceSource
    if quick is None:
        service = open_confirmed()
        has_departments = bool(service.departments())
    else:
        # SQLAlchemy, the models and the service load once the first screen is painted.
        service = LateService(open_confirmed)
        first_screen, departments = quick
        has_departments = bool(departments)
    if not has_departments:
        log.warning("no departments: load them with kiosk seed seeds/<file>.toml")
    # Pillow, python-escpos and the HTTP stack load once the first screen is painted.
    printer = DeferredPrinter(config.printer, data_dir=config.data_dir)
    from kiosk.ui.app import run_kiosk

    def make_sync() -> SyncWorker | None:  # on a thread of its own: it may wait for the service
        return start_background_sync(config, resolve_service(service), start=False)

    try:
        return run_kiosk(
            config,
            service,
            printer,
            make_sync,
            load_printer=printer.load,
            first_screen=first_screen,
        )
    except PrinterError as exc:
        raise CommandError(str(exc), EXIT_PRINTER) from None


def quick_reader(url: str, config: Config) -> tuple[QuickReader, list[Department]] | None:
    """The first screen's sqlite3 reader over the kiosk's store and the departments it read,
    if the store is a file that exists, can be read and is at Alembic's head (the fast schema
    check); None otherwise: the store is then opened (created, migrated, or reported damaged)
    before the first screen, as it always was."""
    import sqlite3

    from kiosk.queue.quickread import QuickReader, StoreNotReady, sqlite_file_of

    database = sqlite_file_of(url)
    if database is None:
        return None
    try:
        reader = QuickReader.open(database, timezone=config.hospital.tz)
        return reader, reader.departments()
    except (StoreNotReady, sqlite3.Error) as exc:
        log.debug("opening the store before the first screen: %s", exc)
        return None


def start_background_sync(
    config: Config, service: QueueService, *, start: bool = True
) -> SyncWorker | None:
    """Push this kiosk's tickets and pull the counters' calls while the kiosk runs
    (`start=False`: the caller starts the worker)."""
    if not config.server.url:
        log.info("server.url is empty: this kiosk works alone")
        return None
    from server_sync.client import SyncClient, SyncError, SyncWorker

    try:
        client = SyncClient.from_config(service.engine, config)
    except SyncError as exc:
        # Issuing never depends on the network: the kiosk runs, staff see it in `kiosk doctor`.
        log.error("not syncing: %s", exc)
        return None
    worker = SyncWorker(client, interval=config.server.sync_interval_seconds)
    if start:
        worker.start()
    return worker


def _read_pin(from_stdin: bool) -> str:
    import getpass

    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass("New admin PIN (4 to 12 digits): ")
    second = getpass.getpass("Repeat the PIN: ")
    if first != second:
        raise CommandError("the two PINs differ; nothing was changed", EXIT_USAGE)
    return first.strip()


def cmd_set_pin(args: argparse.Namespace) -> int:
    from kiosk.app.pin import PinError, check_pin_format, hash_pin, with_pin_hash

    path = resolve_config_path(args.config)
    if path is None:
        raise CommandError(
            "no config file to write the PIN into: pass --config PATH or set KIOSK_CONFIG",
            EXIT_USAGE,
        )
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read the config file ({exc})", EXIT_USAGE) from None
    if text:
        load_config(path)  # refuse to edit a file that is already invalid
    try:
        pin = check_pin_format(_read_pin(args.stdin))
        new_text = with_pin_hash(text, hash_pin(pin))
    except PinError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    parse_config(tomllib.loads(new_text), str(path))
    try:
        write_atomically(path, new_text)
    except OSError as exc:
        raise CommandError(
            f"cannot write {path} ({exc.strerror}): run set-pin as the user who owns the config "
            "file (for /etc/kiosk/kiosk.toml: as root, `su -`, then /opt/kiosk/venv/bin/kiosk "
            "set-pin)",
        ) from None
    print(f"admin PIN set in {path}")
    return 0
