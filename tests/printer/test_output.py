"""ESC/POS bytes and their delivery to a TCP printer on 127.0.0.1 that answers DLE EOT."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from kiosk.config import PrinterConfig
from printer.connection import parse_connection
from printer.encoding import profile_info
from printer.errors import PrinterError, PrintFailed
from printer.output import TicketPrinter
from printer.status import PrinterState
from printer.ticket import PAPER_DOTS, TicketContent, layout_ticket, render_ticket
from tests.printer.escpos_stream import parse, printed_raster, printed_text, significant
from tests.support.printer import PrinterPeer
from tests.support.ticket import LONG_NAME, URL, VIETNAMESE_LETTERS, content

Peer = Callable[..., PrinterPeer]


def printer_for(connection: str, **options: object) -> TicketPrinter:
    config = PrinterConfig(connection=connection, **options)  # type: ignore[arg-type]
    return TicketPrinter(config, status_timeout=0.5)


def rasters(job: bytes) -> list[tuple[int, int]]:
    return [(c.width_bytes, c.height) for c in parse(job) if c.name == "raster"]


def same_image(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


def qr_texts(image: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(image.convert("L"))
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize(
    ("paper", "profile", "width_bytes"), [(80, "TM-T20II", 72), (58, "POS-5890", 48)]
)
@pytest.mark.parametrize("priority", [None, "Ưu tiên: Người từ 75 tuổi"])
def test_raster_job_prints_exactly_the_rendered_ticket(
    paper: int, profile: str, width_bytes: int, priority: str | None
) -> None:
    printer = printer_for("file:/dev/null", paper_width_mm=paper, profile=profile)
    ticket = content(priority_label=priority, department_name=LONG_NAME)
    image = render_ticket(ticket, paper)
    for job in (printer.encode(image, ticket), printer.encode(image)):  # blocks, or the image
        commands = significant(parse(job))
        assert commands[0].name == "init"
        assert "qr" not in {c.name for c in commands}
        assert all(c.width_bytes <= width_bytes for c in commands if c.name == "raster")
        on_paper = printed_raster(job, PAPER_DOTS[paper])
        assert same_image(on_paper, image)
        assert qr_texts(on_paper) == [URL]
        if profile == "TM-T20II":
            assert commands[-1].name == "cut"
        else:  # no cutter: a tear line and a feed instead
            assert "cut" not in {c.name for c in commands}
            assert commands[-1].name == "feed"
    # The code goes at quadruple density: a quarter of the bytes for the same dots.
    assert 3 in {c.mode for c in parse(printer.encode(image, ticket)) if c.name == "raster"}


def test_raster_job_is_within_40_kb_on_80_mm() -> None:
    ticket = content(priority_label="Ưu tiên: Người từ 75 tuổi", department_name=LONG_NAME)
    job = printer_for("file:/dev/null").encode(render_ticket(ticket, 80), ticket)
    assert len(job) <= 40 * 1024


def every_line(ticket: TicketContent) -> list[str]:
    return [
        ticket.hospital_name,
        ticket.department_name,
        "SỐ THỨ TỰ CỦA BẠN",
        ticket.code,
        "Nơi khám:",
        ticket.directions,
        "Số người đang chờ trước bạn: 5",
        "Thời gian chờ dự kiến: khoảng 14 phút",
        "Giờ lấy số: 09:05  28/11/2026",
        "Quét mã để xem lượt của bạn",
        ticket.footer,
    ]


@pytest.mark.parametrize(("profile", "pages"), [("TM-T20II", "tcvn-3"), ("NT-80-V-UL", "cp1258")])
def test_compact_job_prints_vietnamese_in_the_printer_font(profile: str, pages: str) -> None:
    printer = printer_for("file:/dev/null", encoding="compact", profile=profile)
    letters = " ".join(VIETNAMESE_LETTERS[i : i + 12] for i in range(0, 144, 12))
    ticket = content(department_name=letters.upper(), directions=letters)
    job = printer.encode(render_ticket(ticket, 80), ticket)
    assert profile_info(profile, 80).text.name == pages
    commands = significant(parse(job))
    assert commands[0].name == "init" and commands[-1].name == "cut"
    # Every line in the printer's font: the only images left are the two rules.
    assert [c.height for c in commands if c.name == "raster"] == [2, 2]
    assert [c.data for c in commands if c.name == "qr" and c.data] == [URL.encode()]
    text = " ".join(" ".join(printed_text(job, profile)).split())
    for line in every_line(ticket):
        assert " ".join(line.split()) in text, line
    assert "\ufffd" not in text and "?" not in text


def test_compact_job_is_small_and_keeps_the_priority_band() -> None:
    printer = printer_for("file:/dev/null", encoding="compact")
    raster = printer_for("file:/dev/null")
    ticket = content(priority_label="Ưu tiên: Người từ 75 tuổi", department_name=LONG_NAME)
    image = render_ticket(ticket, 80)
    job = printer.encode(image, ticket)
    assert len(job) <= 8 * 1024 < len(raster.encode(image, ticket))
    lines = printed_text(job, "TM-T20II")
    assert "ƯU TIÊN" in lines and "Người từ 75 tuổi" in lines
    reverse = [c.argument for c in parse(job) if c.name == "reverse"]
    assert 1 in reverse and reverse[-1] == 0  # white on black, then back


def test_compact_without_a_vietnamese_code_page_rasterises_only_vietnamese_lines() -> None:
    printer = printer_for("file:/dev/null", encoding="compact", profile="TSP600")
    ticket = content(language="en", hospital_name="Ha Giang General Hospital", footer="Thank you")
    job = printer.encode(render_ticket(ticket, 80), ticket)
    lines = printed_text(job, "TSP600")
    assert "Ha Giang General Hospital" in lines and "B012" in lines and "Thank you" in lines
    assert not any("\ufffd" in line for line in lines)
    # The Vietnamese directions have no code page here: they are the one raster line block.
    assert "Tầng 1, dãy nhà A, phòng 101 đến 103" not in " ".join(lines)
    assert len(rasters(job)) >= 1


def test_compact_on_a_printer_without_native_qr_sends_the_qr_as_raster() -> None:
    printer = printer_for(
        "file:/dev/null", encoding="compact", paper_width_mm=58, profile="POS-5890"
    )
    ticket = content()
    job = printer.encode(render_ticket(ticket, 58), ticket)
    assert "qr" not in {c.name for c in parse(job)}
    assert qr_texts(printed_raster(job, 384)) == [URL]
    text = " ".join(printed_text(job, "POS-5890"))  # Windows-1258 on this model
    assert "Bệnh viện Đa khoa tỉnh Hà Giang" in text


def test_unknown_or_too_narrow_profile_is_refused() -> None:
    with pytest.raises(PrinterError, match=r"unknown printer\.profile"):
        printer_for("network:127.0.0.1", profile="no-such-printer")
    with pytest.raises(PrinterError, match="512 dots"):
        printer_for("network:127.0.0.1", profile="TM-T88V")


def test_profile_without_width_takes_the_paper_width(capsys: pytest.CaptureFixture[str]) -> None:
    printer = printer_for("file:/dev/null", profile="default")
    image = render_ticket(content(), 80)
    job = printer.encode(image)
    assert same_image(printed_raster(job, 576), image)
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
    assert same_image(printed_raster(server.jobs[0], 576), image)
    # The cut ends the ticket; only the check that the printer is still there follows it.
    names = [c.name for c in commands]
    assert names[names.index("cut") :] == ["cut", "status", "status"]


def test_peer_closing_mid_image_fails_the_print(peer: Peer) -> None:
    server = peer(close_after=5000)
    printer = printer_for(server.connection)
    printer.status()
    with pytest.raises(PrintFailed, match=r"network:127\.0\.0\.1:\d+: .*check"):
        printer.print_ticket(render_ticket(content(), 80), content())


def test_a_printer_that_takes_the_job_and_stays_silent_has_printed(peer: Peer) -> None:
    # Busy printing, it does not answer the status check after the job: that is not a failure,
    # whichever of the sender's clocks runs out first.
    server = peer()
    printer = printer_for(server.connection, timeout_seconds=1.0)
    assert printer.status().state == PrinterState.READY
    server.mode = "silent"
    printer.print_ticket(render_ticket(content(), 80), content())
    assert server.wait_for(lambda: len(server.jobs) == 1)


def test_a_printer_that_stops_reading_mid_job_fails_the_print(peer: Peer) -> None:
    # On loopback the kernel's send buffer takes most of the job, so the writes return;
    # the bytes the printer never acknowledges show that it did not take the ticket. The
    # sending thread says so itself, before the caller's own clock runs out.
    server = peer(stop_reading_after=1)
    printer = printer_for(server.connection, timeout_seconds=1.0)
    printer.status()
    with pytest.raises(PrintFailed, match=r"did not take the ticket|stopped mid-ticket"):
        printer.print_ticket(render_ticket(content(), 80), content())
    assert server.jobs == []


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
