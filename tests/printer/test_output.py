"""ESC/POS bytes and their delivery to a TCP printer on 127.0.0.1 that answers DLE EOT."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from kiosk.config import PrinterConfig
from printer.connection import parse_connection
from printer.errors import PrinterError, PrintFailed
from printer.output import TicketPrinter
from printer.status import PrinterState
from printer.ticket import layout_ticket, render_ticket
from tests.printer.conftest import PrinterPeer
from tests.printer.escpos_stream import parse, significant
from tests.printer.test_ticket import URL, content

Peer = Callable[..., PrinterPeer]


def printer_for(connection: str, **options: object) -> TicketPrinter:
    config = PrinterConfig(connection=connection, **options)  # type: ignore[arg-type]
    return TicketPrinter(config, status_timeout=0.5)


def rasters(job: bytes) -> list[tuple[int, int]]:
    return [(c.width_bytes, c.height) for c in parse(job) if c.name == "raster"]


@pytest.mark.parametrize(
    ("paper", "profile", "width_bytes"), [(80, "TM-T20II", 72), (58, "POS-5890", 48)]
)
def test_raster_job_is_init_image_then_cut(paper: int, profile: str, width_bytes: int) -> None:
    printer = printer_for("file:/dev/null", paper_width_mm=paper, profile=profile)
    image = render_ticket(content(), paper)
    commands = significant(parse(printer.encode(image)))
    assert commands[0].name == "init"
    bands = [c for c in commands if c.name == "raster"]
    assert {c.width_bytes for c in bands} == {width_bytes}
    assert sum(c.height for c in bands) == image.height
    if profile == "TM-T20II":
        assert commands[-1].name == "cut"
    else:  # no cutter: a tear line and a feed instead
        assert "cut" not in {c.name for c in commands}
        assert commands[-1].name == "feed"


def test_compact_job_uses_native_qr_and_is_smaller() -> None:
    raster = printer_for("file:/dev/null")
    compact = printer_for("file:/dev/null", encoding="compact")
    ticket = content()
    image = render_ticket(ticket, 80)
    raster_job, compact_job = raster.encode(image, ticket), compact.encode(image, ticket)
    assert len(compact_job) < len(raster_job) * 0.7
    commands = significant(parse(compact_job))
    assert commands[0].name == "init" and commands[-1].name == "cut"
    assert URL.encode() in [c.data for c in commands if c.name == "qr"]
    assert b"B012" in compact_job  # the code as native text
    assert all(w <= 72 for w, _ in rasters(compact_job))


def test_unknown_or_too_narrow_profile_is_refused() -> None:
    with pytest.raises(PrinterError, match=r"unknown printer\.profile"):
        printer_for("network:127.0.0.1", profile="no-such-printer")
    with pytest.raises(PrinterError, match="512 dots"):
        printer_for("network:127.0.0.1", profile="TM-T88V")


def test_profile_without_width_takes_the_paper_width(capsys: pytest.CaptureFixture[str]) -> None:
    printer = printer_for("file:/dev/null", profile="default")
    job = printer.encode(render_ticket(content(), 80))
    assert {w for w, _ in rasters(job)} == {72}
    assert capsys.readouterr().out == ""  # python-escpos's centering notice is not printed


@pytest.mark.parametrize(
    ("mode", "state"),
    [
        ("online", PrinterState.READY),
        ("near_end", PrinterState.PAPER_NEAR_END),
        ("paper_out", PrinterState.PAPER_OUT),
        ("cover_open", PrinterState.COVER_OPEN),
        ("silent", PrinterState.UNKNOWN),
    ],
)
def test_status_from_the_printer(peer: Peer, mode: str, state: PrinterState) -> None:
    server = peer(mode)
    status = printer_for(server.connection).status()
    assert status.state == state
    assert status.can_issue == (state in {"ready", "paper_near_end", "unknown"})
    assert server.status_requests[0] == 1


def test_status_of_an_unreachable_printer_is_offline(peer: Peer) -> None:
    server = peer()
    server.close()  # nothing listens on this port any more
    status = printer_for(server.connection).status()
    assert status.state == PrinterState.OFFLINE
    assert not status.can_issue
    assert "127.0.0.1" in status.detail


@pytest.mark.parametrize("connection", ["file:/tmp/x", "none"])
def test_connections_that_cannot_answer_report_unknown(connection: str) -> None:
    status = printer_for(connection).status()
    assert status.state == PrinterState.UNKNOWN and status.can_issue


def test_print_reaches_the_printer(peer: Peer) -> None:
    server = peer()
    printer = printer_for(server.connection)
    assert printer.status().state == PrinterState.READY
    image = render_ticket(content(), 80)
    printer.print_ticket(image, content())
    assert server.wait_for(lambda: len(server.jobs) == 1)
    commands = significant(parse(server.jobs[0]))
    assert commands[0].name == "init"
    assert {c.width_bytes for c in commands if c.name == "raster"} == {72}
    assert sum(c.height for c in commands if c.name == "raster") == image.height
    # The cut ends the ticket; only the check that the printer is still there follows it.
    names = [c.name for c in commands]
    assert names[names.index("cut") :] == ["cut", "status", "status"]


def test_peer_closing_mid_image_fails_the_print(peer: Peer) -> None:
    server = peer(close_after=5000)
    printer = printer_for(server.connection)
    printer.status()
    with pytest.raises(PrintFailed, match=r"network:127\.0\.0\.1:\d+: .*check"):
        printer.print_ticket(render_ticket(content(), 80), content())


def test_unreachable_printer_fails_with_one_line(peer: Peer) -> None:
    server = peer()
    server.close()
    with pytest.raises(PrintFailed) as caught:
        printer_for(server.connection).print_ticket(render_ticket(content(), 80))
    message = str(caught.value)
    assert "\n" not in message
    assert server.connection in message and "IP address" in message


def test_a_stuck_device_times_out(tmp_path: Path) -> None:
    fifo = tmp_path / "printer"
    os.mkfifo(fifo)  # opening it for writing blocks until a reader comes: a hung device
    printer = printer_for(f"file:{fifo}", timeout_seconds=0.3)
    try:
        with pytest.raises(PrintFailed, match=r"not sent within 0\.3 s"):
            printer.print_ticket(render_ticket(content(), 80))
    finally:
        # Release the helper thread still blocked in open().
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        os.close(fd)


def test_preview_writes_a_png(tmp_path: Path) -> None:
    printer = printer_for(f"preview:{tmp_path / 'tickets'}")
    assert printer.status().state == PrinterState.READY
    printer.print_ticket(render_ticket(content(), 80), content())
    assert printer.last_preview is not None
    with Image.open(printer.last_preview) as saved:
        assert saved.mode == "1" and saved.width == 576


def test_file_connection_writes_the_job(tmp_path: Path) -> None:
    target = tmp_path / "job.bin"
    printer = printer_for(f"file:{target}")
    printer.print_ticket(render_ticket(content(), 80))
    commands = significant(parse(target.read_bytes()))
    assert commands[0].name == "init" and commands[-1].name == "cut"


def test_connection_strings() -> None:
    assert parse_connection("network:10.0.0.5").number == 9100
    assert parse_connection("serial:/dev/ttyUSB0:19200").number == 19200
    usb = parse_connection("usb:04b8:0202")
    assert (usb.vendor, usb.product) == (0x04B8, 0x0202)
    assert "`lp`" in usb.hint
    with pytest.raises(PrinterError):
        parse_connection("network:host:99999")


def test_blocks_layout_is_reused_by_compact() -> None:
    names = [b.name for b in layout_ticket(content(), 80)]
    assert names.index("code") < names.index("qr")
