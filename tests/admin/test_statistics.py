"""Statistics: the same figures as `kiosk report`, as charts, CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Callable

from sqlalchemy import Engine

from tests.support.admin import Browserless
from tests.support.database import ROOT
from tests.support.statistics import REPORT_FIELDS, a_morning, kiosk_report


def test_csv_and_xlsx_hold_the_figures_of_kiosk_report(
    server_engine: Engine, database_url: str, as_staff: Callable[[str], Browserless]
) -> None:
    from openpyxl import load_workbook

    day = a_morning(server_engine)
    report = kiosk_report(database_url, day)
    supervisor = as_staff("lan")
    page = supervisor.get(f"/admin/stats?period=day&date={day}")
    assert page.status_code == 200 and "chart-arrivals" in page.text

    answer = supervisor.get(f"/admin/stats.csv?period=day&date={day}")
    assert answer.headers["Content-Type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text.split("\r\n\r\n")[0])))
    by_code = {row["code"]: row for row in table if row["code"]}
    assert set(by_code) == set(report)
    for code, expected in report.items():
        for theirs, ours in REPORT_FIELDS.items():
            value = expected[theirs]
            assert by_code[code][ours] == ("" if value is None else str(value)), (code, ours)

    answer = supervisor.get(f"/admin/stats.xlsx?period=day&date={day}")
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book["Departments"]
    header = [c.value for c in sheet[1]]
    cells = {
        row[0]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if row[0]
    }
    for code, expected in report.items():
        for theirs, ours in REPORT_FIELDS.items():
            assert cells[code][ours] == expected[theirs], (code, ours)
    hours = {row[0]: row[1] for row in book["Hours"].iter_rows(min_row=2, values_only=True)}
    assert sum(hours.values()) == sum(int(d["issued"]) for d in report.values())  # type: ignore[call-overload]


def test_week_and_month_and_bad_periods(as_staff: Callable[[str], Browserless]) -> None:
    supervisor = as_staff("lan")
    assert supervisor.get("/admin/stats?period=week").status_code == 200
    assert supervisor.get("/admin/stats?period=month&date=2026-02-10").status_code == 200
    assert supervisor.get("/admin/stats?period=year").status_code == 422
    assert as_staff("minh").get("/admin/stats").status_code == 403


def test_kiosk_report_takes_a_range(sqlite_url: str) -> None:
    from kiosk.queue.db import open_database
    from tests.support.database import seed

    engine = open_database(sqlite_url)
    seed(engine)
    day = a_morning(engine)
    engine.dispose()
    base = [sys.executable, "-m", "kiosk", "report", "--database", sqlite_url]
    done = subprocess.run(
        [*base, "--from", str(day - dt.timedelta(days=6)), "--to", str(day)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["to"] == str(day) and len(report["tickets"]) == 30
    assert {d["code"] for d in report["departments"]} == {"NOI", "NHI", "NGOAI"}
    assert all(d["p90_wait_minutes"] >= d["median_wait_minutes"] for d in report["departments"])
    wrong = subprocess.run(
        [*base, "--from", str(day), "--to", str(day - dt.timedelta(days=1))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert wrong.returncode == 2 and "--to" in wrong.stderr
