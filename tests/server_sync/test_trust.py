"""The server trusts no kiosk: each attack tried against a real uvicorn (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.config import Config
from kiosk.queue.db import make_engine
from kiosk.queue.events import event_to_dict, store_event
from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.server import Api, LiveServer, sync_client

ApiFactory = Callable[[str | None], Api]


def events_of(engine: Engine, origin: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.scalars(select(Event).where(Event.origin == origin).order_by(Event.seq))
        return [event_to_dict(e) for e in rows]


def push(api: Api, events: list[dict[str, Any]], origin: str = "kiosk-hall-1") -> Any:
    response = api.post("/api/v1/sync/events", json={"origin": origin, "events": events})
    return response


@pytest.fixture
def victim(
    server_engine: Engine, live: LiveServer, tmp_path: Path, kiosk_engine: Engine
) -> tuple[str, QueueService]:
    """A second kiosk, kiosk-hall-2 (numbers from 501), with a waiting ticket on the server."""
    from kiosk.queue.db import open_database
    from tests.support.database import seed

    token = add_device(server_engine, "kiosk-hall-2", "kiosk", numbering_offset=500)
    engine = open_database(f"sqlite:///{tmp_path / 'victim.db'}")
    seed(engine)
    service = QueueService(engine, origin="kiosk-hall-2", numbering_offset=500)
    service.issue("NOI")
    client = sync_client(engine, live.url, token, origin="kiosk-hall-2")
    assert client.push().accepted == 1
    return token, service


def test_a_kiosk_cannot_push_under_another_kiosks_origin(
    api: ApiFactory,
    live: LiveServer,
    server_engine: Engine,
    kiosk_service: QueueService,
    victim: tuple[str, QueueService],
) -> None:
    _, victim_service = victim
    [issued] = events_of(victim_service.engine, "kiosk-hall-2")
    ticket = issued["data"]["ticket"]
    forged = {
        "id": str(uuid.uuid4()),
        "origin": "kiosk-hall-2",
        "seq": 2,
        "type": "ticket.cancelled",
        "occurred_at": issued["occurred_at"],
        "ticket_id": ticket["id"],
        "department": "NOI",
        "data": {"ticket": {**ticket, "status": "cancelled"}, "reason": "print_failed"},
    }
    attacker = api("kiosk")  # kiosk-hall-1's token
    answer = push(attacker, [forged], origin="kiosk-hall-2")
    assert answer.status_code == 403 and answer.json()["code"] == "origin_not_yours"
    # Hidden inside a batch under its own origin: refused whole as well.
    kiosk_service.issue("NHI")
    own = events_of(kiosk_service.engine, "kiosk-hall-1")
    answer = push(attacker, [*own, forged])
    assert answer.status_code == 403
    with Session(server_engine) as session:
        assert session.get(Ticket, ticket["id"]).status == "waiting"  # type: ignore[union-attr]
        assert session.scalars(select(Event).where(Event.origin == "kiosk-hall-1")).all() == []
    # And the victim keeps issuing and syncing: nothing of its seq was taken.
    victim_service.issue("NOI")
    token, _ = victim
    result = sync_client(victim_service.engine, live.url, token, origin="kiosk-hall-2").push()
    assert result.accepted == 1 and not result.rejected


def test_a_poisoned_event_never_breaks_the_feed(
    api: ApiFactory, live: LiveServer, server_engine: Engine, kiosk_service: QueueService
) -> None:
    kiosk_service.record_device_status({"printer": "ready"})
    [status] = events_of(kiosk_service.engine, "kiosk-hall-1")
    poisoned = {**status, "data": {"printer": "\ud800"}}
    answer = push(api("kiosk"), [poisoned])
    assert answer.status_code == 200
    assert [r["code"] for r in answer.json()["rejected"]] == ["invalid_event"]
    # Even if one got stored some other way, readers still get 200 and every other event.
    bad_id = str(uuid.uuid4())
    with Session(server_engine) as session, session.begin():
        bad = Event(
            id=bad_id,
            origin="legacy",
            seq=1,
            type="device.status",
            occurred_at=dt.datetime.now(dt.UTC),
            ticket_id=None,
            department_code=None,
            data={"note": "\ud800"},
        )
        store_event(session, bad, dt.datetime.now(dt.UTC))
    QueueService(server_engine, origin="server").call_next("NOI", "P101")
    for role in ("board", "counter", "kiosk"):
        feed = api(role).get("/api/v1/events?after=0")
        assert feed.status_code == 200, feed.text
        ids = [e["id"] for e in feed.json()["events"]]
        assert bad_id not in ids


def test_odd_text_in_a_path_or_body_is_422_not_500(api: ApiFactory) -> None:
    counter = api("counter")
    answer = counter.http.post(
        f"{counter.base}/api/v1/departments/NOI/call-next",
        data=b'{"room": "\\ud800"}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == "room"
    answer = counter.get("/api/v1/tickets/%ED%A0%80")
    assert answer.status_code in (404, 422), answer.text


def issued_event(service: QueueService) -> dict[str, Any]:
    service.issue("NOI")
    return events_of(service.engine, service.origin)[-1]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        # Each attack alone, so that every check is proved by a case of its own.
        pytest.param({"queued_at": "1970-01-01T00:00:00.000Z"}, "invalid_event", id="queued-1970"),
        pytest.param({"priority": "vip_friend"}, "invalid_event", id="unknown-priority"),
        pytest.param(
            {"issued_at": "1970-01-01T00:00:00.000Z", "queued_at": "1970-01-01T00:00:00.000Z"},
            "invalid_event",
            id="issued-1970",
        ),
        pytest.param({"number": 777, "code": "B777"}, "outside_block", id="out-of-block"),
        pytest.param({"code": "B1"}, "invalid_event", id="code-not-padded"),
        pytest.param({"code": "Z001"}, "invalid_event", id="code-other-prefix"),
        pytest.param({"service_date": "2099-01-01"}, "invalid_event", id="date-2099"),
        pytest.param({"service_date": "2000-01-01"}, "invalid_event", id="date-2000"),
        pytest.param({"call_count": 99}, "invalid_event", id="waiting-called-99-times"),
        pytest.param(
            {"status": "called", "call_count": 1, "room": "P101"}, "invalid_event", id="called"
        ),
        pytest.param({"code": "B\u202e001"}, "invalid_event", id="bidi-override"),
    ],
)
def test_a_hostile_ticket_is_rejected_with_a_code(
    api: ApiFactory,
    server_engine: Engine,
    change: dict[str, Any],
    code: str,
) -> None:
    token = add_device(server_engine, "kiosk-small", "kiosk", block_size=100)
    service = QueueService(server_engine, origin="kiosk-small")
    wire = issued_event(service)
    with Session(server_engine) as session, session.begin():  # forget it: push it fresh
        session.delete(session.get(Event, wire["id"]))
        session.delete(session.get(Ticket, wire["ticket_id"]))
    hostile = copy.deepcopy(wire)
    hostile["data"]["ticket"].update(change)
    kiosk = Api(api(None).base, token)
    answer = push(kiosk, [hostile], origin="kiosk-small").json()
    assert [r["code"] for r in answer["rejected"]] == [code], answer
    assert answer["expected_seq"] == wire["seq"] + 1  # the rejection consumed its seq
    with Session(server_engine) as session:
        assert session.get(Ticket, wire["ticket_id"]) is None


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"])
def test_far_dates_are_rejected(api: ApiFactory, kiosk_service: QueueService, when: str) -> None:
    kiosk_service.record_device_status({"printer": "ready"})
    [status] = events_of(kiosk_service.engine, "kiosk-hall-1")
    answer = push(api("kiosk"), [{**status, "occurred_at": when}]).json()
    assert [r["code"] for r in answer["rejected"]] == ["invalid_event"]


def test_oversized_data_and_requests(api: ApiFactory, kiosk_service: QueueService) -> None:
    kiosk_service.record_device_status({"printer": "ready"})
    [status] = events_of(kiosk_service.engine, "kiosk-hall-1")
    big = {**status, "data": {"blob": "x" * 10_000}}
    answer = push(api("kiosk"), [big]).json()
    assert [r["code"] for r in answer["rejected"]] == ["invalid_event"]
    huge = {**status, "id": str(uuid.uuid4()), "seq": 2, "data": {"blob": "x" * 3_000_000}}
    response = push(api("kiosk"), [huge])
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_same_id_other_content_is_a_conflict_kept_on_the_kiosk(
    api: ApiFactory, live: LiveServer, tokens: dict[str, str], kiosk_engine: Engine
) -> None:
    service = QueueService(kiosk_engine, origin="kiosk-hall-1")
    wire = issued_event(service)
    assert push(api("kiosk"), [wire]).json()["accepted"] == [wire["id"]]
    changed = copy.deepcopy(wire)
    changed["data"]["ticket"]["priority"] = "emergency"
    answer = push(api("kiosk"), [changed]).json()
    assert [r["code"] for r in answer["rejected"]] == ["conflict"]
    assert answer["duplicates"] == []


def test_seq_gap_and_seq_going_back(api: ApiFactory, kiosk_service: QueueService) -> None:
    for _ in range(5):
        kiosk_service.issue("NOI")
    events = events_of(kiosk_service.engine, "kiosk-hall-1")
    answer = push(api("kiosk"), [events[0], events[4], events[2]]).json()
    assert answer["accepted"] == [events[0]["id"]] and answer["expected_seq"] == 2
    assert push(api("kiosk"), events[1:]).json()["expected_seq"] == 6
    back = {**events[4], "id": str(uuid.uuid4()), "seq": 3}
    answer = push(api("kiosk"), [back]).json()
    assert [r["code"] for r in answer["rejected"]] == ["seq_taken"]


def test_database_unreachable_is_503_json(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")
    (tmp_path / "gone").rmdir()  # make_engine made it; without it SQLite cannot open the file
    live = LiveServer(create_app(engine, Config()))
    config = live.app
    del config
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(live.app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [live.sock]}, daemon=True)
    thread.start()
    from tests.support.server import wait_until

    wait_until(lambda: server.started or not thread.is_alive(), 20, "uvicorn to start")
    try:
        health = requests.get(f"{live.url}/api/v1/health", timeout=30)
        assert health.status_code == 503
        assert health.json()["detail"] == "database unreachable"
        assert "x.db" not in health.text and "sqlite" not in health.json()["detail"]
        assert health.headers["Retry-After"]
        for path in ("/api/v1/departments", "/api/v1/events"):
            answer = requests.get(
                f"{live.url}{path}", headers={"Authorization": "Bearer x"}, timeout=30
            )
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "database_unavailable"
            assert answer.headers["Retry-After"]
        page = requests.get(f"{live.url}/t/{uuid.uuid4()}", timeout=30)
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        live.sock.close()


def test_pages_send_security_headers(api: ApiFactory, server_service: QueueService) -> None:
    ticket = server_service.issue("NOI").ticket
    page = api(None).get(f"/t/{ticket.id}")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_openapi_lists_the_statuses_the_server_answers(api: ApiFactory) -> None:
    spec = json.loads(api(None).get("/openapi.json").text)
    push_op = spec["paths"]["/api/v1/sync/events"]["post"]["responses"]
    assert {"200", "401", "403", "413", "422", "503"} <= set(push_op)
    assert "503" in spec["paths"]["/api/v1/health"]["get"]["responses"]


def test_docs_can_be_switched_off(server_engine: Engine) -> None:
    config = Config.model_validate({"server": {"api_docs": False}})
    live = LiveServer(create_app(server_engine, config)).start()
    try:
        for page in ("/docs", "/redoc", "/docs-assets/swagger-ui-bundle.js"):
            assert requests.get(f"{live.url}{page}", timeout=30).status_code == 404, page
    finally:
        live.stop()


def test_a_conflict_stays_on_the_kiosk_as_rejected_and_the_doctor_names_it(
    live: LiveServer, tokens: dict[str, str], kiosk_service: QueueService
) -> None:
    from sqlalchemy import update

    from kiosk.doctor import Level, check_sync

    kiosk_service.issue("NOI")
    client = sync_client(kiosk_service.engine, live.url, tokens["kiosk"])
    assert client.push().accepted == 1
    [wire] = events_of(kiosk_service.engine, "kiosk-hall-1")
    changed = copy.deepcopy(wire["data"])
    changed["ticket"]["priority"] = "emergency"
    with Session(kiosk_service.engine) as session, session.begin():  # the store says otherwise
        session.execute(
            update(Event).where(Event.id == wire["id"]).values(data=changed, synced_at=None)
        )
    result = client.push()
    assert result.accepted == 0 and result.duplicates == 0, result
    [(event_id, reason)] = result.rejected
    assert event_id == wire["id"] and reason.startswith("conflict: "), reason
    with Session(kiosk_service.engine) as session:
        stored = session.get(Event, wire["id"])
        assert stored is not None and stored.synced_at is None
        assert (stored.rejected_reason or "").startswith("conflict: ")
    assert client.push().rejected == []  # kept aside, not sent for ever
    config = Config.model_validate({"kiosk": {"id": "kiosk-hall-1"}})
    check = check_sync(config, kiosk_service.engine, dt.datetime.now(dt.UTC))
    assert check.level == Level.FAIL and "conflict" in check.message, check


def test_a_kiosks_own_events_never_come_back_to_it(
    api: ApiFactory, live: LiveServer, tokens: dict[str, str], kiosk_service: QueueService
) -> None:
    kiosk_service.issue("NOI")
    kiosk_service.issue("NHI")
    client = sync_client(kiosk_service.engine, live.url, tokens["kiosk"])
    assert client.push().accepted == 2
    own = {e["id"] for e in events_of(kiosk_service.engine, "kiosk-hall-1")}
    board_feed = api("board").get("/api/v1/events?after=0").json()["events"]
    assert own <= {e["id"] for e in board_feed}
    kiosk_feed = api("kiosk").get("/api/v1/events?after=0").json()["events"]
    assert not own & {e["id"] for e in kiosk_feed}
    assert all(e["origin"] != "kiosk-hall-1" for e in kiosk_feed)
    assert client.pull().applied == 0
    assert kiosk_service.issue("NOI").ticket.code == "B002"  # its counters are untouched


def test_a_ticket_of_an_earlier_day_arriving_late_is_kept_closed_not_put_in_todays_line(
    api: ApiFactory, live: LiveServer, tokens: dict[str, str], kiosk_engine: Engine
) -> None:
    two_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    offline = QueueService(kiosk_engine, origin="kiosk-hall-1", clock=lambda: two_days_ago)
    late = offline.issue("NOI").ticket
    result = sync_client(kiosk_engine, live.url, tokens["kiosk"]).push()
    assert result.accepted == 1 and not result.rejected
    public = api(None).get(f"/api/v1/tickets/{late.id}").json()
    assert public["status"] == "cancelled", public
    queue = api("counter").get("/api/v1/departments/NOI/queue").json()
    assert late.code not in [t["code"] for t in queue["waiting"]]
    called = api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    assert called.status_code == 200 and called.json()["ticket"] is None, called.text
