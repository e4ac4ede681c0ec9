"""The `kiosk` command: one console script for every program of the product."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from kiosk.config import ConfigError
from kiosk.errors import OutputNotWritten
from kiosk.logs import setup_logging
from kiosk.queue.errors import (
    DatabaseError,
    QueueError,
    SeedError,
    UnknownDepartment,
    UnknownPriority,
)

log = logging.getLogger(__name__)

# Each module adds its subcommands with `register(subparsers)`.
COMMAND_MODULES = (
    "kiosk.commands.queue",
    "kiosk.commands.ops",
    "kiosk.commands.printing",
    "kiosk.commands.server",
    "kiosk.commands.ui",
    "kiosk.commands.staff",
)
# The module that registers each command: `kiosk COMMAND ...` imports and registers only that
# one (`kiosk run` starts without the server's, the printer's and the staff screens'
# modules); help, a mistyped command or none at all register them all, so argparse answers as
# ever. A test holds this table to what the modules register.
COMMANDS = {
    "seed": "kiosk.commands.queue",
    "issue": "kiosk.commands.queue",
    "report": "kiosk.commands.queue",
    "backup": "kiosk.commands.ops",
    "restore": "kiosk.commands.ops",
    "doctor": "kiosk.commands.ops",
    "print-test": "kiosk.commands.printing",
    "server": "kiosk.commands.server",
    "sync": "kiosk.commands.server",
    "run": "kiosk.commands.ui",
    "set-pin": "kiosk.commands.ui",
    "counter": "kiosk.commands.staff",
    "board": "kiosk.commands.staff",
    "demo": "kiosk.commands.staff",
}

EXIT_FAULT = 1
EXIT_USAGE = 2  # bad config, bad arguments, unknown department
EXIT_PRINTER = 3


class CommandError(Exception):
    """A command cannot go on; `message` is one line for the user, `exit_code` the status."""

    def __init__(self, message: str, exit_code: int = EXIT_FAULT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand takes, before or after its name."""
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="TOML config (default: $KIOSK_CONFIG, then /etc/kiosk/kiosk.toml, then built-in)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug detail"
    )
    return common


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the arguments it will parse, only their command's part
    (the same parse, the same errors)."""
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Hospital queue-number kiosk, counter, board and server.",
        parents=[common_options()],
        allow_abbrev=False,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command = None if argv is None else command_named(argv)
    for name in COMMAND_MODULES if command is None else (COMMANDS[command],):
        importlib.import_module(name).register(subparsers)
    _no_abbreviations(parser)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` runs, when nothing but the common options stands before it; None
    when anything else does (help, a mistyped command or option, none at all)."""
    rest = list(argv)
    while rest:
        word = rest.pop(0)
        if word in ("-v", "--verbose") or word.startswith("--config="):
            continue
        if word == "--config" and rest:
            rest.pop(0)
            continue
        return word if word in COMMANDS else None
    return None


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """No option is taken from a prefix of its name, in any subcommand: `kiosk demo --screen
    X` is an error, never `--screenshot X`."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _no_abbreviations(child)


def exit_at_once(status: int) -> NoReturn:
    """End the process now, its output written: a one-shot command (`kiosk issue`) has
    committed and printed its answer, and the interpreter's teardown of what it loaded
    (SQLAlchemy, pydantic: ~100,000 objects) would add ~0.1 s to a ~0.7 s process. Its store
    is left as a power cut right after the commit leaves it (the commit is durable, SQLite's
    WAL is read again by the next opener), which it is built to survive."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: the status Python itself gives for a failed flush at exit
        status = status or 120
    logging.shutdown()
    os._exit(status)


def main(argv: Sequence[str] | None = None, *, console_script: bool = False) -> int:
    """Run one command; its exit status. As the console script (`console_script`), a command
    that sets `exit_at_once` ends the process itself once its answer is out (`exit_at_once`)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", False)
    if not getattr(args, "collect_after_first_screen", False):
        gc.enable()  # paused by the console script while the modules loaded (kiosk/__main__.py)
    # Subcommands that keep running set `long_running=True` with set_defaults().
    setup_logging(args.verbose, long_running=getattr(args, "long_running", False))
    try:
        result: int | None = args.handler(args)
        if console_script and getattr(args, "exit_at_once", False):
            exit_at_once(result or 0)
        return result or 0
    except ConfigError as exc:
        print(f"kiosk: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (UnknownDepartment, UnknownPriority, SeedError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return exc.exit_code
    except OutputNotWritten as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (QueueError, DatabaseError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_FAULT
    except KeyboardInterrupt:
        return 130
    finally:
        gc.enable()
