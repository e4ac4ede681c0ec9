"""A separate OS process that issues tickets:
`python -m tests.queue.issuer_process URL N [ORIGIN [direct]]`.

Prints "ready" once the database is open, then each issued code on its own line. N = 0 issues
until killed. `direct`: as `kiosk issue` does, through `sqlite3` alone (`issue_directly`), not
the queue service (SQLite only). Used by the concurrency and SIGKILL tests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from kiosk.queue.sqlite_issuing import IssuingRules, issue_directly


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    origin = sys.argv[3] if len(sys.argv) > 3 else "kiosk-hall-1"
    service = QueueService(open_database(url), origin=origin)
    direct = len(sys.argv) > 4 and sys.argv[4] == "direct"
    rules = IssuingRules(
        origin=origin,
        tz=ZoneInfo("Asia/Ho_Chi_Minh"),
        numbering_width=3,
        numbering_offset=0,
        numbering_block_size=100_000,
        priority_reasons=service.priority_reasons,
    )
    path = Path(url.removeprefix("sqlite:///"))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    issued = 0
    while count == 0 or issued < count:
        if direct:
            answer = issue_directly(path, rules, "NOI", None)
            assert answer is not None, "the direct way did not apply"
            ticket = answer.ticket
        else:
            ticket = service.issue("NOI").ticket
        sys.stdout.write(f"{ticket.code}\n")
        sys.stdout.flush()
        issued += 1


if __name__ == "__main__":
    main()
