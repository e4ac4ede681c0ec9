"""`call-next` with a request id: a retry after a lost answer never calls a second patient."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select

from kiosk.queue.models import Event
from kiosk.queue.service import QueueService
from tests.support.server import Api


def _called_events(engine: Engine) -> int:
    with QueueService(engine, origin="check").reading() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Event).where(Event.type == "ticket.called")
            )
            or 0
        )


def test_the_same_request_id_answers_the_same_ticket_and_makes_one_event(
    api: Callable[[str | None], Api], server_service: QueueService, server_engine: Engine
) -> None:
    first = server_service.issue("NOI").ticket
    server_service.issue("NOI")
    counter = api("counter")
    body = {"room": "101", "request_id": "c0ffee-0001"}
    one = counter.post("/api/v1/departments/NOI/call-next", json=body)
    two = counter.post("/api/v1/departments/NOI/call-next", json=body)
    assert one.status_code == two.status_code == 200
    assert one.json()["ticket"]["id"] == two.json()["ticket"]["id"] == first.id
    assert _called_events(server_engine) == 1
    other = counter.post(
        "/api/v1/departments/NOI/call-next", json={"room": "101", "request_id": "c0ffee-0002"}
    )
    assert other.json()["ticket"]["code"] == "B002"
    assert _called_events(server_engine) == 2


def test_a_request_id_is_bound_to_its_department(
    api: Callable[[str | None], Api], server_service: QueueService
) -> None:
    server_service.issue("NOI")
    server_service.issue("NGOAI")
    counter = api("counter")
    body = {"room": "101", "request_id": "c0ffee-0003"}
    assert counter.post("/api/v1/departments/NOI/call-next", json=body).status_code == 200
    reused = counter.post("/api/v1/departments/NGOAI/call-next", json={**body, "room": "104"})
    assert reused.status_code == 409
    assert reused.json()["code"] == "request_id_reused"


def test_nobody_waiting_is_remembered_too_and_the_queue_has_counts_and_cursor(
    api: Callable[[str | None], Api], server_service: QueueService
) -> None:
    counter = api("counter")
    body = {"room": "101", "request_id": "c0ffee-0004"}
    assert counter.post("/api/v1/departments/NOI/call-next", json=body).json() == {"ticket": None}
    server_service.issue("NOI")
    assert counter.post("/api/v1/departments/NOI/call-next", json=body).json() == {"ticket": None}
    queue = api("board").get("/api/v1/departments/NOI/queue").json()
    assert queue["today"]["waiting"] == 1 and queue["today"]["issued"] == 1
    assert queue["cursor"] >= 1
    names = api("board").get("/api/v1/departments").json()["departments"][0]
    assert names["room_names_vi"]


def test_old_request_ids_are_forgotten(server_engine: Engine) -> None:
    import datetime as dt

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from kiosk.config import Config
    from kiosk.queue.models import CallRequest
    from server_sync.server.app import create_app, prune_call_requests

    now = dt.datetime.now(dt.UTC)
    with Session(server_engine) as session, session.begin():
        for name, age in (("old", dt.timedelta(days=2)), ("recent", dt.timedelta(minutes=5))):
            session.add(
                CallRequest(
                    request_id=name,
                    department_code="NOI",
                    room="101",
                    ticket_id=None,
                    created_at=now - age,
                )
            )
    state = create_app(server_engine, Config()).state.kiosk
    assert prune_call_requests(state) == 1
    with Session(server_engine) as session:
        assert list(session.scalars(select(CallRequest.request_id))) == ["recent"]


def test_the_call_next_statement_stays_within_psycopgs_query_cache() -> None:
    """psycopg parses a longer query's placeholders again on every call (its cache takes
    queries of at most MAX_CACHED_STATEMENT_LENGTH bytes): call-next would pay it each time."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    from kiosk.queue.service import _CALL_NEXT_SQL

    compiled = str(_CALL_NEXT_SQL.compile(dialect=dialect())).encode()
    assert len(compiled) <= MAX_CACHED_STATEMENT_LENGTH
