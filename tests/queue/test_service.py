"""The queue service on SQLite and on PostgreSQL: transitions, order, estimates, dates."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.errors import (
    DepartmentUnavailable,
    InvalidTransition,
    RequestIdReused,
    UnknownDepartment,
    UnknownPriority,
    UnknownRoom,
    UnknownTicket,
)
from kiosk.queue.events import EventType
from kiosk.queue.models import Department, Event, Ticket, TicketStatus
from kiosk.queue.service import QueueService, TicketInfo, ahead_of
from tests.support.database import FakeClock, call_in_room_async

S = TicketStatus


def events_of(engine: Engine, ticket_id: str | None = None) -> list[Event]:
    with Session(engine) as session:
        query = select(Event).order_by(Event.position)
        if ticket_id:
            query = query.where(Event.ticket_id == ticket_id)
        return list(session.scalars(query))


# -- issuing ---------------------------------------------------------------------------


def test_issue_numbers_and_codes(service: QueueService, engine: Engine) -> None:
    first = service.issue("NOI").ticket
    second = service.issue("NOI").ticket
    other = service.issue("NGOAI").ticket
    assert (first.number, first.code) == (1, "B001")
    assert (second.number, second.code) == (2, "B002")
    assert (other.number, other.code) == (1, "C001")
    assert first.status == S.WAITING and first.origin == "kiosk-test"
    assert first.service_date == dt.date(2026, 11, 28)

    issued = [e for e in events_of(engine) if e.type == EventType.ISSUED]
    assert [e.ticket_id for e in issued] == [first.id, second.id, other.id]
    assert [e.seq for e in issued] == [1, 2, 3]
    assert issued[0].data["ticket"]["code"] == "B001"


def test_offset_and_width(engine: Engine, clock: FakeClock) -> None:
    from tests.support.database import seed

    seed(engine)
    kiosk2 = QueueService(
        engine, origin="kiosk-2", numbering_offset=500, numbering_width=4, clock=clock
    )
    assert [kiosk2.issue("NOI").ticket.code for _ in range(2)] == ["B0501", "B0502"]
    kiosk1 = QueueService(engine, origin="kiosk-1", clock=clock)
    assert kiosk1.issue("NOI").ticket.code == "B001"


def test_unknown_department_lists_valid_codes(service: QueueService) -> None:
    with pytest.raises(UnknownDepartment) as caught:
        service.issue("XYZ")
    assert "NOI" in caught.value.valid and "NOI" in str(caught.value)


def test_unknown_priority(service: QueueService) -> None:
    with pytest.raises(UnknownPriority, match="elderly_75"):
        service.issue("NOI", priority="vip")


def test_paused_inactive_and_full_departments(service: QueueService, engine: Engine) -> None:
    service.set_paused("NOI", True)
    with pytest.raises(DepartmentUnavailable, match="paused"):
        service.issue("NOI")
    service.set_paused("NOI", False)
    assert service.issue("NOI").ticket.number == 1

    with Session(engine) as session, session.begin():
        session.get_one(Department, "MAT").active = False
        session.get_one(Department, "TMH").daily_capacity = 2
    with pytest.raises(DepartmentUnavailable, match="inactive"):
        service.issue("MAT")
    service.issue("TMH")
    service.issue("TMH")
    with pytest.raises(DepartmentUnavailable, match="full"):
        service.issue("TMH")
    by_code = {d.code: d for d in service.departments()}
    assert by_code["TMH"].unavailable == "full"
    assert "MAT" not in by_code
    assert by_code["NOI"].unavailable is None
    # A refused issue leaves no number behind: the next one is still consecutive.
    service.issue("NOI")
    numbers = sorted(
        t.number or 0 for t in service.tickets_on(dt.date(2026, 11, 28)) if t.department == "NOI"
    )
    assert numbers == [1, 2]


# -- transitions -----------------------------------------------------------------------

LEGAL: dict[str, set[str]] = {
    "call": {S.WAITING},
    "recall": {S.CALLED},
    "serve": {S.CALLED},
    "no_show": {S.CALLED},
    "requeue": {S.NO_SHOW},
    "transfer": {S.WAITING, S.CALLED},
    "cancel": {S.WAITING},
}
EXPECTED_EVENT = {
    "call": EventType.CALLED,
    "recall": EventType.RECALLED,
    "serve": EventType.SERVED,
    "no_show": EventType.NO_SHOW,
    "requeue": EventType.REQUEUED,
    "transfer": EventType.TRANSFERRED,
    "cancel": EventType.CANCELLED,
}


def ticket_in(service: QueueService, status: str) -> TicketInfo:
    """A fresh NOI ticket brought to `status` through legal moves."""
    ticket = service.issue("NOI").ticket
    path = {
        S.WAITING: [],
        S.CALLED: ["call"],
        S.SERVED: ["call", "serve"],
        S.NO_SHOW: ["call", "no_show"],
        S.TRANSFERRED: ["transfer"],
        S.CANCELLED: ["cancel"],
    }[status]
    for action in path:
        ticket = act(service, action, ticket.id)
    return service.get(ticket.id) if status != S.TRANSFERRED else _original(service, ticket)


def _original(service: QueueService, moved: TicketInfo) -> TicketInfo:
    assert moved.transferred_from
    return service.get(moved.transferred_from)


def act(service: QueueService, action: str, ticket_id: str) -> TicketInfo:
    calls: dict[str, Callable[[], TicketInfo]] = {
        "call": lambda: service.call(ticket_id, "101"),
        "recall": lambda: service.recall(ticket_id),
        "serve": lambda: service.serve(ticket_id),
        "no_show": lambda: service.no_show(ticket_id),
        "requeue": lambda: service.requeue(ticket_id),
        "transfer": lambda: service.transfer(ticket_id, "NGOAI"),
        "cancel": lambda: service.cancel(ticket_id, "patient_left"),
    }
    return calls[action]()


@pytest.mark.parametrize("status", [str(s) for s in S])
@pytest.mark.parametrize("action", sorted(LEGAL))
def test_every_transition(service: QueueService, engine: Engine, action: str, status: str) -> None:
    ticket = ticket_in(service, status)
    before = len(events_of(engine))
    if status in LEGAL[action]:
        result = act(service, action, ticket.id)
        after = events_of(engine)
        assert len(after) == before + 1, "one change, one event"
        assert after[-1].type == EXPECTED_EVENT[action]
        assert after[-1].ticket_id == ticket.id
        changed = service.get(ticket.id)
        expected = {
            "call": S.CALLED,
            "recall": S.CALLED,
            "serve": S.SERVED,
            "no_show": S.NO_SHOW,
            "requeue": S.WAITING,
            "transfer": S.TRANSFERRED,
            "cancel": S.CANCELLED,
        }[action]
        assert changed.status == expected
        if action == "transfer":
            assert result.department == "NGOAI" and result.status == S.WAITING
    else:
        with pytest.raises(InvalidTransition) as caught:
            act(service, action, ticket.id)
        message = str(caught.value)
        assert ticket.code in message and status in message
        assert service.get(ticket.id).status == status, "never a silent change"
        assert len(events_of(engine)) == before


def test_unknown_ticket(service: QueueService) -> None:
    with pytest.raises(UnknownTicket):
        service.serve("00000000-0000-4000-8000-000000000000")


def test_call_recall_serve_timestamps(service: QueueService, clock: FakeClock) -> None:
    ticket = service.issue("NOI").ticket
    clock.advance(minutes=10)
    called = service.call_next("NOI", "102")
    assert called is not None and called.id == ticket.id
    assert called.room == "102" and called.call_count == 1
    clock.advance(minutes=1)
    recalled = service.recall(ticket.id)
    assert recalled.call_count == 2 and recalled.called_at == called.called_at
    assert recalled.last_called_at == clock.now
    clock.advance(minutes=7)
    served = service.serve(ticket.id)
    assert served.finished_at == clock.now


def test_transfer_keeps_code_and_takes_no_number(service: QueueService, engine: Engine) -> None:
    service.issue("NGOAI")  # C001 exists in the target already
    ticket = service.issue("NOI").ticket
    moved = service.transfer(ticket.id, "NGOAI")
    assert moved.code == ticket.code and moved.number is None
    assert moved.transferred_from == ticket.id
    assert service.get(ticket.id).status == S.TRANSFERRED
    assert service.issue("NGOAI").ticket.number == 2, "the target's sequence is untouched"
    event = events_of(engine, ticket.id)[-1]
    assert event.data["new_ticket"]["id"] == moved.id
    with pytest.raises(InvalidTransition):
        service.transfer(moved.id, "NGOAI")


def test_requeue_goes_to_the_back(service: QueueService, clock: FakeClock) -> None:
    first = service.issue("NOI").ticket
    clock.advance(minutes=1)
    second = service.issue("NOI").ticket
    assert service.call_next("NOI", "101") == service.get(first.id)
    service.no_show(first.id)
    clock.advance(minutes=1)
    service.requeue(first.id)
    waiting = [t.id for t in service.snapshot("NOI").waiting]
    assert waiting == [second.id, first.id]


# -- order of calling ------------------------------------------------------------------


def call_in_room(
    service: QueueService, how: str, department: str, room: str, request_id: str | None = None
) -> tuple[TicketInfo | None, bool]:
    """The server's `call_next_in_room` (plain SQL on PostgreSQL), or on PostgreSQL its
    `call_next_in_room_async` on psycopg's own pool (the server's call-next)."""
    if how == "call_next_in_room":
        return service.call_next_in_room(department, room, request_id)
    assert how == "call_next_in_room_async"
    return call_in_room_async(service, department, room, request_id)


def call_next_by(service: QueueService, how: str, department: str, room: str) -> TicketInfo | None:
    """The ORM's `call_next`, or one of the server's calls (`call_in_room`)."""
    if how == "call_next":
        return service.call_next(department, room)
    return call_in_room(service, how, department, room)[0]


@pytest.fixture(params=["call_next_in_room", "call_next_in_room_async"])
def in_room(request: pytest.FixtureRequest, service: QueueService) -> str:
    """The server's sync call, and (PostgreSQL only) its call on psycopg's async pool."""
    if request.param == "call_next_in_room_async" and service.engine.dialect.name != "postgresql":
        pytest.skip("call-next runs on psycopg's async pool on PostgreSQL only")
    return str(request.param)


@pytest.fixture(params=["call_next", "call_next_in_room", "call_next_in_room_async"])
def how(request: pytest.FixtureRequest, engine: Engine) -> str:
    if request.param == "call_next_in_room_async" and engine.dialect.name != "postgresql":
        pytest.skip("call-next runs on psycopg's async pool on PostgreSQL only")
    return str(request.param)


def test_priority_first_then_issue_time(service: QueueService, clock: FakeClock, how: str) -> None:
    normal1 = service.issue("NOI").ticket
    clock.advance(seconds=30)
    elder = service.issue("NOI", "elderly_75").ticket
    clock.advance(seconds=30)
    normal2 = service.issue("NOI").ticket
    clock.advance(seconds=30)
    child = service.issue("NOI", "child_under_6").ticket
    snapshot = service.snapshot("NOI")
    assert [t.id for t in snapshot.waiting] == [elder.id, child.id, normal1.id, normal2.id]
    order = []
    while (called := call_next_by(service, how, "NOI", "101")) is not None:
        order.append(called.id)
    assert order == [elder.id, child.id, normal1.id, normal2.id]


def test_priority_ratio_keeps_the_normal_line_moving(
    engine: Engine, clock: FakeClock, how: str
) -> None:
    from tests.support.database import seed

    seed(engine)
    service = QueueService(engine, origin="k", max_priority_in_row=2, clock=clock)
    normals = []
    for _ in range(3):
        normals.append(service.issue("NOI").ticket.code)
        clock.advance(seconds=1)
    priority = []
    for _ in range(5):
        priority.append(service.issue("NOI", "pregnant").ticket.code)
        clock.advance(seconds=1)
    calls = []
    while (called := call_next_by(service, how, "NOI", "101")) is not None:
        calls.append(called.code)
        clock.advance(seconds=1)
    p, n = priority, normals
    assert calls == [p[0], p[1], n[0], p[2], p[3], n[1], p[4], n[2]]


def test_call_next_in_room_stores_the_same_call_as_call_next(
    service: QueueService, clock: FakeClock, in_room: str
) -> None:
    """The server's path (plain SQL on PostgreSQL) leaves the ticket and the event exactly
    as the ORM's call does: status, times, the event's seq, feed position and data."""
    first = service.issue("NOI").ticket
    second = service.issue("NOI").ticket
    clock.advance(seconds=5)
    by_orm = service.call_next("NOI", "101")
    # Microseconds past the millisecond: the event's times are cut to milliseconds, as
    # `format_timestamp` cuts them (on PostgreSQL the statement writes them itself).
    clock.advance(seconds=5, microseconds=987_654)
    by_sql, new = call_in_room(service, in_room, "NOI", "102")
    assert by_orm is not None and by_sql is not None and new
    assert (by_orm.id, by_sql.id) == (first.id, second.id)
    assert service.get(second.id) == by_sql
    assert by_sql.status == S.CALLED and by_sql.room == "102" and by_sql.call_count == 1
    assert by_sql.called_at == by_sql.last_called_at == service.now()
    with service.reading() as session:
        events = session.scalars(
            select(Event).where(Event.type == "ticket.called").order_by(Event.position)
        ).all()
        orm_event, sql_event = events
        assert sql_event.ticket_id == second.id and sql_event.department_code == "NOI"
        assert sql_event.origin == orm_event.origin == "kiosk-test"
        assert sql_event.seq == orm_event.seq + 1
        assert sql_event.position == orm_event.position + 1
        assert sql_event.occurred_at == sql_event.stored_at == service.now()
        assert sql_event.data == {"ticket": by_sql.to_dict(), "room": "102"}
        assert set(orm_event.data) == set(sql_event.data)


def test_call_next_in_room_checks_the_room_and_the_request_id(
    service: QueueService, in_room: str
) -> None:
    def call(department: str, room: str, request_id: str | None = None) -> Any:
        return call_in_room(service, in_room, department, room, request_id)

    service.issue("NOI")
    with pytest.raises(UnknownRoom):
        call("NOI", "Q1", "request-1")
    with pytest.raises(UnknownDepartment):
        call("NOPE", "101", "request-1")
    # A refused request left nothing behind: the same id calls now.
    called, new = call("NOI", "101", "request-1")
    assert called is not None and new
    assert call("NOI", "101", "request-1") == (called, False)
    with pytest.raises(RequestIdReused):
        call("NGOAI", "104", "request-1")
    # Nobody waiting: that answer is kept for the id too.
    assert call("NOI", "101", "request-2") == (None, True)
    service.issue("NOI")
    assert call("NOI", "101", "request-2") == (None, False)
    with pytest.raises(UnknownRoom):
        call("NOI", "nope")


def test_racing_retries_of_one_request_id_call_one_ticket(service: QueueService) -> None:
    """A counter's retry that races its first try (the answer was lost, the first is still
    running): both get the same ticket, and only one ticket is called per request id."""
    for _ in range(12):
        service.issue("NOI")
    answers: dict[str, list[TicketInfo | None]] = {}
    lock = threading.Lock()

    def call(request_id: str, start: threading.Barrier) -> None:
        start.wait()
        ticket, _new = service.call_next_in_room("NOI", "101", request_id)
        with lock:
            answers.setdefault(request_id, []).append(ticket)

    for n in range(8):
        start = threading.Barrier(3)
        threads = [threading.Thread(target=call, args=(f"race-{n}", start)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    called = [tickets[0] for tickets in answers.values()]
    assert all(t is not None for t in called)
    assert all(len(set(tickets)) == 1 and len(tickets) == 3 for tickets in answers.values())
    assert len({t.id for t in called if t is not None}) == 8
    with service.reading() as session:
        events = session.scalars(select(Event).where(Event.type == "ticket.called")).all()
        assert sorted(e.ticket_id or "" for e in events) == sorted(
            t.id for t in called if t is not None
        )
    assert len(service.snapshot("NOI").waiting) == 4


def test_call_next_empty_and_yesterday_is_not_called(
    service: QueueService, clock: FakeClock
) -> None:
    assert service.call_next("NOI", "101") is None
    service.issue("NOI")
    clock.advance(days=1)
    assert service.call_next("NOI", "101") is None


def test_out_of_order_call(service: QueueService) -> None:
    service.issue("NOI")
    late = service.issue("NOI").ticket
    called = service.call(late.id, "103")
    assert called.status == S.CALLED and called.room == "103"
    assert service.snapshot("NOI").called[0].id == late.id


# -- position and estimate -------------------------------------------------------------


def test_people_ahead_and_estimate_from_configured_average(service: QueueService) -> None:
    # NOI: 8 minutes on average, three rooms working in parallel.
    tickets = [service.issue("NOI") for _ in range(7)]
    assert [t.position.ahead for t in tickets] == list(range(7))
    assert tickets[0].position.estimated_wait_minutes == 0
    assert tickets[6].position.estimated_wait_minutes == 16  # 6 × 8 / 3
    elder = service.issue("NOI", "elderly_75")
    assert elder.position.ahead == 0
    assert service.position(tickets[6].ticket.id).ahead == 7
    snapshot = service.snapshot("NOI")
    assert ahead_of(snapshot.waiting, tickets[6].ticket) == 7


def test_estimate_uses_todays_measured_service_time(
    service: QueueService, clock: FakeClock
) -> None:
    # MAT: one room, 10 minutes configured; today's patients take 4 minutes each.
    for _ in range(3):
        ticket = service.issue("MAT").ticket
        service.call(ticket.id, "204")
        clock.advance(minutes=4)
        service.serve(ticket.id)
    waiting = [service.issue("MAT") for _ in range(3)]
    assert waiting[2].position.ahead == 2
    assert waiting[2].position.estimated_wait_minutes == 8
    status = {d.code: d for d in service.departments()}["MAT"]
    assert status.waiting == 3 and status.estimated_wait_minutes == 12


def test_departments_overview_counts(service: QueueService) -> None:
    a = service.issue("NOI").ticket
    service.issue("NOI")
    service.call(a.id, "101")
    noi = {d.code: d for d in service.departments()}["NOI"]
    assert (noi.waiting, noi.serving, noi.issued_today) == (1, 1, 2)
    assert noi.rooms == ["101", "102", "103"]
    assert noi.name("en") == "Internal Medicine" and noi.name("vi") == "Khám Nội"


# -- service date ----------------------------------------------------------------------


def test_numbering_restarts_at_local_midnight(service: QueueService, clock: FakeClock) -> None:
    # 23:59 in Hanoi is 16:59 UTC; midnight in Hanoi is 17:00 UTC, still the same UTC day.
    clock.now = dt.datetime(2026, 11, 28, 16, 59, tzinfo=dt.UTC)
    before = service.issue("NOI").ticket
    second = service.issue("NOI").ticket
    clock.now = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)
    after = service.issue("NOI").ticket
    assert (before.service_date, before.number) == (dt.date(2026, 11, 28), 1)
    assert second.number == 2
    assert (after.service_date, after.number, after.code) == (dt.date(2026, 11, 29), 1, "B001")
    # Yesterday's waiting ticket is not ahead of today's first patient.
    assert service.position(after.id).ahead == 0


def test_service_date_follows_configured_timezone(engine: Engine, clock: FakeClock) -> None:
    from tests.support.database import seed

    seed(engine)
    clock.now = dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.UTC)  # 03:00 next day in Hanoi
    hanoi = QueueService(engine, origin="a", timezone="Asia/Ho_Chi_Minh", clock=clock)
    utc = QueueService(engine, origin="b", timezone="UTC", clock=clock)
    assert hanoi.service_date() == dt.date(2026, 11, 29)
    assert utc.service_date() == dt.date(2026, 11, 28)


def test_naive_clock_is_refused(engine: Engine) -> None:
    service = QueueService(engine, origin="k", clock=lambda: dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        service.now()


# -- events ----------------------------------------------------------------------------


def test_event_seq_and_positions_are_gap_free(service: QueueService, engine: Engine) -> None:
    tickets = [service.issue("NOI").ticket for _ in range(3)]
    service.call_next("NOI", "101")
    service.serve(tickets[0].id)
    with pytest.raises(InvalidTransition):
        service.serve(tickets[0].id)  # a refused change spends no seq
    service.record_device_status({"printer": "paper_out"})
    events = events_of(engine)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == EventType.DEVICE_STATUS and events[-1].ticket_id is None
    assert all(e.origin == "kiosk-test" for e in events)


def test_failed_transaction_leaves_nothing(service: QueueService, engine: Engine) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), service.transaction() as session:
        service.issue_in(session, "NOI")
        raise Boom
    assert service.issue("NOI").ticket.number == 1
    with Session(engine) as session:
        assert session.scalar(select(Ticket.code)) == "B001"
        assert [e.seq for e in session.scalars(select(Event))] == [1]


def test_a_ticket_lost_to_a_full_disk_is_never_logged_as_issued(
    sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import sqlite3

    from kiosk.queue.db import open_database
    from kiosk.queue.errors import StorageFull
    from tests.support.database import seed

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    # On the service's own logger: whatever an earlier test did to the loggers above it
    # (levels, propagation), this sees every record the service writes.
    kept = Kept()
    logger = logging.getLogger("kiosk.queue.service")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(kept)
    engine = open_database(sqlite_url)
    try:
        seed(engine)
        service = QueueService(engine, origin="kiosk-test", clock=clock)

        def disk_full(connection: Any) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        with monkeypatch.context() as patch:
            patch.setattr(engine.dialect, "do_commit", disk_full)
            with pytest.raises(StorageFull):
                service.issue("NOI")
        assert any(m.startswith("numbered B001") for m in kept.messages)
        assert not [m for m in kept.messages if m.startswith("issued")]
        issued = service.issue("NOI")
        assert [m for m in kept.messages if m.startswith("issued")] == [
            f"issued B001 ({issued.ticket.id})"
        ]
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)
        engine.dispose()


def test_end_of_day_cancels_only_earlier_waiting_tickets(
    service: QueueService, clock: FakeClock, engine: Engine
) -> None:
    old_waiting = service.issue("NOI").ticket
    old_called = service.issue("NOI").ticket
    service.call(old_called.id, "101")
    clock.advance(days=1)
    today = service.issue("NOI").ticket
    assert service.close_stale_tickets() == 1
    closed = service.get(old_waiting.id)
    assert (closed.status, closed.cancel_reason) == (S.CANCELLED, "end_of_day")
    assert service.get(old_called.id).status == S.CALLED
    assert service.get(today.id).status == S.WAITING
    assert events_of(engine, old_waiting.id)[-1].data["reason"] == "end_of_day"
    assert service.close_stale_tickets() == 0


def test_recalls_beyond_the_limit_mark_the_ticket_absent(
    service: QueueService, engine: Engine, clock: FakeClock
) -> None:
    service = QueueService(engine, origin="server", clock=clock, max_recalls=1)
    ticket = service.issue("NOI").ticket
    service.call(ticket.id, "101")
    assert service.recall(ticket.id).status == S.CALLED
    absent = service.recall(ticket.id)
    assert absent.status == S.NO_SHOW and absent.finished_at == clock.now
    assert absent.call_count == 2  # the refused recall called nobody
    with service.reading() as session:
        types = session.scalars(
            select(Event.type).where(Event.ticket_id == ticket.id).order_by(Event.seq)
        ).all()
    assert list(types)[-2:] == [EventType.RECALLED, EventType.NO_SHOW]


def test_outbox_batch_is_bounded_by_count_and_bytes(service: QueueService) -> None:
    from kiosk.queue.events import event_to_dict, outbox, outbox_batch

    for _ in range(3):
        service.issue("NOI")
    with service.reading() as session:
        every = [event_to_dict(e) for e in outbox(session, "kiosk-test")]
        assert outbox_batch(session, "kiosk-test", 5, 10**6) == (every, False)
        assert outbox_batch(session, "kiosk-test", 3, 10**6) == (every, False)
        assert outbox_batch(session, "kiosk-test", 2, 10**6) == (every[:2], True)
        # Never empty while events wait, however large the first one is.
        assert outbox_batch(session, "kiosk-test", 5, 1) == (every[:1], True)
