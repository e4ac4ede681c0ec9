"""`kiosk seed`, `kiosk issue`, `kiosk report`: the queue engine from the command line."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.cli import EXIT_USAGE, CommandError, common_options
from kiosk.config import Config, load_config
from kiosk.resources import seed_file, seed_names
from kiosk.wire import TicketStatus

if TYPE_CHECKING:  # SQLAlchemy and the queue engine load when a command runs, not to parse
    from kiosk.queue.service import IssuedTicket, QueueService, TicketInfo
    from kiosk.queue.sqlite_issuing import IssuingRules


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_options()

    seed = subparsers.add_parser(
        "seed", parents=[common], help="load departments and rooms from a seeds/ TOML file"
    )
    seed.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="a TOML file, or the name of an example shipped with the package "
        f"({', '.join(seed_names())})",
    )
    seed.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    seed.set_defaults(handler=cmd_seed)

    issue = subparsers.add_parser(
        "issue", parents=[common], help="issue one ticket without the UI; prints it as JSON"
    )
    issue.add_argument("department", metavar="CODE", help="department code, e.g. NOI")
    issue.add_argument("--priority", metavar="REASON", help="priority reason from config")
    issue.add_argument(
        "--id-qr",
        metavar="-",
        dest="id_qr",
        help="read a citizen ID card's QR text from standard input (only '-' is taken) and "
        "give the priority its date of birth calls for (aged 75+, child under 6); nothing of "
        "the card is kept, printed or logged",
    )
    issue.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    issue.add_argument(
        "--print",
        action="store_true",
        help="print the ticket; the printer is checked first (exit 3 if it cannot print)",
    )
    issue.add_argument("--png", type=Path, metavar="PATH", help="also save the ticket as a PNG")
    issue.add_argument("--language", choices=("vi", "en"), default="vi", help="ticket language")
    issue.set_defaults(handler=cmd_issue, exit_at_once=True)

    report = subparsers.add_parser(
        "report",
        parents=[common],
        help="tickets, waits and service times (median, p90) of a day or a range of days",
    )
    report.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="default: today")
    report.add_argument(
        "--from", dest="start", type=_date, metavar="YYYY-MM-DD", help="first day of a range"
    )
    report.add_argument(
        "--to", dest="end", type=_date, metavar="YYYY-MM-DD", help="last day (default: --from)"
    )
    report.add_argument("--format", choices=("json", "csv"), default="json")
    report.add_argument("--database", metavar="URL", help="database URL (default: the kiosk's)")
    report.set_defaults(handler=cmd_report)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-28") from None


def open_service(args: argparse.Namespace, config: Config | None = None) -> QueueService:
    """The queue service over `--database` or the kiosk's configured database, migrated."""
    from kiosk.queue.service import QueueService
    from kiosk.queue.store import open_kiosk_store

    config = config or load_config(args.config)
    engine = open_kiosk_store(
        getattr(args, "database", None) or config.kiosk_database_url,
        origin=config.kiosk.id,
        offset=config.numbering.offset,
        has_server=bool(config.server.url),
    )
    return QueueService.from_config(engine, config)


def cmd_seed(args: argparse.Namespace) -> int:
    from kiosk.queue.db import open_database
    from kiosk.queue.seeds import seed_database
    from kiosk.queue.store import open_kiosk_store

    config = load_config(args.config)
    path: Path = args.file
    if not path.exists() and path.name.removesuffix(".toml") in seed_names():
        path = seed_file(path.name)
    url = args.database or config.kiosk_database_url
    if url == config.kiosk_database_url:
        engine = open_kiosk_store(
            url,
            origin=config.kiosk.id,
            offset=config.numbering.offset,
            has_server=bool(config.server.url),
        )
    else:
        engine = open_database(url)
    result = seed_database(engine, path)
    print(
        f"seeded {args.file}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )
    return 0


def issued_ticket_json(issued: IssuedTicket, config: Config) -> dict[str, Any]:
    """The JSON of `kiosk issue`."""
    ticket = issued.ticket
    return {
        "id": ticket.id,
        "department": ticket.department,
        "number": ticket.number,
        "code": ticket.code,
        "service_date": ticket.service_date.isoformat(),
        "priority": ticket.priority,
        "status": ticket.status,
        "issued_at": ticket.to_dict()["issued_at"],
        "ahead": issued.position.ahead,
        "estimated_wait_minutes": issued.position.estimated_wait_minutes,
        "status_url": config.status_url(ticket.id),
    }


def cmd_issue(args: argparse.Namespace) -> int:
    from kiosk.queue.errors import IssuingOnHold, UnknownDepartment
    from kiosk.queue.sqlite_issuing import IssuingRules, utc_now

    config = load_config(args.config)
    rules = IssuingRules.of(config)
    if args.id_qr is not None:
        args.priority = _priority_from_card(args, rules.service_date(utc_now()), config)
    issued = _issue_directly(args, config, rules)
    if issued is not None:
        print(json.dumps(issued_ticket_json(issued, config), ensure_ascii=False))
        return 0
    service = open_service(args, config)
    # The store's state is read only when the issue is refused (the issue reads it anyway):
    # an empty store, or one on hold that the server can lift.
    try:
        try:
            issued = _issue(args, service, config)
        except IssuingOnHold:
            if not config.server.url:
                raise
            _reach_server_first(config, service)
            issued = _issue(args, service, config)
    except UnknownDepartment:
        if not service.department_codes():
            raise CommandError(
                "no departments in the database; load them first: kiosk seed seeds/<file>.toml",
                EXIT_USAGE,
            ) from None
        raise
    print(json.dumps(issued_ticket_json(issued, config), ensure_ascii=False))
    return 0


def _issue_directly(
    args: argparse.Namespace, config: Config, rules: IssuingRules
) -> IssuedTicket | None:
    """An issue that prints nothing and draws no picture, on a kiosk store that is ready for
    it, through `sqlite3` alone: SQLAlchemy's import alone took most of this command's time.
    None when it does not apply (nothing stored then): the full way below issues, or refuses
    and says why, as it always has."""
    if args.print or args.png:
        return None
    from kiosk.queue.quickread import sqlite_file_of
    from kiosk.queue.sqlite_issuing import issue_directly

    path = sqlite_file_of(getattr(args, "database", None) or config.kiosk_database_url)
    if path is None:
        return None
    return issue_directly(path, rules, args.department.upper(), args.priority)


def _issue(args: argparse.Namespace, service: QueueService, config: Config) -> IssuedTicket:
    if args.print:
        return _issue_and_print(args, service, config)
    issued = service.issue(args.department.upper(), args.priority)
    if args.png:
        from kiosk.app.issuing import ticket_content
        from printer.ticket import render_ticket

        content = ticket_content(issued, config, args.language)
        _save_png(render_ticket(content, config.printer.paper_width_mm), args.png)
    return issued


def _priority_from_card(args: argparse.Namespace, today: dt.date, config: Config) -> str | None:
    """The priority of the card on standard input. The card's text is never echoed: not in
    an error, a log line or the command line (only "-" is accepted there)."""
    from kiosk.app.citizen_card import MAX_LENGTH, NotACard, read_card

    if args.id_qr != "-":
        raise CommandError(
            "--id-qr takes only '-': the card's text is read from standard input, never from "
            "the command line (it would show in ps and the shell's history)",
            EXIT_USAGE,
        )
    if args.priority is not None:
        raise CommandError("give --priority or --id-qr, not both", EXIT_USAGE)
    # One line is ~250 bytes of UTF-8; read a bounded amount, whatever is piped in.
    raw = sys.stdin.buffer.read(MAX_LENGTH * 4 + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    reading = read_card(text, today, config.queue.priority_reasons)
    del raw, text
    if isinstance(reading, NotACard):
        raise CommandError(
            "standard input is not a citizen ID card's QR text "
            f"({reading.reason.value}); no ticket issued",
            EXIT_USAGE,
        )
    return reading.priority


def _reach_server_first(config: Config, service: QueueService) -> None:
    """A store on hold (restored or new) learns the server's high-water marks before it
    issues; when the server cannot be reached the issue below refuses and says why."""
    from server_sync.client import SyncClient, SyncError

    try:
        client = SyncClient.from_config(service.engine, config)
        try:
            client.reconcile()
        finally:
            client.close()
    except SyncError as exc:
        print(f"cannot reach the server to lift the hold: {exc}", file=sys.stderr)


def _save_png(image: Any, path: Path) -> None:
    from printer.output import save_png

    try:
        save_png(image, path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


def _issue_and_print(
    args: argparse.Namespace, service: QueueService, config: Config
) -> IssuedTicket:
    """Commit-then-print; a printer that cannot print exits 3, nothing left issued."""
    from kiosk.app.issuing import issue_and_print
    from kiosk.cli import EXIT_PRINTER
    from kiosk.commands.printing import make_printer
    from printer.errors import PrinterUnavailable, PrintFailed

    printer = make_printer(config)
    try:
        printed = issue_and_print(
            service, printer, config, args.department.upper(), args.priority, args.language
        )
    except PrinterUnavailable as exc:
        raise CommandError(f"{exc}; no ticket issued", EXIT_PRINTER) from None
    except PrintFailed as exc:
        raise CommandError(
            f"{exc}; ticket {exc.ticket_code} cancelled (print_failed)", EXIT_PRINTER
        ) from None
    if args.png:
        _save_png(printed.image, args.png)
    return printed.issued


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 1) if present else None


MAX_REPORT_DAYS = 366


def build_report(service: QueueService, day: dt.date, end: dt.date | None = None) -> dict[str, Any]:
    """Tickets of `day` (or of `day`..`end`) and per department counts, means, medians, p90s
    (the medians and p90s are the console's statistics: `kiosk.queue.stats`)."""
    from kiosk.queue.stats import statistics

    end = end or day
    tickets = [
        ticket
        for offset in range((end - day).days + 1)
        for ticket in service.tickets_on(day + dt.timedelta(days=offset))
    ]
    rows = [_report_row(t) for t in tickets]
    figures = {f.code: f for f in statistics(service.engine, day, end, service.tz).departments}
    departments = []
    for code in sorted(figures):
        mine = [r for r in rows if r["department"] == code]
        figure = figures[code]
        departments.append(
            {
                "code": code,
                "issued": figure.issued,
                "served": figure.served,
                "no_show": figure.absent,
                "cancelled": figure.cancelled,
                "waiting": figure.waiting,
                "avg_wait_minutes": _mean([r["wait_minutes"] for r in mine]),
                "avg_service_minutes": _mean([r["service_minutes"] for r in mine]),
                "median_wait_minutes": figure.median_wait,
                "p90_wait_minutes": figure.p90_wait,
                "median_service_minutes": figure.median_service,
                "p90_service_minutes": figure.p90_service,
            }
        )
    period: dict[str, Any] = (
        {"date": day.isoformat()}
        if end == day
        else {"from": day.isoformat(), "to": end.isoformat()}
    )
    return {**period, "tickets": rows, "departments": departments}


def _report_row(ticket: TicketInfo) -> dict[str, Any]:
    wire = ticket.to_dict()
    served = ticket.status == TicketStatus.SERVED
    return {
        "id": ticket.id,
        "department": ticket.department,
        "number": ticket.number,
        "code": ticket.code,
        "status": ticket.status,
        "priority": ticket.priority,
        "origin": ticket.origin,
        "issued_at": wire["issued_at"],
        "called_at": wire["called_at"],
        "finished_at": wire["finished_at"],
        # Waiting time counts from joining this line (a transfer joins later).
        "wait_minutes": _minutes(ticket.queued_at, ticket.called_at),
        "service_minutes": _minutes(ticket.last_called_at, ticket.finished_at) if served else None,
    }


def cmd_report(args: argparse.Namespace) -> int:
    service = open_service(args)
    if args.start is not None and args.date is not None:
        raise CommandError("give --date, or a range with --from and --to, not both", EXIT_USAGE)
    if args.start is not None:
        end = args.end or args.start
        if end < args.start or (end - args.start).days >= MAX_REPORT_DAYS:
            raise CommandError(
                f"--to must be on or after --from, at most {MAX_REPORT_DAYS} days", EXIT_USAGE
            )
        report = build_report(service, args.start, end)
    elif args.end is not None:
        raise CommandError("--to needs --from", EXIT_USAGE)
    else:
        report = build_report(service, args.date or service.service_date())
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    out = io.StringIO()
    for section in ("tickets", "departments"):
        rows = report[section]
        if section == "departments":
            out.write("\n")
        if not rows:
            out.write(f"# no {section}\n")
            continue
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    sys.stdout.write(out.getvalue())
    return 0
