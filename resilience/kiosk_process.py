"""A kiosk in its own OS process for the printer scenario: `python -m resilience.kiosk_process
CONFIG DATABASE_URL`.

Prints "ready", then for each line "issue CODE" on stdin runs commit-then-print
and answers one JSON line: {"ok": true, "code": ...} or {"ok": false, "error": TYPE,
"message": ..., "ticket": CODE}. A failed print must not end the process.
"""

from __future__ import annotations

import json
import sys
import time

from kiosk.app.issuing import issue_and_print
from kiosk.config import load_config
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from printer.errors import PrinterError, PrintFailed
from printer.output import TicketPrinter


def main() -> None:
    config = load_config(sys.argv[1])
    service = QueueService.from_config(open_database(sys.argv[2]), config)
    printer = TicketPrinter(config.printer)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        command, _, department = line.strip().partition(" ")
        if command != "issue":
            continue
        started = time.monotonic()
        answer: dict[str, object]
        try:
            printed = issue_and_print(service, printer, config, department)
        except PrinterError as exc:
            answer = {
                "ok": False,
                "error": type(exc).__name__,
                "message": str(exc),
                "ticket": exc.ticket_code if isinstance(exc, PrintFailed) else None,
            }
        else:
            answer = {"ok": True, "code": printed.issued.ticket.code}
        answer["seconds"] = round(time.monotonic() - started, 3)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
