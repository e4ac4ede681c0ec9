"""`kiosk print-test`: print (or render) a test ticket on the configured printer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.cli import EXIT_PRINTER, CommandError, common_options
from kiosk.config import Config, load_config

if TYPE_CHECKING:
    from printer.output import TicketPrinter


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    test = subparsers.add_parser(
        "print-test",
        parents=[common_options()],
        help="print (or render) a test ticket on the configured printer",
    )
    test.add_argument(
        "--png", type=Path, metavar="PATH", help="only render the test ticket to this PNG"
    )
    test.add_argument("--language", choices=("vi", "en"), default="vi")
    test.set_defaults(handler=cmd_print_test)


def make_printer(config: Config) -> TicketPrinter:
    """The configured TicketPrinter; a misconfiguration becomes exit code 3."""
    from printer.errors import PrinterError
    from printer.output import TicketPrinter

    if config.printer.connection == "none":
        raise CommandError(
            "printer.connection is none: there is no printer to use; set printer.connection "
            "(e.g. usb:04b8:0202 or network:192.168.1.50) or use --png PATH",
            EXIT_PRINTER,
        )
    try:
        return TicketPrinter(config.printer, data_dir=config.data_dir)
    except PrinterError as exc:
        raise CommandError(str(exc), EXIT_PRINTER) from None


def cmd_print_test(args: argparse.Namespace) -> int:
    from printer.errors import PrinterError
    from printer.output import save_png
    from printer.ticket import render_ticket, sample_content

    config = load_config(args.config)
    content = sample_content(config, args.language)
    image = render_ticket(content, config.printer.paper_width_mm)
    if args.png:
        try:
            save_png(image, args.png)
        except OSError as exc:
            raise CommandError(f"cannot write {args.png}: {exc.strerror}") from None
        print(f"test ticket written to {args.png} ({image.width}x{image.height} dots)")
        return 0
    printer = make_printer(config)
    status = printer.status()
    print(f"printer {printer.connection.text}: {status.state} ({status.detail})")
    if not status.can_issue:
        raise CommandError(
            f"printer {printer.connection.text}: {status.state.replace('_', ' ')}; "
            f"{printer.connection.hint}",
            EXIT_PRINTER,
        )
    try:
        printer.print_ticket(image, content)
    except PrinterError as exc:
        raise CommandError(str(exc), EXIT_PRINTER) from None
    where = printer.last_preview or printer.connection.text
    print(f"test ticket sent to {where}")
    return 0
