"""The command line registers only the command it runs: the same parse and the same errors as
with every command registered, and `kiosk run` starts without the other commands' modules."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from kiosk.cli import COMMAND_MODULES, COMMANDS, build_parser, command_named


def test_the_table_names_the_module_that_registers_each_command() -> None:
    registered: dict[str, str] = {}
    for name in COMMAND_MODULES:
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(subparsers)
        registered.update(dict.fromkeys(subparsers.choices, name))
    assert registered == COMMANDS


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--screenshot", "home.png", "--size", "1920x1080", "--language", "en"],
        ["--config", "run", "-v", "run", "--database", "sqlite:///k.db"],
        ["--config=kiosk.toml", "issue", "NOI", "--priority", "elderly_75"],
        ["server", "add-device", "kiosk-9", "--role", "kiosk", "--config", "c.toml"],
        ["-v", "report", "--date", "2026-11-28", "--format", "json"],
        ["counter", "--department", "NOI", "--room", "P.101"],
        ["print-test", "--png", "t.png"],
        ["doctor"],
    ],
)
def test_one_command_parses_as_with_every_command_registered(argv: list[str]) -> None:
    assert command_named(argv) is not None
    assert vars(build_parser(argv).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["rnu"],
        ["--config"],
        ["--verbose=1", "run"],
        ["--", "run"],
        ["--bogus", "run"],
    ],
)
def test_anything_else_registers_every_command(argv: list[str]) -> None:
    assert command_named(argv) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--bogus"],
        ["run", "--size", "0x-1"],
        ["issue"],
        ["server", "add-device", "k", "--role", "king"],
        ["rnu"],
        [],
    ],
)
def test_errors_are_the_same(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    answers = []
    for parser in (build_parser(argv), build_parser()):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(argv)
        answers.append((exit_.value.code, capsys.readouterr().err))
    assert answers[0] == answers[1]
    assert answers[0][0] == 2


def test_kiosk_run_imports_no_other_command_module() -> None:
    code = (
        "import sys; from kiosk.cli import build_parser; "
        "build_parser(['run']).parse_args(['run']); "
        "print(sorted(m for m in sys.modules if m.startswith('kiosk.commands.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    # ui takes `open_service` from queue only when it opens the store (after the first
    # screen); ops, printing, queue, server and staff stay unloaded.
    assert done.stdout.split() == ["['kiosk.commands.ui']"]
