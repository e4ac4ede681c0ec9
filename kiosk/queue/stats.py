"""Statistics over a range of service dates: the figures of `kiosk report` and of the console.

Everything is aggregated by the database: counts per department and status, hourly and
weekday × hour profiles, and the median and p90 of wait and service times. Only a few rows per
department come back, however many tickets the period holds.

The percentile is PostgreSQL's `percentile_cont` (linear interpolation between the two closest
ranks) of the durations in whole microseconds; SQLite, which has no percentile function,
computes the same thing with window functions. Both databases do the same double-precision
arithmetic on the same integers, so they give the same figures; `_minutes` rounds them once.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Engine,
    Float,
    Integer,
    Select,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from kiosk.queue.db import read_session
from kiosk.queue.models import Department, Ticket, TicketStatus

S = TicketStatus
PERIODS = ("day", "week", "month")
# The fractions of the two percentiles shown: the median and the 90th percentile.
MEDIAN, P90 = 0.5, 0.9
TOTAL = "*"  # the code of the all-departments line
MICROSECONDS_PER_TENTH = 6_000_000  # a tenth of a minute


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
    # Minutes, rounded to a tenth; None when no ticket of the period has the duration.
    median_wait: float | None = None
    p90_wait: float | None = None
    median_service: float | None = None
    p90_service: float | None = None

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else (self.name_vi or self.code)


@dataclass
class Statistics:
    start: dt.date
    end: dt.date
    departments: list[DepartmentFigures]
    total: DepartmentFigures  # every department together (its percentiles over all tickets)
    arrivals_by_hour: list[int]  # 24 local hours
    calls_by_hour: list[int]
    heat: list[list[int]]  # [weekday 0=Monday][hour] arrivals


def _seconds_sqlite(column: Any) -> Any:
    """Whole seconds since the epoch of a SQLite timestamp ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    return cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)


def _micros_sqlite(column: Any) -> Any:
    """The microseconds part of a SQLite timestamp (0 when it has none)."""
    return cast(func.substr(column, 21, 6), BigInteger)


def microseconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[int]:
    """SQL for the whole microseconds from `start` to `end`, exact on both databases."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start) * 1_000_000, BigInteger)
    seconds = _seconds_sqlite(end) - _seconds_sqlite(start)
    return cast(seconds * 1_000_000 + (_micros_sqlite(end) - _micros_sqlite(start)), BigInteger)


def _percentile_sql(
    dialect: str, durations: CompoundSelect[Any], fractions: tuple[float, ...]
) -> Select[Any]:
    """(key, one value per fraction) per key of `durations` (rows of key, value): the
    percentile_cont of the values, as a double. The one definition of the percentile."""
    source = durations.subquery("durations")
    value = cast(source.c.value, Float)
    if dialect == "postgresql":
        return select(
            source.c.key,
            *(func.percentile_cont(f).within_group(value) for f in fractions),
        ).group_by(source.c.key)
    # SQLite: rank the values of each key (0-based), take the two ranks around
    # f × (n − 1) and interpolate between them as percentile_cont does:
    # low + (position − floor(position)) × (high − low).
    ranked = select(
        source.c.key,
        value.label("value"),
        (func.row_number().over(partition_by=source.c.key, order_by=value) - 1).label("rank"),
        func.count().over(partition_by=source.c.key).label("n"),
    ).subquery("ranked")
    columns = []
    for fraction in fractions:
        position = literal(fraction, Float) * (ranked.c.n - 1)
        floor = cast(position, Integer)  # positions are never negative
        ceiling = floor + case((position > floor, 1), else_=0)
        low = func.max(case((ranked.c.rank == floor, ranked.c.value)))
        high = func.max(case((ranked.c.rank == ceiling, ranked.c.value)))
        proportion = func.max(position - floor)
        columns.append(low + proportion * (high - low))
    return select(ranked.c.key, *columns).group_by(ranked.c.key)


def _minutes(microseconds: float | None) -> float | None:
    """A percentile of durations (in microseconds) as minutes, rounded to the nearest tenth,
    halves up: 15 s is 0.3 min, 7 min 45 s is 7.8 min."""
    if microseconds is None:
        return None
    return math.floor(float(microseconds) / MICROSECONDS_PER_TENTH + 0.5) / 10


def _percentiles(
    session: Session,
    dialect: str,
    duration: ColumnElement[Any],
    where: list[ColumnElement[bool]],
) -> dict[str, tuple[float | None, float | None]]:
    """Department code (and TOTAL) -> (median, p90) in minutes of `duration` over the
    tickets matching `where` (negative durations, from a wrong clock, are left out)."""
    rows = (
        select(Ticket.department_code.label("key"), duration.label("value"))
        .where(*where)
        .cte("rows")
    )
    valid = rows.c.value >= 0
    durations = union_all(
        select(rows.c.key, rows.c.value).where(valid),
        select(literal(TOTAL).label("key"), rows.c.value).where(valid),
    )
    query = _percentile_sql(dialect, durations, (MEDIAN, P90))
    return {key: (_minutes(median), _minutes(p90)) for key, median, p90 in session.execute(query)}


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
    the hospital's local time, all computed by the database."""
    tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    dialect = engine.dialect.name
    figures: dict[str, DepartmentFigures] = {}
    total = DepartmentFigures(code=TOTAL)
    arrivals = [0] * 24
    calls = [0] * 24
    heat = [[0] * 24 for _ in range(7)]
    with read_session(engine) as session:
        names = {
            d.code: d for d in session.scalars(select(Department).order_by(Department.sort_order))
        }
        # Every ticket's department is a known one (a foreign key): naming them all lets both
        # databases read the period through the (department, service date) index instead of
        # scanning the whole history.
        in_range: list[ColumnElement[bool]] = [
            Ticket.department_code.in_([department] if department else list(names)),
            Ticket.service_date >= start,
            Ticket.service_date <= end,
        ]

        def line(code: str) -> DepartmentFigures:
            if code == TOTAL:
                return total
            if code not in figures:
                known = names.get(code)
                figures[code] = DepartmentFigures(
                    code=code,
                    name_vi=known.name_vi if known else code,
                    name_en=known.name_en if known else code,
                    color=known.color if known else "#1f6feb",
                )
            return figures[code]

        for code, status, count, numbered in session.execute(
            select(Ticket.department_code, Ticket.status, func.count(), func.count(Ticket.number))
            .where(*in_range)
            .group_by(Ticket.department_code, Ticket.status)
        ):
            for figure in (line(code), total):
                figure.issued += numbered
                if status == S.SERVED:
                    figure.served += count
                elif status == S.NO_SHOW:
                    figure.absent += count
                elif status == S.CANCELLED:
                    figure.cancelled += count
                elif status == S.TRANSFERRED:
                    figure.transferred += count
                elif status == S.WAITING:
                    figure.waiting += count
        waits = _percentiles(
            session,
            dialect,
            microseconds_between(dialect, Ticket.queued_at, Ticket.called_at),
            [*in_range, Ticket.called_at.is_not(None)],
        )
        for code, (median, p90) in waits.items():
            figure = line(code)
            figure.median_wait, figure.p90_wait = median, p90
        services = _percentiles(
            session,
            dialect,
            microseconds_between(dialect, Ticket.last_called_at, Ticket.finished_at),
            [
                *in_range,
                Ticket.status == S.SERVED,
                Ticket.last_called_at.is_not(None),
                Ticket.finished_at.is_not(None),
            ],
        )
        for code, (median, p90) in services.items():
            figure = line(code)
            figure.median_service, figure.p90_service = median, p90
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
    return Statistics(start, end, ordered, total, arrivals, calls, heat)
