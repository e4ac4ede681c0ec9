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
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
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


# unixepoch() (SQLite 3.38) parses a timestamp into an integer directly: about half the cost of
# strftime('%s'), which formats the seconds as text to be cast back.
UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38, 0)


def _seconds_sqlite(column: Any) -> Any:
    """Whole seconds since the epoch of a SQLite timestamp ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    whole = func.substr(column, 1, 19)  # without the fraction, which unixepoch would round
    if UNIXEPOCH:
        return func.unixepoch(whole, type_=BigInteger)
    return cast(func.strftime("%s", whole), BigInteger)


def _micros_sqlite(column: Any) -> Any:
    """The microseconds part of a SQLite timestamp (0 when it has none)."""
    return cast(func.substr(column, 21, 6), BigInteger)


def microseconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[Any]:
    """SQL for the whole microseconds from `start` to `end`, exact on both databases."""
    if dialect == "postgresql":
        # date_part gives the seconds as a double: rounding its microseconds is exact.
        return func.round(func.date_part("epoch", end - start) * 1_000_000)
    seconds = _seconds_sqlite(end) - _seconds_sqlite(start)
    return cast(seconds * 1_000_000 + (_micros_sqlite(end) - _micros_sqlite(start)), BigInteger)


def _percentiles_postgresql(value: ColumnElement[Any]) -> Any:
    """The median and p90 of `value` (NULLs left out) as one aggregate column, an array:
    percentile_cont with both fractions sorts the values once for the two."""
    return (
        func.percentile_cont(literal([MEDIAN, P90], ARRAY(Float)), type_=ARRAY(Float))
        .within_group(value)
        .filter(value >= 0)
    )


def _percentiles_sqlite(
    session: Session, value: ColumnElement[Any], where: list[ColumnElement[bool]]
) -> dict[str, tuple[float | None, float | None]]:
    """Department code (and TOTAL) -> (median, p90) in minutes of `value` (left out where NULL
    or negative) over the tickets matching `where`: PostgreSQL's percentile_cont, which SQLite
    lacks, with window functions. The values are ranked from 0 within each department and over
    every department; the value at rank f × (n − 1) is interpolated between the two ranks around
    it as percentile_cont does: low + (position − floor(position)) × (high − low).

    Each duration is computed once (a materialized CTE); only the rows at those ranks (four per
    line) are kept for the interpolation, so the period is not sorted again to group it."""
    durations = (
        select(Ticket.department_code.label("key"), cast(value, Float).label("value"))
        .where(*where)
        .cte("durations")
        .prefix_with("MATERIALIZED")
    )
    whole = (None, None)  # the frame of the count: the whole partition
    ranked = (
        select(
            durations.c.key,
            durations.c.value,
            (
                func.row_number().over(partition_by=durations.c.key, order_by=durations.c.value) - 1
            ).label("rank"),
            func.count()
            .over(partition_by=durations.c.key, order_by=durations.c.value, rows=whole)
            .label("n"),
            (func.row_number().over(order_by=durations.c.value) - 1).label("rank_all"),
            func.count().over(order_by=durations.c.value, rows=whole).label("n_all"),
        )
        .where(durations.c.value >= 0)
        .subquery("ranked")
    )

    def position(fraction: float, n: Any) -> Any:
        return literal(fraction, Float) * (n - 1)

    def around(rank: ColumnElement[Any], n: Any) -> ColumnElement[bool]:
        floors = [cast(position(f, n), Integer) for f in (MEDIAN, P90)]  # never negative
        return rank.in_([*floors, *(floor + 1 for floor in floors)])

    picked = (
        select(ranked)
        .where(around(ranked.c.rank, ranked.c.n) | around(ranked.c.rank_all, ranked.c.n_all))
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )

    def interpolated(rank: Any, n: Any) -> list[Any]:
        columns = []
        for fraction in (MEDIAN, P90):
            at = position(fraction, n)
            floor = cast(at, Integer)
            ceiling = floor + case((at > floor, 1), else_=0)
            low = func.max(case((rank == floor, picked.c.value)))
            high = func.max(case((rank == ceiling, picked.c.value)))
            columns.append(low + func.max(at - floor) * (high - low))
        return columns

    query = union_all(
        select(picked.c.key, *interpolated(picked.c.rank, picked.c.n))
        .where(around(picked.c.rank, picked.c.n))
        .group_by(picked.c.key),
        select(literal(TOTAL), *interpolated(picked.c.rank_all, picked.c.n_all))
        .where(around(picked.c.rank_all, picked.c.n_all))
        .having(func.count() > 0),
    )
    return {key: (_minutes(median), _minutes(p90)) for key, median, p90 in session.execute(query)}


def _minutes(microseconds: float | None) -> float | None:
    """A percentile of durations (in microseconds) as minutes, rounded to the nearest tenth,
    halves up: 15 s is 0.3 min, 7 min 45 s is 7.8 min."""
    if microseconds is None:
        return None
    return math.floor(float(microseconds) / MICROSECONDS_PER_TENTH + 0.5) / 10


# Periods shorter than this read SQLite's tickets through the (department, day) index.
INDEX_DAYS = 7
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Time-zone offsets are whole quarter hours: the database counts arrivals and calls per UTC
# quarter hour, and each quarter hour is placed in the hospital's local hour and weekday here
# (daylight saving included), whatever the database's own zone data.
QUARTER_SECONDS = 900


def _quarter_hour(dialect: str, column: Any) -> Any:
    """SQL for the UTC quarter hour of a timestamp, counted from the epoch."""
    if dialect == "postgresql":
        return func.floor(func.date_part("epoch", column).op("/")(QUARTER_SECONDS))
    return _seconds_sqlite(column).op("/")(QUARTER_SECONDS)  # integer division


def _counts(statuses: tuple[str, ...]) -> list[Any]:
    return [func.count(Ticket.number), *(func.count().filter(Ticket.status == s) for s in statuses)]


# work_mem of the statistics' transaction on PostgreSQL.
WORK_MEM = "32MB"
COUNTED = (S.SERVED, S.NO_SHOW, S.CANCELLED, S.TRANSFERRED, S.WAITING)


def statistics(
    engine: Engine,
    start: dt.date,
    end: dt.date,
    timezone: str | ZoneInfo,
    department: str | None = None,
    *,
    profiles: bool = True,
) -> Statistics:
    """Per department over service dates `start`..`end` (inclusive), with hourly profiles in
    the hospital's local time (without them when not `profiles`: a trend's previous period),
    all aggregated by the database."""
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
        in_range: list[ColumnElement[bool]] = [
            Ticket.service_date >= start,
            Ticket.service_date <= end,
        ]
        if department:
            in_range.append(Ticket.department_code == department)
        elif dialect == "postgresql" or (end - start).days < INDEX_DAYS:
            # Every ticket's department is a known one (a foreign key): naming them all lets
            # the database read the period through the (department, service date) index
            # instead of scanning the whole history. PostgreSQL weighs that against a scan by
            # itself; SQLite always takes the index, which costs more than a scan once the
            # period is a large part of the table, so it is named only for a few days.
            in_range.append(Ticket.department_code.in_(list(names)))

        def line(code: str | None) -> DepartmentFigures:
            if code is None or code == TOTAL:
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

        def count(figure: DepartmentFigures, counts: Sequence[int]) -> None:
            issued, served, absent, cancelled, transferred, waiting = counts
            figure.issued += issued
            figure.served += served
            figure.absent += absent
            figure.cancelled += cancelled
            figure.transferred += transferred
            figure.waiting += waiting

        wait = microseconds_between(dialect, Ticket.queued_at, Ticket.called_at)
        service = microseconds_between(dialect, Ticket.last_called_at, Ticket.finished_at)
        # A ticket's service time counts once it is served; a negative duration (a wrong
        # clock) counts in neither percentile.
        served = [
            Ticket.status == S.SERVED,
            Ticket.last_called_at.is_not(None),
            Ticket.finished_at.is_not(None),
        ]
        if dialect == "postgresql":
            # The sorts of a month (by department, and each line's durations) fit in memory
            # instead of spilling to temporary files at the default 4 MB.
            session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
            # One read of the period, each duration computed once (NULL where it has none):
            # counts, and both percentiles per department and over every department (ROLLUP's
            # line with no department).
            period = (
                select(
                    Ticket.department_code.label("code"),
                    Ticket.number,
                    Ticket.status,
                    cast(wait, Float).label("wait"),
                    case((and_(*served), cast(service, Float))).label("service"),
                )
                .where(*in_range)
                .subquery("period")
            )
            for code, *columns in session.execute(
                select(
                    period.c.code,
                    func.count(period.c.number),
                    *(func.count().filter(period.c.status == s) for s in COUNTED),
                    _percentiles_postgresql(period.c.wait),
                    _percentiles_postgresql(period.c.service),
                ).group_by(func.rollup(period.c.code))
            ):
                figure = line(code)
                count(figure, columns[:6])
                figure.median_wait, figure.p90_wait = map(_minutes, columns[6] or (None, None))
                figure.median_service, figure.p90_service = map(
                    _minutes, columns[7] or (None, None)
                )
        else:
            for code, *columns in session.execute(
                select(Ticket.department_code, *_counts(COUNTED))
                .where(*in_range)
                .group_by(Ticket.department_code)
            ):
                count(line(code), columns)
                count(total, columns)
            for code, (median, p90) in _percentiles_sqlite(
                session, wait, [*in_range, Ticket.called_at.is_not(None)]
            ).items():
                figure = line(code)
                figure.median_wait, figure.p90_wait = median, p90
            for code, (median, p90) in _percentiles_sqlite(
                session, service, [*in_range, *served]
            ).items():
                figure = line(code)
                figure.median_service, figure.p90_service = median, p90
        if profiles:
            _profiles(session, dialect, in_range, tz, arrivals, calls, heat)
    order = {code: index for index, code in enumerate(names)}
    ordered = sorted(figures.values(), key=lambda f: (order.get(f.code, len(order)), f.code))
    return Statistics(start, end, ordered, total, arrivals, calls, heat)


def _profiles(
    session: Session,
    dialect: str,
    in_range: list[ColumnElement[bool]],
    tz: ZoneInfo,
    arrivals: list[int],
    calls: list[int],
    heat: list[list[int]],
) -> None:
    """Add the period's arrivals and first calls per local hour (and weekday × hour)."""
    issued_q = _quarter_hour(dialect, Ticket.issued_at)
    called_q = _quarter_hour(dialect, Ticket.called_at)
    numbered = func.count(Ticket.number)
    quarters: list[tuple[Any, Any, int, int]]
    if dialect == "postgresql":
        # Both profiles in one read: a row of the issue time's set has its quarter hour and
        # no call time's; a row of the call time's set has no issue time's.
        called = func.count(Ticket.called_at)
        quarters = [
            (issued_at, called_at, arrived, calls_made)
            for issued_at, called_at, arrived, calls_made in session.execute(
                select(issued_q, called_q, numbered, called)
                .where(*in_range)
                .group_by(func.grouping_sets(issued_q, called_q))
            )
        ]
    else:
        # One read grouped by the pair (issue quarter, call quarter): each pair adds its
        # tickets to the arrivals of the one and to the calls of the other.
        quarters = []
        for issued_at, called_at, arrived, tickets in session.execute(
            select(issued_q, called_q, numbered, func.count())
            .where(*in_range)
            .group_by(issued_q, called_q)
        ):
            quarters.append((issued_at, None, arrived, 0))
            if called_at is not None:
                quarters.append((None, called_at, 0, tickets))
    for issued_at, called_at, arrived, calls_made in quarters:
        bucket = issued_at if issued_at is not None else called_at
        if bucket is None:
            continue  # the tickets not called yet
        local = (EPOCH + dt.timedelta(seconds=int(bucket) * QUARTER_SECONDS)).astimezone(tz)
        if issued_at is not None:
            arrivals[local.hour] += arrived
            heat[local.weekday()][local.hour] += arrived
        else:
            calls[local.hour] += calls_made
