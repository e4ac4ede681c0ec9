"""The operations console, timed on the server side (no browser, no network):

- the live monitor with 20 departments and 500 patients waiting in one of them (page and the
  long-poll answer render the same two parts), target ≤ 200 ms;
- the statistics of a month of ~100,000 tickets (figures, previous month for the trend, charts),
  target ≤ 500 ms;
- the monitor again with that month still in the tickets table (a server keeps its history).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from bench.common import postgres_schema, summarise, time_calls
from kiosk.config import Config
from kiosk.queue.db import open_database
from kiosk.queue.models import Department, Room, Ticket
from kiosk.queue.service import QueueService
from server_sync.server.admin.accounts import Staff
from server_sync.server.admin.charts import bar_chart, heat_map
from server_sync.server.admin.i18n import translator
from server_sync.server.admin.monitor import monitor_view
from server_sync.server.admin.web import templates
from server_sync.server.app import create_app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEPARTMENTS = 20
WAITING_IN_ONE = 500
MONTH_TICKETS = 100_000


def _departments(engine: Engine) -> list[str]:
    codes = [f"D{n:02d}" for n in range(DEPARTMENTS)]
    with Session(engine) as session, session.begin():
        for n, code in enumerate(codes):
            session.add(
                Department(
                    code=code,
                    name_vi=f"Khoa khám số {n + 1}",
                    name_en=f"Clinic {n + 1}",
                    prefix=chr(ord("A") + n),
                    color="#1f6feb",
                    sort_order=n,
                    rooms=[
                        Room(code=f"{n}0{r}", name_vi=f"Phòng {n}0{r}", name_en="")
                        for r in range(1, 4)
                    ],
                )
            )
    return codes


def _monitor_day(engine: Engine) -> list[str]:
    """Today: 500 patients waiting in one department, 30 in each other with two served."""
    codes = _departments(engine)
    service = QueueService(engine, origin="kiosk-bench")
    for _ in range(WAITING_IN_ONE):
        service.issue(codes[0])
    for code in codes[1:]:
        for _ in range(30):
            service.issue(code)
        for room in ("01", "02"):
            called = service.call_next(code, f"{code[1:]}{room}")
            if called:
                service.serve(called.id)
    return codes


def time_monitor(engine: Engine, codes: list[str], label: str) -> dict[str, Any]:
    app = create_app(engine, Config())
    state = app.state.kiosk
    staff = Staff("bench", "supervisor", "x" * 43, "0" * 64)
    t = translator("vi")

    def render() -> None:
        view = monitor_view(state, codes[0])
        context = {"t": t, "lang": "vi", "staff": staff, "view": view}
        templates.get_template("monitor_summary.html").render(**context)
        templates.get_template("monitor_queue.html").render(**context)

    return {label: summarise(time_calls(render, repeat=20), "ms")}


def _month_of_tickets(engine: Engine, codes: list[str], first: dt.date) -> None:
    rows = []
    following = (first + dt.timedelta(days=32)).replace(day=1)
    days = (following - first).days
    per_day = MONTH_TICKETS // days
    for day in range(days):
        service_date = first + dt.timedelta(days=day)
        opening = dt.datetime.combine(service_date, dt.time(6, 30), TZ).astimezone(dt.UTC)
        for n in range(per_day):
            code = codes[n % len(codes)]
            issued = opening + dt.timedelta(seconds=n * 8)
            called = issued + dt.timedelta(minutes=5 + n % 40)
            finished = called + dt.timedelta(minutes=2 + n % 9)
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "department_code": code,
                    "service_date": service_date,
                    "number": n // len(codes) + 1,
                    "code": f"X{n:05d}",
                    "priority": None,
                    "status": "no_show" if n % 11 == 0 else "served",
                    "origin": "kiosk-bench",
                    "issued_at": issued,
                    "queued_at": issued,
                    "called_at": called,
                    "last_called_at": called,
                    "finished_at": finished,
                    "room": "101",
                    "call_count": 1,
                }
            )
    with Session(engine) as session, session.begin():
        for start in range(0, len(rows), 5000):
            session.execute(insert(Ticket), rows[start : start + 5000])


def last_month() -> dt.date:
    """The first day of the month before this one (today's tickets are the monitor's)."""
    return (dt.datetime.now(TZ).date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def bench_statistics(engine: Engine, codes: list[str], first: dt.date) -> dict[str, Any]:
    from kiosk.queue.stats import period_range, previous_range, statistics

    start, end = period_range("month", first)

    def page() -> None:
        now = statistics(engine, start, end, TZ)
        statistics(engine, *previous_range(start, end), TZ, profiles=False)
        hours = range(5, 20)
        bar_chart(
            [now.arrivals_by_hour[h] for h in hours],
            [f"{h}h" for h in hours],
            title="a",
            chart_id="a",
        )
        bar_chart(
            [now.calls_by_hour[h] for h in hours], [f"{h}h" for h in hours], title="c", chart_id="c"
        )
        heat_map(
            now.heat,
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            title="h",
            chart_id="h",
            first_hour=5,
            last_hour=19,
        )

    return {
        "stats_month_tickets": MONTH_TICKETS,
        "stats_month_page_ms": summarise(time_calls(page, repeat=5, warmup=1), "ms"),
    }


def _backend(url: str) -> dict[str, Any]:
    engine = open_database(url)
    try:
        codes = _monitor_day(engine)
        results = time_monitor(engine, codes, "monitor_render_ms")
        first = last_month()
        _month_of_tickets(engine, codes, first)
        if engine.dialect.name == "postgresql":
            # What autovacuum does within a minute of such a load (PostgreSQL 13 and later
            # vacuum after inserts too): the planner sees the month, and its pages are marked
            # all-visible, so the statistics read them from their index alone.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE tickets"))
        results.update(bench_statistics(engine, codes, first))
        # The same monitor with last month's 100,000 tickets still in the table.
        results.update(time_monitor(engine, codes, "monitor_render_ms_with_month_history"))
        return results
    finally:
        engine.dispose()


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-console-") as tmp:
        results["sqlite"] = _backend(f"sqlite:///{Path(tmp) / 'server.db'}")
    base = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if base:
        with postgres_schema(base) as url:
            results["postgresql"] = _backend(url)
    return results


def main() -> int:
    print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
