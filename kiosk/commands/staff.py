"""`kiosk counter`, `kiosk board` and `kiosk demo`: the staff screens and the whole demo.

Qt, requests and uvicorn are imported inside the handlers, so other commands start without
them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kiosk.cli import EXIT_USAGE, CommandError, common_options
from kiosk.commands.ui import _size
from kiosk.config import Config, load_config

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_options()

    counter = subparsers.add_parser(
        "counter",
        parents=[common],
        help="the nurse's counter display of one room",
        description="Call, recall, finish and transfer patients of one department's room.",
    )
    counter.add_argument("--department", required=True, metavar="CODE", help="e.g. NOI")
    counter.add_argument("--room", required=True, metavar="ROOM", help="e.g. 101")
    counter.add_argument("--language", choices=("vi", "en"), help="default: the first configured")
    _screen_options(counter, (1366, 768))
    counter.set_defaults(handler=cmd_counter, long_running=True)

    board = subparsers.add_parser(
        "board",
        parents=[common],
        help="the waiting-room board (fullscreen TV): calls, counts, announcements",
    )
    board.add_argument(
        "--department",
        action="append",
        default=[],
        metavar="CODE",
        help="show only this department (repeat for several; default: all)",
    )
    board.add_argument("--windowed", action="store_true", help="not fullscreen")
    _screen_options(board, (1920, 1080))
    board.set_defaults(handler=cmd_board, long_running=True)

    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="everything on this machine: server, kiosk, counter and board over HTTP",
    )
    demo.add_argument(
        "--screenshot",
        type=Path,
        metavar="DIR",
        help="render demo-kiosk.png, demo-counter.png, demo-board.png into DIR and exit",
    )
    demo.add_argument(
        "--port",
        type=int,
        metavar="N",
        help="the demo server's port (default: [server] port of the config, 8080; 0: any free)",
    )
    demo.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="close the demo by itself after this many seconds (checks, CI)",
    )
    demo.set_defaults(handler=cmd_demo, long_running=True)


def _screen_options(parser: argparse.ArgumentParser, size: tuple[int, int]) -> None:
    parser.add_argument(
        "--screenshot", type=Path, metavar="PATH", help="render the screen to a PNG and exit"
    )
    parser.add_argument(
        "--size",
        type=_size,
        default=size,
        metavar="WxH",
        help=f"screenshot size (default {size[0]}x{size[1]})",
    )


def _client(config: Config) -> object:
    from server_sync.client import SyncNotConfigured
    from server_sync.staff import StaffClient

    try:
        return StaffClient.from_config(config)
    except SyncNotConfigured as exc:
        raise CommandError(
            f"{exc} (set [server] url and token_file; a token comes from "
            "`kiosk server add-device NAME --role counter|board`)",
            EXIT_USAGE,
        ) from None


def _check_department(config: Config, client: object, code: str, room: str | None = None) -> None:
    """Fail fast on an unknown department, or a room that is not one of its rooms, when the
    server can say so (with the valid choices); offline is fine."""
    from server_sync.client import SyncError
    from server_sync.staff import StaffClient

    assert isinstance(client, StaffClient)
    try:
        departments = {d.code: d for d in client.departments()}
    except SyncError as exc:
        log.warning("cannot reach the server yet (%s); the screen will keep trying", exc)
        return
    department = departments.get(code.upper())
    if department is None:
        raise CommandError(
            f"unknown department {code!r}; the server has: {', '.join(departments)}", EXIT_USAGE
        )
    if room is not None and room not in department.rooms:
        valid = ", ".join(f"{r} ({department.room_name(r, 'vi')})" for r in department.rooms)
        raise CommandError(
            f"unknown room {room!r} of department {department.code}; its rooms: "
            f"{valid or '(none: add rooms to the seeds file)'}",
            EXIT_USAGE,
        )


def cmd_counter(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.screenshot and not config.server.url:
        from kiosk.demo import render_staff_screenshot

        path = render_staff_screenshot("counter", args.screenshot, args.size)
        print(f"screenshot written to {path}")
        return 0
    client = _client(config)
    _check_department(config, client, args.department, args.room)
    from kiosk.ui.staff_app import run_counter

    return run_counter(
        config,
        client,
        department=args.department,
        room=args.room,
        language=args.language,
        screenshot=args.screenshot,
        size=args.size,
    )


def cmd_board(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.screenshot and not config.server.url:
        from kiosk.demo import render_staff_screenshot

        path = render_staff_screenshot("board", args.screenshot, args.size)
        print(f"screenshot written to {path}")
        return 0
    client = _client(config)
    for code in args.department:
        _check_department(config, client, code)
    from kiosk.ui.staff_app import run_board

    return run_board(
        config,
        client,
        departments=args.department,
        fullscreen=not args.windowed,
        screenshot=args.screenshot,
        size=args.size,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    if args.screenshot:
        from kiosk.demo import render_demo_screenshots

        for path in render_demo_screenshots(args.screenshot):
            print(f"screenshot written to {path}")
        return 0
    from kiosk.demo import DemoPortBusy, run_demo

    config = load_config(args.config)
    port = config.server.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise CommandError(f"--port {port}: expected 0 to 65535", EXIT_USAGE)
    try:
        return run_demo(quit_after=args.quit_after, port=port)
    except DemoPortBusy as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
