"""The statistics page (day, week, month per department, charts) and its CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from kiosk.queue.stats import PERIODS, Statistics, period_range, previous_range, statistics
from server_sync.server.admin.charts import bar_chart, heat_map
from server_sync.server.admin.i18n import translator
from server_sync.server.admin.web import ConsoleRoute, Supervisor, language, render
from server_sync.server.deps import ServerState, StateDep

router = APIRouter(prefix="/admin", route_class=ConsoleRoute, include_in_schema=False)

PeriodQuery = Annotated[str, Query(pattern=r"^(day|week|month)$")]
DateQuery = Annotated[dt.date | None, Query()]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Outpatient hours shown on the charts; arrivals outside them still count in the tables.
FIRST_HOUR, LAST_HOUR = 5, 19


def _figures(state: ServerState, period: str, day: dt.date | None) -> tuple[Statistics, Statistics]:
    anchor = day or state.service.service_date()
    start, end = period_range(period, anchor)
    tz = state.config.hospital.tz
    now = statistics(state.engine, start, end, tz)
    before = statistics(state.engine, *previous_range(start, end), tz, profiles=False)
    return now, before


def rows(stats: Statistics, language_code: str) -> list[dict[str, Any]]:
    """The per-department table: the page, the CSV and the XLSX all show these."""
    t = translator(language_code)
    lines = [*stats.departments, stats.total]
    return [
        {
            "code": d.code if d.code != "*" else "",
            "department": d.name(language_code) if d.code != "*" else t("total"),
            "issued": d.issued,
            "served": d.served,
            "absent": d.absent,
            "cancelled": d.cancelled,
            "median_wait_minutes": d.median_wait,
            "p90_wait_minutes": d.p90_wait,
            "median_service_minutes": d.median_service,
            "p90_service_minutes": d.p90_service,
        }
        for d in lines
    ]


def _trend(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    delta = round(now - before, 1)
    return "▲ +" + str(delta) if delta > 0 else ("▼ " + str(delta) if delta < 0 else "= 0")


@router.get("/stats")
async def stats_page(
    request: Request,
    state: StateDep,
    staff: Supervisor,
    period: PeriodQuery = "day",
    date: DateQuery = None,
) -> Response:
    now, before = await run_in_threadpool(_figures, state, period, date)
    lang = language(request)
    t = translator(lang)
    hours = list(range(FIRST_HOUR, LAST_HOUR + 1))
    previous = {d.code: d for d in before.departments}
    trends = {
        d.code: (
            _trend(d.median_wait, previous[d.code].median_wait if d.code in previous else None),
            _trend(d.p90_wait, previous[d.code].p90_wait if d.code in previous else None),
        )
        for d in now.departments
    }
    weekdays = t("weekdays").split(",")
    charts = {
        "arrivals": bar_chart(
            [now.arrivals_by_hour[h] for h in hours],
            [f"{h}h" for h in hours],
            title=t("arrivals_per_hour"),
            chart_id="chart-arrivals",
        ),
        "calls": bar_chart(
            [now.calls_by_hour[h] for h in hours],
            [f"{h}h" for h in hours],
            title=t("calls_per_hour"),
            color="#1a7f37",
            chart_id="chart-calls",
        ),
        "heat": heat_map(
            now.heat,
            weekdays,
            title=t("busiest_hours"),
            chart_id="chart-heat",
            first_hour=FIRST_HOUR,
            last_hour=LAST_HOUR,
        ),
    }
    return render(
        request,
        "stats.html",
        staff=staff,
        stats=now,
        rows=rows(now, lang),
        trends=trends,
        charts=charts,
        period=period,
        periods=PERIODS,
        anchor=(date or state.service.service_date()).isoformat(),
        hours=hours,
    )


def _download_name(stats: Statistics, suffix: str) -> str:
    span = stats.start.isoformat()
    if stats.end != stats.start:
        span += f"_{stats.end.isoformat()}"
    return f"thong-ke_{span}.{suffix}"


@router.get("/stats.csv")
async def stats_csv(
    request: Request,
    state: StateDep,
    staff: Supervisor,
    period: PeriodQuery = "day",
    date: DateQuery = None,
) -> Response:
    now, _ = await run_in_threadpool(_figures, state, period, date)
    table = rows(now, language(request))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(table)
    out.write("\r\nhour,arrivals,calls\r\n")
    for hour in range(24):
        out.write(f"{hour},{now.arrivals_by_hour[hour]},{now.calls_by_hour[hour]}\r\n")
    # A byte-order mark: Excel on a hospital PC then reads the Vietnamese names right.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(now, "csv")}"'},
    )


def build_xlsx(stats: Statistics, language_code: str) -> bytes:
    from openpyxl import Workbook

    t = translator(language_code)
    book = Workbook()
    sheet = book.active
    sheet.title = "Departments"
    table = rows(stats, language_code)
    sheet.append(list(table[0]))
    for row in table:
        sheet.append(list(row.values()))
    hours = book.create_sheet("Hours")
    hours.append(["hour", "arrivals", "calls"])
    for hour in range(24):
        hours.append([hour, stats.arrivals_by_hour[hour], stats.calls_by_hour[hour]])
    heat = book.create_sheet("Heat map")
    heat.append(["", *[f"{h}h" for h in range(24)]])
    for label, counts in zip(t("weekdays").split(","), stats.heat, strict=True):
        heat.append([label, *counts])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/stats.xlsx")
async def stats_xlsx(
    request: Request,
    state: StateDep,
    staff: Supervisor,
    period: PeriodQuery = "day",
    date: DateQuery = None,
) -> Response:
    now, _ = await run_in_threadpool(_figures, state, period, date)
    body = await run_in_threadpool(build_xlsx, now, language(request))
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_download_name(now, "xlsx")}"'},
    )
