"""A morning of tickets and the kiosk's own report of it, for the statistics tests."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from kiosk.queue.service import QueueService
from tests.support.database import ROOT, FakeClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REPORT_FIELDS = {
    "issued": "issued",
    "served": "served",
    "no_show": "absent",
    "cancelled": "cancelled",
    "median_wait_minutes": "median_wait_minutes",
    "p90_wait_minutes": "p90_wait_minutes",
    "median_service_minutes": "median_service_minutes",
    "p90_service_minutes": "p90_service_minutes",
}


def a_morning(engine: Engine) -> dt.date:
    """Today from 07:00 local: 30 patients in three departments, most called and served."""
    today = dt.datetime.now(TZ).date()
    clock = FakeClock(dt.datetime.combine(today, dt.time(7, 0), TZ).astimezone(dt.UTC))
    service = QueueService(engine, origin="kiosk-direct", clock=clock)
    issued = []
    for n in range(30):
        issued.append(service.issue(("NOI", "NHI", "NGOAI")[n % 3]).ticket)
        clock.advance(minutes=2 + n % 5)
    for n, ticket in enumerate(issued[:24]):
        called = service.call_next(ticket.department, "101")
        assert called is not None
        clock.advance(minutes=3 + n % 7)
        if n % 6 == 5:
            service.no_show(called.id)
        else:
            service.serve(called.id)
    service.cancel(issued[-1].id)
    return today


def kiosk_report(database_url: str, day: dt.date) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "report", "--database", database_url, "--date", str(day)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return {d["code"]: d for d in json.loads(done.stdout)["departments"]}
