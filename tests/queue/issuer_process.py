"""A separate OS process that issues tickets: `python -m tests.queue.issuer_process URL N`.

Prints "ready" once the database is open, then each issued code on its own line. N = 0 issues
until killed. Used by the concurrency and SIGKILL tests.
"""

from __future__ import annotations

import sys

from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    origin = sys.argv[3] if len(sys.argv) > 3 else "kiosk-hall-1"
    service = QueueService(open_database(url), origin=origin)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    issued = 0
    while count == 0 or issued < count:
        ticket = service.issue("NOI").ticket
        sys.stdout.write(f"{ticket.code}\n")
        sys.stdout.flush()
        issued += 1


if __name__ == "__main__":
    main()
