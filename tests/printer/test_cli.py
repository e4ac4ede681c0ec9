"""`kiosk print-test` and `kiosk issue --print/--png`: exit 3 and one line for a bad printer."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli import EXIT_PRINTER, main
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from tests.support.database import SEED_FILE
from tests.support.printer import PrinterPeer

Peer = Callable[..., PrinterPeer]


@pytest.fixture(autouse=True)
def fresh_log_handler() -> Iterator[None]:
    """main() adds a stderr handler once per process; drop it so each test's capsys sees logs."""
    logger = logging.getLogger("kiosk")
    before = list(logger.handlers)
    yield
    for handler in logger.handlers:
        if handler not in before:
            logger.removeHandler(handler)


@pytest.fixture
def kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[str]]:
    """Writes a config for a connection; returns the common arguments."""
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    database = f"sqlite:///{tmp_path / 'kiosk.db'}"
    assert main(["seed", str(SEED_FILE), "--database", database]) == 0

    def configure(connection: str) -> list[str]:
        config = tmp_path / "kiosk.toml"
        config.write_text(f'[printer]\nconnection = "{connection}"\ntimeout_seconds = 5\n')
        return ["--config", str(config), "--database", database]

    return configure


def tickets(database_args: list[str]) -> list[str]:
    engine = open_database(database_args[-1])
    try:
        service = QueueService(engine, origin="kiosk-1")
        return [t.status for t in service.tickets_on(service.service_date())]
    finally:
        engine.dispose()


def test_print_test_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "test.png"
    assert main(["print-test", "--png", str(target)]) == 0
    with Image.open(target) as image:
        assert image.mode == "1" and image.width == 576
    assert str(target) in capsys.readouterr().out


def test_print_test_on_a_printer(
    kiosk: Callable[[str], list[str]], peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = peer()
    args = kiosk(server.connection)[:2]
    assert main(["print-test", *args]) == 0
    assert server.wait_for(lambda: len(server.jobs) == 1)
    assert "ready" in capsys.readouterr().out


def test_issue_print_and_png(
    kiosk: Callable[[str], list[str]], peer: Peer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    server = peer()
    args = kiosk(server.connection)
    png = tmp_path / "ticket.png"
    assert main(["issue", "NOI", "--print", "--png", str(png), *args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["code"] == "B001" and out["status"] == "waiting"
    assert server.wait_for(lambda: len(server.jobs) == 1)
    assert png.is_file()


def test_issue_png_without_printer(
    kiosk: Callable[[str], list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = kiosk("none")
    png = tmp_path / "ticket.png"
    assert main(["issue", "NOI", "--png", str(png), "--language", "en", *args]) == 0
    assert json.loads(capsys.readouterr().out)["code"] == "B001"
    with Image.open(png) as image:
        assert image.width == 576


def test_unreachable_printer_exit_3_nothing_issued(
    kiosk: Callable[[str], list[str]], peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = peer()
    server.close()
    args = kiosk(server.connection)
    assert main(["issue", "NOI", "--print", *args]) == EXIT_PRINTER
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = [x for x in captured.err.splitlines() if x.startswith("kiosk:")]
    assert captured.err.strip().splitlines()[-1] == line
    assert server.connection in line and "IP address" in line and "no ticket issued" in line
    assert "Traceback" not in captured.err
    assert tickets(args) == []
    assert main(["print-test", *args[:2]]) == EXIT_PRINTER


def test_paper_out_exit_3(
    kiosk: Callable[[str], list[str]], peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = kiosk(peer("paper_out").connection)
    assert main(["issue", "NOI", "--print", *args]) == EXIT_PRINTER
    assert "paper out" in capsys.readouterr().err
    assert tickets(args) == []


def test_failed_print_exit_3_ticket_cancelled(
    kiosk: Callable[[str], list[str]], peer: Peer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = kiosk(peer(close_after=5000).connection)
    assert main(["issue", "NOI", "--print", *args]) == EXIT_PRINTER
    err = capsys.readouterr().err
    assert "B001 cancelled (print_failed)" in err and "Traceback" not in err
    assert tickets(args) == ["cancelled"]


@pytest.mark.parametrize(
    ("connection", "expected"),
    [("none", "printer.connection is none"), ("usb:04b8:0202", "usb:04b8:0202")],
)
def test_misconfigured_printer_exit_3(
    kiosk: Callable[[str], list[str]], capsys: pytest.CaptureFixture[str],
    connection: str, expected: str,
) -> None:  # fmt: skip
    args = kiosk(connection)
    assert main(["issue", "NOI", "--print", *args]) == EXIT_PRINTER
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert tickets(args) == []
