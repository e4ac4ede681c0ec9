"""`kiosk server` (and its device commands) and `kiosk sync`.

The HTTP libraries are imported inside the handlers: other commands never load them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from kiosk.cli import EXIT_FAULT, EXIT_USAGE, CommandError, common_options
from kiosk.config import Config, load_config

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_options()

    server = subparsers.add_parser(
        "server",
        parents=[common],
        help="the central server (FastAPI + uvicorn); device tokens",
        description="Run the central server, or manage the devices allowed to use it.",
    )
    server.add_argument("--host", help="address to listen on (default: server.host)")
    server.add_argument("--port", type=int, help="port (default: server.port)")
    server.add_argument(
        "--database", metavar="URL", help="database URL (default: server.database_url)"
    )
    server.add_argument(
        "--workers",
        type=_worker_count,
        metavar="N",
        help="server processes on the one port (default: server.workers; more than 1 needs "
        "PostgreSQL)",
    )
    server.set_defaults(handler=cmd_server, long_running=True)
    devices = server.add_subparsers(dest="server_command", metavar="SUBCOMMAND")

    db_option = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    db_option.add_argument(
        "--database",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (default: server.database_url)",
    )

    add = devices.add_parser(
        "add-device",
        parents=[common, db_option],
        help="register a device; prints its token once, on the last line",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=("kiosk", "counter", "board", "admin"))
    add.add_argument(
        "--origin",
        metavar="KIOSK_ID",
        help="kiosks: the kiosk.id it pushes events under (default: NAME)",
    )
    add.add_argument(
        "--numbering-offset",
        type=int,
        default=0,
        metavar="N",
        help="kiosks: its numbering.offset (its numbers start at N+1; default 0)",
    )
    add.add_argument(
        "--block-size",
        type=int,
        default=100_000,
        metavar="M",
        help="kiosks: how many numbers a day its block holds (numbering.block_size)",
    )
    add.set_defaults(handler=cmd_add_device, long_running=False)

    listing = devices.add_parser(
        "list-devices", parents=[common, db_option], help="devices, roles, last seen"
    )
    listing.set_defaults(handler=cmd_list_devices, long_running=False)

    revoke = devices.add_parser(
        "revoke-device", parents=[common, db_option], help="revoke a device's token now"
    )
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(handler=cmd_revoke_device, long_running=False)

    user = devices.add_parser(
        "add-user",
        parents=[common, db_option],
        help="add a staff account for the console at /admin (or change its role and password)",
        description="The password is asked twice at the terminal, or read as the first line "
        "of standard input (never from the command line, where other users could see it).",
    )
    user.add_argument("name", metavar="NAME")
    user.add_argument("--role", required=True, choices=("admin", "supervisor", "it"))
    user.set_defaults(handler=cmd_add_user, long_running=False)

    sync = subparsers.add_parser(
        "sync", parents=[common], help="push this kiosk's events and pull the server's feed"
    )
    sync.add_argument("--once", action="store_true", help="one round, print what moved, exit")
    sync.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    sync.set_defaults(handler=cmd_sync, long_running=True)


def _worker_count(value: str) -> int:
    from kiosk.config import MAX_SERVER_WORKERS

    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_SERVER_WORKERS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not allowed; expected a whole number from 1 to {MAX_SERVER_WORKERS}"
        )
    return count


@contextmanager
def _server_database(args: argparse.Namespace) -> Iterator[tuple[Config, Engine]]:
    """The config and the server's migrated database, closed when the command ends."""
    config = load_config(args.config)
    from kiosk.queue.db import open_database

    engine = open_database(getattr(args, "database", None) or config.server_database_url)
    try:
        yield config, engine
    finally:
        engine.dispose()


def cmd_add_device(args: argparse.Namespace) -> int:
    from server_sync.server.devices import DeviceError, add_device

    with _server_database(args) as (_, engine):
        try:
            token = add_device(
                engine,
                args.name,
                args.role,
                origin=args.origin,
                numbering_offset=args.numbering_offset,
                block_size=args.block_size,
            )
        except DeviceError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
    print(f"device {args.name} added with role {args.role}; its token (shown only now):")
    print(token)
    return 0


def _read_password() -> str:
    import getpass
    import sys

    if sys.stdin is None:
        raise CommandError("no password: give it at the terminal or on standard input", EXIT_USAGE)
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CommandError("the two passwords differ; nothing changed", EXIT_USAGE)
    return first


def cmd_add_user(args: argparse.Namespace) -> int:
    import datetime as dt

    from server_sync.server.admin.accounts import AccountError, add_user

    password = _read_password()
    with _server_database(args) as (_, engine):
        try:
            add_user(engine, args.name, args.role, password, dt.datetime.now(dt.UTC))
        except AccountError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
    print(f"user {args.name} can log in to /admin with the role {args.role}")
    return 0


def cmd_list_devices(args: argparse.Namespace) -> int:
    from server_sync.server.devices import list_devices

    with _server_database(args) as (_, engine):
        devices = list_devices(engine)
    if not devices:
        print("no devices; add one with: kiosk server add-device NAME --role ROLE")
        return 0
    print(
        f"{'NAME':<24} {'ROLE':<8} {'STATE':<8} {'CREATED':<17} {'LAST SEEN':<17} ORIGIN / NUMBERS"
    )
    for d in devices:
        state = "revoked" if d.revoked_at else "active"
        seen = d.last_seen_at.strftime("%Y-%m-%d %H:%M") if d.last_seen_at else "never"
        created = d.created_at.strftime("%Y-%m-%d %H:%M")
        block = (
            f"{d.origin} {d.numbering_offset + 1}–{d.numbering_offset + d.block_size}"
            if d.origin
            else ""
        )
        print(f"{d.name:<24} {d.role:<8} {state:<8} {created:<17} {seen:<17} {block}".rstrip())
    return 0


def cmd_revoke_device(args: argparse.Namespace) -> int:
    from server_sync.server.devices import DeviceError, revoke_device

    with _server_database(args) as (_, engine):
        try:
            revoke_device(engine, args.name)
        except DeviceError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
    print(f"device {args.name} revoked")
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    import uvicorn

    from server_sync.server.app import UnsafeServerConfig, check_listen_settings, create_app
    from server_sync.server.serving import NotifyingServer

    with _server_database(args) as (config, engine):
        host = args.host or config.server.host
        port = args.port or config.server.port
        workers = args.workers or config.server.workers
        try:
            check_listen_settings(config, host)
        except UnsafeServerConfig as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
        if workers > 1 and engine.dialect.name != "postgresql":
            raise CommandError(
                f"server.workers = {workers} needs PostgreSQL (server.database_url): the "
                "processes of a SQLite server cannot wake each other's long-polls; use 1",
                EXIT_USAGE,
            )
        tls = {
            "ssl_certfile": config.server.cert_file or None,
            "ssl_keyfile": config.server.key_file or None,
        }
        scheme = "https" if config.server.cert_file else "http"
        log.info(
            "serving %s on %s://%s:%d with %d worker%s",
            engine.url.render_as_string(),
            scheme,
            host,
            port,
            workers,
            "s" if workers > 1 else "",
        )
        if workers > 1:
            return _serve_with_workers(args, engine, host, port, workers, tls)
        uv_config = uvicorn.Config(
            create_app(engine, config, freeze_start_up=True),
            host=host,
            port=port,
            proxy_headers=True,
            timeout_graceful_shutdown=5,
            server_header=False,
            # One log line per request costs more than answering /health: only with -v.
            access_log=args.verbose,
            **tls,  # type: ignore[arg-type]
        )
        server = NotifyingServer(uv_config)
        server.run()
        return 0 if server.started else EXIT_FAULT


def _serve_with_workers(
    args: argparse.Namespace,
    engine: Engine,
    host: str,
    port: int,
    workers: int,
    tls: dict[str, str | None],
) -> int:
    """uvicorn's process model: the port held here, `workers` processes each accepting on a
    socket of its own bound to it (`serving.ListenerPerWorker`), each building the app from
    the environment set here (`serving.worker_app`)."""
    import os

    import uvicorn

    from kiosk.config import resolve_config_path
    from server_sync.server import serving

    config_path = resolve_config_path(args.config)
    os.environ[serving.WORKER_CONFIG_ENV] = str(config_path) if config_path else ""
    os.environ[serving.WORKER_DATABASE_ENV] = engine.url.render_as_string(hide_password=False)
    os.environ[serving.WORKER_VERBOSE_ENV] = "1" if getattr(args, "verbose", False) else "0"
    os.environ[serving.WORKER_COUNT_ENV] = str(workers)
    engine.dispose()  # the workers open their own connections
    uv_config = uvicorn.Config(
        serving.WORKER_APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        server_header=False,
        access_log=bool(getattr(args, "verbose", False)),
        **tls,  # type: ignore[arg-type]
    )
    try:
        held = serving.hold_port(host, port)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        bound = int(held.getsockname()[1])
        log.info("serving %s:%d with %d workers, a socket each", host, bound, workers)
        supervisor = serving.WorkerSupervisor(uv_config, port=bound)
        supervisor.run()
    finally:
        held.close()
    return 0 if supervisor.ready else EXIT_FAULT


def cmd_sync(args: argparse.Namespace) -> int:
    from server_sync.client import SyncClient, SyncError, SyncWorker

    config = load_config(args.config)
    from kiosk.queue.store import open_kiosk_store

    engine = open_kiosk_store(
        args.database or config.kiosk_database_url,
        origin=config.kiosk.id,
        offset=config.numbering.offset,
        has_server=bool(config.server.url),
    )
    try:
        client = SyncClient.from_config(engine, config)
    except SyncError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    try:
        if args.once:
            try:
                report = client.sync_once()
            except SyncError as exc:
                raise CommandError(f"sync failed: {exc}", EXIT_FAULT) from None
            print(report.summary())
            if report.push.renumbered:
                print(f"sent {report.push.renumbered} events again under new seqs")
            for event_id, reason in report.push.rejected:
                print(f"rejected {event_id}: {reason}")
            return 0
        worker = SyncWorker(client, interval=config.server.sync_interval_seconds)
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        worker.start()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        worker.stop()
        return 0
    finally:
        client.close()
        engine.dispose()
