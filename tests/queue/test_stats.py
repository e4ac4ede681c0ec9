"""The statistics' percentiles, computed by the database: the same known figures on SQLite and
on PostgreSQL (the console, its CSV/XLSX and `kiosk report` all show these)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from kiosk.queue import stats
from kiosk.queue.db import open_database
from kiosk.queue.models import Ticket, TicketStatus
from kiosk.queue.stats import period_range, previous_range, statistics
from tests.support.database import seed

S = TicketStatus
DAY = dt.date(2026, 11, 27)  # a Friday
OPENING = dt.datetime(2026, 11, 27, 0, 30, tzinfo=dt.UTC)  # 07:30 in Hanoi


def _ticket(
    department: str,
    number: int,
    status: str,
    wait: dt.timedelta | None,
    service: dt.timedelta | None = None,
) -> dict[str, Any]:
    queued = OPENING + dt.timedelta(minutes=number, microseconds=123_456)
    called = None if wait is None else queued + wait
    return {
        "id": str(uuid.uuid4()),
        "department_code": department,
        "service_date": DAY,
        "number": number,
        "code": f"{department[0]}{number:03d}",
        "priority": None,
        "status": status,
        "origin": "kiosk-test",
        "issued_at": queued,
        "queued_at": queued,
        "called_at": called,
        "last_called_at": called,
        "finished_at": None if called is None or service is None else called + service,
        "room": None if called is None else "101",
        "call_count": 0 if called is None else 1,
    }


def _known_day(engine: Engine) -> None:
    minutes, seconds = (lambda n: dt.timedelta(minutes=n)), (lambda n: dt.timedelta(seconds=n))
    rows = [
        # NOI: waits of 1, 2, ..., 10 minutes; services of 2 and 4 minutes, five of each.
        *(
            _ticket("NOI", n, S.SERVED, minutes(n), minutes(2 if n % 2 else 4))
            for n in range(1, 11)
        ),
        _ticket("NOI", 11, S.WAITING, None),  # not called: no wait yet
        # NHI: 0 and 30 seconds: the median, 15 s, is 0.25 min, which rounds half up to 0.3.
        _ticket("NHI", 1, S.CALLED, seconds(0)),
        _ticket("NHI", 2, S.CALLED, seconds(30)),
        _ticket("NHI", 3, S.NO_SHOW, seconds(-90)),  # a wrong clock: left out
        # NGOAI: a microsecond short of 9 s (0.15 min) rounds down; exact to the microsecond.
        _ticket("NGOAI", 1, S.CALLED, dt.timedelta(seconds=8, microseconds=999_999)),
    ]
    with Session(engine) as session, session.begin():
        session.execute(insert(Ticket), rows)


def test_medians_and_p90s_are_percentile_cont_on_both_databases(engine: Engine) -> None:
    seed(engine)
    _known_day(engine)
    figures = statistics(engine, DAY, DAY, "Asia/Ho_Chi_Minh")
    by_code = {f.code: f for f in figures.departments}
    assert list(by_code) == ["NOI", "NGOAI", "NHI"]  # the seeds' order

    noi, nhi, ngoai, total = by_code["NOI"], by_code["NHI"], by_code["NGOAI"], figures.total
    # percentile_cont: the value at rank f × (n − 1), interpolated between its neighbours.
    assert (noi.median_wait, noi.p90_wait) == (5.5, 9.1)
    assert (noi.median_service, noi.p90_service) == (3.0, 4.0)
    assert (nhi.median_wait, nhi.p90_wait) == (0.3, 0.5)  # 15 s and 27 s
    assert (nhi.median_service, nhi.p90_service) == (None, None)
    assert (ngoai.median_wait, ngoai.p90_wait) == (0.1, 0.1)
    # Every department together: 0, 8.999999 s, 30 s, 1 … 10 min → rank 6 is 4 min, rank 10.8
    # lies between 8 and 9 min.
    assert (total.median_wait, total.p90_wait) == (4.0, 8.8)
    assert (total.median_service, total.p90_service) == (3.0, 4.0)

    assert (noi.issued, noi.served, noi.waiting) == (11, 10, 1)
    assert (nhi.issued, nhi.absent) == (3, 1)
    assert (total.issued, total.served, total.absent) == (15, 10, 1)
    assert sum(figures.arrivals_by_hour) == 15
    assert figures.heat[4][7] == 15  # Friday, 07:00–08:00 local
    assert sum(figures.calls_by_hour) == 14


def test_an_empty_period_and_one_department(engine: Engine) -> None:
    seed(engine)
    _known_day(engine)
    before = statistics(engine, *previous_range(DAY, DAY), "Asia/Ho_Chi_Minh")
    assert before.departments == []
    assert before.total.median_wait is None and before.total.issued == 0
    only = statistics(engine, DAY, DAY, "Asia/Ho_Chi_Minh", department="NHI")
    assert [f.code for f in only.departments] == ["NHI"]
    assert (only.total.median_wait, only.total.p90_wait) == (0.3, 0.5)


def test_periods() -> None:
    day = dt.date(2026, 12, 2)  # a Wednesday
    assert period_range("day", day) == (day, day)
    assert period_range("week", day) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert period_range("month", day) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert previous_range(dt.date(2026, 11, 30), dt.date(2026, 12, 6)) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
    )


def test_hours_are_local_across_a_daylight_saving_change(engine: Engine) -> None:
    # Berlin leaves summer time on 25 October 2026: 08:30 UTC is 10:30 on the Saturday before
    # and 09:30 on the Monday after (a fixed offset for the whole period would put both at 10).
    seed(engine)
    rows = []
    for day, number in ((dt.date(2026, 10, 24), 1), (dt.date(2026, 10, 26), 2)):
        row = _ticket("NOI", number, S.SERVED, dt.timedelta(minutes=20), dt.timedelta(minutes=5))
        moment = dt.datetime.combine(day, dt.time(8, 30), dt.UTC)
        row.update(
            service_date=day,
            issued_at=moment,
            queued_at=moment,
            called_at=moment + dt.timedelta(minutes=20),
            last_called_at=moment + dt.timedelta(minutes=20),
            finished_at=moment + dt.timedelta(minutes=25),
        )
        rows.append(row)
    with Session(engine) as session, session.begin():
        session.execute(insert(Ticket), rows)
    figures = statistics(engine, dt.date(2026, 10, 24), dt.date(2026, 10, 26), "Europe/Berlin")
    assert [h for h, n in enumerate(figures.arrivals_by_hour) if n] == [9, 10]
    assert figures.heat[5][10] == 1 and figures.heat[0][9] == 1  # Saturday 10h, Monday 9h
    assert [h for h, n in enumerate(figures.calls_by_hour) if n] == [9, 10]
    assert (figures.total.median_wait, figures.total.median_service) == (20.0, 5.0)


def _random_tickets(seed_value: int) -> list[dict[str, Any]]:
    """Three departments over eight days with every status, waits and service times exact to
    the microsecond (ties, zeros and a few wrong clocks among them), issued around the clock."""
    generator = random.Random(seed_value)
    rows = []
    statuses = [S.SERVED] * 6 + [S.NO_SHOW, S.CANCELLED, S.CALLED, S.WAITING, S.TRANSFERRED]
    for offset in range(8):
        day = dt.date(2026, 11, 23) + dt.timedelta(days=offset)
        for department in ("NOI", "NHI", "NGOAI"):
            for number in range(1, generator.randint(20, 60)):
                status = generator.choice(statuses)
                issued = dt.datetime.combine(day, dt.time(0), dt.UTC) + dt.timedelta(
                    seconds=generator.randint(-7 * 3600, 16 * 3600),
                    microseconds=generator.randint(0, 999_999),
                )
                wait = dt.timedelta(
                    seconds=generator.choice([0, 30, 60, generator.randint(-120, 7200)]),
                    microseconds=generator.randint(0, 999_999),
                )
                service = dt.timedelta(microseconds=generator.randint(-(10**6), 30 * 60 * 10**6))
                called = None if status in (S.WAITING, S.CANCELLED) else issued + wait
                row = _ticket(department, number, status, None)
                row.update(
                    service_date=day,
                    issued_at=issued,
                    queued_at=issued,
                    called_at=called,
                    last_called_at=called,
                    finished_at=called + service if called and status == S.SERVED else None,
                )
                rows.append(row)
    return rows


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_figures(sqlite_url: str, postgres_url: str) -> None:
    rows = _random_tickets(17)
    figures = []
    for url in (sqlite_url, postgres_url):
        engine = open_database(url)
        try:
            seed(engine)
            with Session(engine) as session, session.begin():
                session.execute(insert(Ticket), rows)
            figures.append(
                [
                    statistics(engine, start, end, "Asia/Ho_Chi_Minh", department=department)
                    for start, end in (
                        (dt.date(2026, 11, 23), dt.date(2026, 11, 30)),
                        period_range("week", dt.date(2026, 11, 27)),
                        (DAY, DAY),
                    )
                    for department in (None, "NHI")
                ]
            )
        finally:
            engine.dispose()
    on_sqlite, on_postgresql = figures
    assert on_sqlite == on_postgresql
    every = on_sqlite[0]
    assert every.total.issued == len(rows)
    assert every.total.median_wait is not None and every.total.p90_service is not None


def test_sqlite_before_unixepoch_gives_the_same_figures(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite older than 3.38 has no unixepoch(): strftime('%s') parses the same seconds.
    engine = open_database(sqlite_url)
    try:
        seed(engine)
        with Session(engine) as session, session.begin():
            session.execute(insert(Ticket), _random_tickets(3))
        week = period_range("week", DAY)
        with_unixepoch = statistics(engine, *week, "Asia/Ho_Chi_Minh")
        monkeypatch.setattr(stats, "UNIXEPOCH", False)
        assert statistics(engine, *week, "Asia/Ho_Chi_Minh") == with_unixepoch
    finally:
        engine.dispose()
