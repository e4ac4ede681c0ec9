"""Statistics over a range of service dates: the figures of `kiosk report` and of the console.

Counts are SQL aggregates; waits and service times (median, p90) and the hourly profiles are
computed from one read of the period's timestamps, so both SQLite and PostgreSQL give the same
answer. No HTTP, no Qt.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Integer, func, select

from kiosk.queue.db import read_session
from kiosk.queue.models import Department, Ticket, TicketStatus

S = TicketStatus
PERIODS = ("day", "week", "month")


def period_range(period: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """First and last service date of the day, ISO week or month holding `anchor`."""
    if period == "day":
        return anchor, anchor
    if period == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        return start, start + dt.timedelta(days=6)
    if period == "month":
        start = anchor.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return start, following - dt.timedelta(days=1)
    raise ValueError(f"period {period!r} is not one of {', '.join(PERIODS)}")


def previous_range(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before (for the trend)."""
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


@dataclass
class DepartmentFigures:
    code: str
    name_vi: str = ""
    name_en: str = ""
    color: str = "#1f6feb"
    issued: int = 0
    served: int = 0
    absent: int = 0
    cancelled: int = 0
    transferred: int = 0
    waiting: int = 0
    waits: list[float] = field(default_factory=list, repr=False)
    services: list[float] = field(default_factory=list, repr=False)

    @property
    def median_wait(self) -> float | None:
        return percentile(self.waits, 0.5)

    @property
    def p90_wait(self) -> float | None:
        return percentile(self.waits, 0.9)

    @property
    def median_service(self) -> float | None:
        return percentile(self.services, 0.5)

    @property
    def p90_service(self) -> float | None:
        return percentile(self.services, 0.9)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else (self.name_vi or self.code)


@dataclass
class Statistics:
    start: dt.date
    end: dt.date
    departments: list[DepartmentFigures]
    arrivals_by_hour: list[int]  # 24 local hours
    calls_by_hour: list[int]
    heat: list[list[int]]  # [weekday 0=Monday][hour] arrivals

    @property
    def total(self) -> DepartmentFigures:
        total = DepartmentFigures(code="*")
        for d in self.departments:
            total.issued += d.issued
            total.served += d.served
            total.absent += d.absent
            total.cancelled += d.cancelled
            total.transferred += d.transferred
            total.waiting += d.waiting
            total.waits.extend(d.waits)
            total.services.extend(d.services)
        return total


def _minutes_between(dialect: str, start: Any, end: Any) -> Any:
    """SQL for the minutes from `start` to `end` (a float), computed by the database."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start) / 60.0
    return (func.julianday(end) - func.julianday(start)) * 1440.0


def _local_hour_and_weekday(dialect: str, column: Any, tz: ZoneInfo, day: dt.date) -> Any:
    """SQL for (local hour, weekday with Monday = 0) of a UTC timestamp column."""
    if dialect == "postgresql":
        local = func.timezone(str(tz.key), column)
        return (
            func.extract("hour", local),
            func.extract("isodow", local) - 1,
        )
    # SQLite keeps UTC text: shift by the zone's offset on that day (no daylight saving in
    # Vietnam; elsewhere an hour may land in its neighbour on the night of the change).
    offset = tz.utcoffset(dt.datetime.combine(day, dt.time(12)))
    minutes = int(offset.total_seconds() // 60) if offset else 0
    shift = f"{minutes:+d} minutes"
    return (
        func.cast(func.strftime("%H", column, shift), Integer),
        (func.cast(func.strftime("%w", column, shift), Integer) + 6) % 7,
    )


def statistics(
    engine: Engine,
    start: dt.date,
    end: dt.date,
    timezone: str | ZoneInfo,
    department: str | None = None,
) -> Statistics:
    """Per department over service dates `start`..`end` (inclusive), with hourly profiles in
    the hospital's local time. Counts, durations and hours are computed by the database; only
    the durations come back, to be sorted for their median and p90."""
    tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    dialect = engine.dialect.name
    in_range = [Ticket.service_date >= start, Ticket.service_date <= end]
    if department:
        in_range.append(Ticket.department_code == department)
    figures: dict[str, DepartmentFigures] = {}
    arrivals = [0] * 24
    calls = [0] * 24
    heat = [[0] * 24 for _ in range(7)]
    with read_session(engine) as session:
        names = {
            d.code: d for d in session.scalars(select(Department).order_by(Department.sort_order))
        }

        def line(code: str) -> DepartmentFigures:
            if code not in figures:
                known = names.get(code)
                figures[code] = DepartmentFigures(
                    code=code,
                    name_vi=known.name_vi if known else code,
                    name_en=known.name_en if known else code,
                    color=known.color if known else "#1f6feb",
                )
            return figures[code]

        for code, status, total, numbered in session.execute(
            select(Ticket.department_code, Ticket.status, func.count(), func.count(Ticket.number))
            .where(*in_range)
            .group_by(Ticket.department_code, Ticket.status)
        ):
            figure = line(code)
            figure.issued += numbered
            if status == S.SERVED:
                figure.served += total
            elif status == S.NO_SHOW:
                figure.absent += total
            elif status == S.CANCELLED:
                figure.cancelled += total
            elif status == S.TRANSFERRED:
                figure.transferred += total
            elif status == S.WAITING:
                figure.waiting += total
        wait = _minutes_between(dialect, Ticket.queued_at, Ticket.called_at)
        for code, minutes in session.execute(
            select(Ticket.department_code, wait).where(*in_range, Ticket.called_at.is_not(None))
        ):
            if minutes is not None and minutes >= 0:
                line(code).waits.append(float(minutes))
        service = _minutes_between(dialect, Ticket.last_called_at, Ticket.finished_at)
        for code, minutes in session.execute(
            select(Ticket.department_code, service).where(
                *in_range,
                Ticket.status == S.SERVED,
                Ticket.last_called_at.is_not(None),
                Ticket.finished_at.is_not(None),
            )
        ):
            if minutes is not None and minutes >= 0:
                line(code).services.append(float(minutes))
        hour, weekday = _local_hour_and_weekday(dialect, Ticket.issued_at, tz, start)
        for h, w, count in session.execute(
            select(hour, weekday, func.count())
            .where(*in_range, Ticket.number.is_not(None))
            .group_by(hour, weekday)
        ):
            arrivals[int(h)] += count
            heat[int(w)][int(h)] += count
        called_hour, _ = _local_hour_and_weekday(dialect, Ticket.called_at, tz, start)
        for h, count in session.execute(
            select(called_hour, func.count())
            .where(*in_range, Ticket.called_at.is_not(None))
            .group_by(called_hour)
        ):
            calls[int(h)] += count
    order = {code: index for index, code in enumerate(names)}
    ordered = sorted(figures.values(), key=lambda f: (order.get(f.code, len(order)), f.code))
    return Statistics(start, end, ordered, arrivals, calls, heat)
