"""Operations for IT staff: `kiosk backup`, `kiosk restore`, `kiosk doctor`."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import sqlite3
import sys
from pathlib import Path

from kiosk.cli import EXIT_USAGE, CommandError, common_options
from kiosk.config import Config, load_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser(
        "backup",
        parents=[common_options()],
        help="consistent copy of the kiosk's SQLite database, safe while the kiosk runs",
    )
    backup.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="file to write (replaced whole); a directory (ending in /): kiosk-YYYY-MM-DD.db in it",
    )
    backup.add_argument(
        "--keep-days",
        type=_positive,
        metavar="N",
        help="then remove the kiosk-YYYY-MM-DD.db copies in that directory older than N days",
    )
    backup.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    backup.set_defaults(handler=cmd_backup)
    restore = subparsers.add_parser(
        "restore",
        parents=[common_options()],
        help="replace the kiosk's store with a backup, safely: it issues again only once it "
        "has moved past the numbers the server holds for it",
    )
    restore.add_argument("backup", type=Path, metavar="BACKUP", help="a file from kiosk backup")
    restore.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    restore.set_defaults(handler=cmd_restore)
    register_doctor(subparsers)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (1 or more)")
    return value


BACKUP_NAME = re.compile(r"kiosk-(\d{4}-\d{2}-\d{2})\.db")


def prune_backups(directory: Path, keep_days: int, today: dt.date) -> list[Path]:
    """Remove the dated copies (kiosk-YYYY-MM-DD.db) older than `keep_days`; the removed."""
    removed = []
    for path in sorted(directory.iterdir()):
        match = BACKUP_NAME.fullmatch(path.name)
        if not match:
            continue
        try:
            day = dt.date.fromisoformat(match.group(1))
        except ValueError:
            continue
        if (today - day).days >= keep_days:
            path.unlink()
            removed.append(path)
    return removed


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy a live SQLite database with SQLite's online backup API; returns its page count.

    Written to a temporary file, checked, then renamed: a half-written backup never replaces
    a good one.
    """
    if not source.exists():
        raise CommandError(f"no database at {source}", EXIT_USAGE)
    partial = target.with_name(f".{target.name}.partial")
    try:
        # The copy's place first: a failure there says nothing about the store.
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        dst = sqlite3.connect(partial)
        dst.execute("PRAGMA user_version")  # opens (creates) the file now
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CommandError(f"cannot write the backup {target}: {reason}", EXIT_USAGE) from None
    try:
        with contextlib.closing(dst):
            with contextlib.closing(
                sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
            ) as src:
                src.execute("PRAGMA busy_timeout = 30000")
                src.backup(dst, pages=256)
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.Error:
        partial.unlink(missing_ok=True)  # no half copy left beside the good ones
        raise
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise CommandError(f"the copy of {source} failed its integrity check: {check}")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(target)
    return pages


def cmd_backup(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    from sqlalchemy import make_url

    url = make_url(args.database or config.kiosk_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise CommandError(
            f"{url.render_as_string(hide_password=True)} is not a SQLite file; back up "
            "PostgreSQL with pg_dump",
            EXIT_USAGE,
        )
    target: Path = args.path
    into_directory = str(target).endswith("/") or target.is_dir()
    today = dt.date.today()
    if into_directory:
        target = target / f"kiosk-{today.isoformat()}.db"
    elif args.keep_days:
        raise CommandError("--keep-days needs a directory (PATH ending in /)", EXIT_USAGE)
    from kiosk.queue.store import damaged

    try:
        pages = backup_sqlite(Path(url.database), target)
    except sqlite3.DatabaseError as exc:
        raise CommandError(str(damaged(url.database, str(exc)))) from None
    print(f"backed up {url.database} to {target} ({pages} pages, integrity ok)")
    if args.keep_days:
        for old in prune_backups(target.parent, args.keep_days, today):
            print(f"removed {old} (older than {args.keep_days} days)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from kiosk.queue.store import RestoreError, restore_store, sqlite_path

    config = load_config(args.config)
    url = args.database or config.kiosk_database_url
    target = sqlite_path(url)
    if target is None:
        raise CommandError(f"{url} is not a SQLite file: a kiosk's store is", EXIT_USAGE)
    try:
        restore_store(args.backup, target, offset=config.numbering.offset)
    except RestoreError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    print(f"restored {args.backup} to {target}")
    if not config.server.url:
        # A standalone kiosk has no server to ask: nothing else can hold its numbers.
        _lift_standalone_hold(url)
        print("standalone kiosk (no server.url): issuing again")
        return 0
    return _reach_server_after_restore(url, config)


def _lift_standalone_hold(url: str) -> None:
    from sqlalchemy.orm import Session

    from kiosk.queue.db import make_engine
    from kiosk.queue.store import clear_hold

    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            clear_hold(session)
    finally:
        engine.dispose()


def _reach_server_after_restore(url: str, config: Config) -> int:
    from kiosk.cli import EXIT_FAULT
    from kiosk.queue.db import make_engine
    from server_sync.client import SyncClient, SyncError

    engine = make_engine(url)
    try:
        client = SyncClient.from_config(engine, config)
        try:
            moved = client.reconcile()
        finally:
            client.close()
    except SyncError as exc:
        print(
            f"the server cannot be reached ({exc}): this kiosk issues no number until it has "
            "reached it once (it tries by itself; or run kiosk sync --once). To issue at once "
            "without it, give the kiosk a numbering block never used before: set "
            "numbering.offset and register it on the server (add-device --numbering-offset)",
            file=sys.stderr,
        )
        return EXIT_FAULT
    finally:
        engine.dispose()
    print(f"moved past the server's high-water marks ({moved} counters moved): issuing again")
    return 0


def register_doctor(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = subparsers.add_parser(
        "doctor",
        parents=[common_options()],
        help="check config, database, printer, server, clock, sync and disk; say how to fix",
    )
    doctor.add_argument(
        "--server",
        action="store_true",
        help="check the central server instead: database, migrations, TLS files, its port, "
        "devices, clock, disk",
    )
    doctor.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: the kiosk's, or server.database_url with --server)",
    )
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from kiosk.doctor import Level, run_checks, run_server_checks

    run = run_server_checks if args.server else run_checks
    checks = run(args.config, database_url=args.database)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.level == Level.FAIL]
    warned = [c for c in checks if c.level == Level.WARN]
    print(f"\n{len(failed)} failed, {len(warned)} warnings, {len(checks)} checks")
    return 1 if failed else 0
