"""The `kiosk` command: one console script for every program of the product."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Hospital queue-number kiosk, counter, board and server.",
        parents=[common_options()],
        allow_abbrev=False,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _no_abbreviations(parser)
    return parser


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """No option is taken from a prefix of its name, in any subcommand: `kiosk demo --screen
    X` is an error, never `--screenshot X`."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _no_abbreviations(child)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", False)
    # Subcommands that keep running set `long_running=True` with set_defaults().
    setup_logging(args.verbose, long_running=getattr(args, "long_running", False))
    try:
        result: int | None = args.handler(args)
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
