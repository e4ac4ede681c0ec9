"""The HTTP API on a real uvicorn, on SQLite and PostgreSQL: roles, bodies, concurrency, pages."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, select

from kiosk.queue.models import Event, Ticket
from kiosk.queue.service import QueueService
from server_sync.server.devices import revoke_device
from tests.support.server import Api, LiveServer, wait_until

ApiFactory = Callable[[str | None], Api]
ANY = {"kiosk", "counter", "board", "admin"}
COUNTER = {"counter", "admin"}
KIOSK = {"kiosk"}  # a push is a kiosk's own: not even an admin pushes for it
PUBLIC = None  # no token needed


def endpoints(
    ticket: str, dept: str
) -> list[tuple[str, str, dict[str, Any] | None, set[str] | None]]:
    push = {"origin": "kiosk-hall-1", "events": []}
    return [
        ("GET", "/api/v1/health", None, PUBLIC),
        ("GET", "/api/v1/departments", None, ANY),
        ("GET", f"/api/v1/departments/{dept}/queue", None, ANY),
        ("GET", "/api/v1/events?after=0", None, ANY),
        ("POST", "/api/v1/sync/events", push, KIOSK),
        ("GET", "/api/v1/sync/high-water", None, KIOSK),
        ("POST", f"/api/v1/departments/{dept}/call-next", {"room": "101"}, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/call", {"room": "101"}, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/recall", None, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/serve", None, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/no-show", None, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/requeue", None, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/cancel", None, COUNTER),
        ("POST", f"/api/v1/tickets/{ticket}/transfer", {"department": "NGOAI"}, COUNTER),
        ("GET", f"/api/v1/tickets/{ticket}", None, PUBLIC),
        ("GET", f"/t/{ticket}", None, PUBLIC),
        ("GET", f"/api/v1/tickets/{ticket}/live?wait=0", None, PUBLIC),
        ("GET", "/api/v1/devices", None, {"admin"}),
    ]


def test_every_endpoint_for_every_role(
    api: ApiFactory, server_service: QueueService, live: LiveServer, server_engine: Engine
) -> None:
    ticket = server_service.issue("NOI").ticket.id
    wrong = Api(live.url, "not-a-token")
    for method, path, body, allowed in endpoints(ticket, "NOI"):
        callers: dict[str, Api] = {"none": api(None), "wrong": wrong}
        callers.update({role: api(role) for role in ANY})
        for who, client in callers.items():
            response = client.post(path, json=body) if method == "POST" else client.get(path)
            where = f"{method} {path} as {who}: {response.status_code} {response.text[:200]}"
            assert response.status_code < 500, where
            if allowed is PUBLIC:
                assert response.status_code == 200, where
            elif who in ("none", "wrong"):
                assert response.status_code == 401, where
                assert response.headers["WWW-Authenticate"] == "Bearer"
            elif who not in allowed:
                assert response.status_code == 403, where
                assert response.json()["code"] == "forbidden"
            else:
                assert response.status_code in (200, 409), where

    board = api("board")
    assert board.get("/api/v1/departments").status_code == 200  # its token now cached
    revoke_device(server_engine, "board-1")
    # Every server process forgets cached tokens when told (PostgreSQL's NOTIFY, delivered
    # within moments); on SQLite nothing is cached.
    wait_until(lambda: board.get("/api/v1/departments").status_code == 401, 60, "the revocation")


def test_bad_bodies_name_the_field(api: ApiFactory, server_service: QueueService) -> None:
    counter, kiosk = api("counter"), api("kiosk")
    ticket = server_service.issue("NOI").ticket.id

    def loc(response: requests.Response) -> list[list[Any]]:
        assert response.status_code == 422, response.text
        return [error["loc"] for error in response.json()["detail"]]

    assert ["body", "room"] in loc(counter.post("/api/v1/departments/NOI/call-next", json={}))
    long_room = {"room": "x" * 33}
    assert ["body", "room"] in loc(
        counter.post("/api/v1/departments/NOI/call-next", json=long_room)
    )
    assert ["body", "department"] in loc(
        counter.post(f"/api/v1/tickets/{ticket}/transfer", json={"department": "NOPE"})
    )
    bad_event = {"origin": "k", "events": [{"id": str(uuid.uuid4()), "origin": "k", "seq": "x"}]}
    fields = loc(kiosk.post("/api/v1/sync/events", json=bad_event))
    assert ["body", "events", 0, "seq"] in fields
    assert ["body", "events", 0, "type"] in fields
    assert ["query", "wait"] in loc(kiosk.get("/api/v1/events?wait=999"))
    assert ["body"] in loc(counter.post("/api/v1/departments/NOI/call-next", data="{not json"))


def test_a_call_names_a_room_of_the_department(
    api: ApiFactory, server_service: QueueService
) -> None:
    """A room that does not exist, or belongs to another department, is a 422 on `room`
    with the valid rooms; nothing is called (the board once showed "X001 -> 130584")."""
    counter = api("counter")
    ticket = server_service.issue("NOI").ticket

    def refused(response: requests.Response) -> str:
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "room"] and error["type"] == "unknown_room"
        return str(error["msg"])

    for room in ("130584", "104", "Q2"):
        message = refused(counter.post("/api/v1/departments/NOI/call-next", json={"room": room}))
        assert repr(room) in message and "101, 102, 103" in message
        refused(counter.post(f"/api/v1/tickets/{ticket.id}/call", json={"room": room}))
    keyed = {"room": "999", "request_id": "c0ffee-room"}
    refused(counter.post("/api/v1/departments/NOI/call-next", json=keyed))
    assert server_service.get(ticket.id).status == "waiting"
    assert counter.post("/api/v1/departments/NOPE/call-next", json={"room": "101"}).status_code == (
        404
    )
    called = counter.post(f"/api/v1/tickets/{ticket.id}/call", json={"room": "103"})
    assert called.status_code == 200 and called.json()["room"] == "103"


def test_impossible_transition_is_409_with_reason(
    api: ApiFactory, server_service: QueueService
) -> None:
    ticket = server_service.issue("NOI").ticket
    response = api("counter").post(f"/api/v1/tickets/{ticket.id}/serve")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert ticket.code in response.json()["detail"]
    assert api("counter").post(f"/api/v1/tickets/{uuid.uuid4()}/serve").status_code == 404
    assert api("board").get("/api/v1/departments/NOPE/queue").status_code == 404


def test_counter_workflow(api: ApiFactory, server_service: QueueService) -> None:
    counter = api("counter")
    first = server_service.issue("NOI").ticket
    server_service.issue("NOI")
    called = counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"}).json()
    assert called["ticket"]["id"] == first.id and called["ticket"]["status"] == "called"
    assert counter.post(f"/api/v1/tickets/{first.id}/recall").json()["call_count"] == 2
    assert counter.post(f"/api/v1/tickets/{first.id}/no-show").json()["status"] == "no_show"
    assert counter.post(f"/api/v1/tickets/{first.id}/requeue").json()["status"] == "waiting"
    moved = counter.post(f"/api/v1/tickets/{first.id}/transfer", json={"department": "NGOAI"})
    assert moved.status_code == 200 and moved.json()["department"] == "NGOAI"
    assert moved.json()["transferred_from"] == first.id and moved.json()["code"] == first.code
    queue = api("board").get("/api/v1/departments/NGOAI/queue").json()
    assert [t["id"] for t in queue["waiting"]] == [moved.json()["id"]]
    departments = api("kiosk").get("/api/v1/departments").json()["departments"]
    noi = next(d for d in departments if d["code"] == "NOI")
    assert noi["waiting"] == 1 and noi["estimated_wait_minutes"] > 0
    cancelled = counter.post(
        f"/api/v1/tickets/{moved.json()['id']}/cancel", json={"reason": "left"}
    )
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "left"
    nobody = counter.post("/api/v1/departments/NGOAI/call-next", json={"room": "104"})
    assert nobody.status_code == 200 and nobody.json() == {"ticket": None}


def test_concurrent_call_next_hands_out_each_ticket_once(
    api: ApiFactory, server_service: QueueService, server_engine: Engine
) -> None:
    issued = [server_service.issue("NOI").ticket.id for _ in range(30)]
    callers = 40
    barrier = threading.Barrier(callers)
    sessions = [api("counter") for _ in range(callers)]

    def call(index: int) -> str | None:
        barrier.wait(timeout=30)
        response = sessions[index].post(
            "/api/v1/departments/NOI/call-next", json={"room": ("101", "102", "103")[index % 3]}
        )
        assert response.status_code == 200, response.text
        ticket = response.json()["ticket"]
        return None if ticket is None else str(ticket["id"])

    with ThreadPoolExecutor(callers) as pool:
        results = list(pool.map(call, range(callers)))
    got = [r for r in results if r is not None]
    assert len(got) == len(set(got)) == 30
    assert set(got) == set(issued)
    with server_engine.connect() as connection:
        statuses = connection.execute(select(Ticket.status, Ticket.call_count)).all()
        calls = connection.scalar(
            select(func.count()).select_from(Event).where(Event.type == "ticket.called")
        )
    assert statuses == [("called", 1)] * 30
    assert calls == 30


def test_long_poll_is_woken_by_a_call(
    api: ApiFactory, live: LiveServer, server_service: QueueService
) -> None:
    server_service.issue("NOI")
    board = api("board")
    cursor = board.get("/api/v1/events").json()["cursor"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        # The wait is longer than the join below: an answer means the call woke the poll.
        response = board.http.get(f"{board.base}/api/v1/events?after={cursor}&wait=60", timeout=90)
        answer["body"] = response.json()

    thread = threading.Thread(target=poll)
    thread.start()
    notifier = live.app.state.kiosk.notifier
    wait_until(lambda: notifier.waiters > 0, 60, "the long-poll to wait")
    api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    thread.join(timeout=40)
    assert not thread.is_alive(), "the long-poll was not woken by the call"
    assert [e["type"] for e in answer["body"]["events"]] == ["ticket.called"]
    assert answer["body"]["cursor"] > cursor


@pytest.mark.postgres
def test_long_poll_wakes_on_a_call_made_through_another_server_process(
    make_server: Callable[..., LiveServer],
    tokens: dict[str, str],
    server_engine: Engine,
    server_service: QueueService,
) -> None:
    if server_engine.dialect.name != "postgresql":
        pytest.skip("several server processes share a database only on PostgreSQL")
    from kiosk.queue.db import make_engine

    other_engine = make_engine(server_engine.url.render_as_string(hide_password=False))
    first, second = make_server(), make_server(other_engine)
    server_service.issue("NOI")
    board = Api(first.url, tokens["board"])
    cursor = board.get("/api/v1/events").json()["cursor"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        # The wait is longer than the join below: an answer means the call woke the poll.
        response = board.http.get(f"{board.base}/api/v1/events?after={cursor}&wait=60", timeout=90)
        answer["body"] = response.json()

    thread = threading.Thread(target=poll)
    thread.start()
    notifier = first.app.state.kiosk.notifier
    wait_until(lambda: notifier.waiters > 0 and notifier.listening_to_database, 10)
    Api(second.url, tokens["counter"]).post(
        "/api/v1/departments/NOI/call-next", json={"room": "101"}
    )
    thread.join(timeout=40)
    other_engine.dispose()
    assert not thread.is_alive(), "the long-poll was not woken by the call"
    assert [e["type"] for e in answer["body"]["events"]] == ["ticket.called"]


def test_feed_department_filter_and_cursor(api: ApiFactory, server_service: QueueService) -> None:
    server_service.issue("NOI")
    server_service.issue("NGOAI")
    board = api("board")
    everything = board.get("/api/v1/events").json()
    only = board.get("/api/v1/events?department=NGOAI").json()
    assert len(everything["events"]) == 2 and len(only["events"]) == 1
    assert only["events"][0]["department"] == "NGOAI"
    assert only["cursor"] == everything["cursor"]
    again = board.get(f"/api/v1/events?after={everything['cursor']}&wait=0").json()
    assert again == {"events": [], "cursor": everything["cursor"]}
    paged = board.get("/api/v1/events?limit=1").json()
    assert len(paged["events"]) == 1 and 0 < paged["cursor"] < everything["cursor"]


CALLS = "type=ticket.called&type=ticket.recalled"


def test_feed_type_filter_gives_only_those_events_and_moves_the_cursor_past_others(
    api: ApiFactory, server_service: QueueService
) -> None:
    server_service.issue("NOI")
    called = server_service.call_next("NOI", "101")
    assert called is not None
    server_service.issue("NOI")
    server_service.issue("NGOAI")
    board = api("board")
    everything = board.get("/api/v1/events").json()
    calls = board.get(f"/api/v1/events?{CALLS}").json()
    assert [e["type"] for e in everything["events"]] == [
        "ticket.issued",
        "ticket.called",
        "ticket.issued",
        "ticket.issued",
    ]
    assert [(e["type"], e["ticket_id"]) for e in calls["events"]] == [("ticket.called", called.id)]
    # The issues after the call are behind the cursor: a board never reads them again.
    assert calls["cursor"] == everything["cursor"]
    one = board.get("/api/v1/events?type=ticket.issued&department=NGOAI").json()
    assert [(e["type"], e["department"]) for e in one["events"]] == [("ticket.issued", "NGOAI")]
    wrong = board.get("/api/v1/events?type=ticket.called&type=ticket.eaten")
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["query", "type", 1]


def test_a_type_filtered_long_poll_answers_when_only_other_events_are_committed(
    api: ApiFactory, live: LiveServer, server_service: QueueService
) -> None:
    board = api("board")
    cursor = board.get(f"/api/v1/events?{CALLS}").json()["cursor"]
    answer: dict[str, Any] = {}

    def poll() -> None:
        # The wait is longer than the join below: an answer means the issue woke the poll.
        response = board.http.get(
            f"{board.base}/api/v1/events?after={cursor}&wait=60&{CALLS}", timeout=90
        )
        answer["body"] = response.json()

    thread = threading.Thread(target=poll)
    thread.start()
    notifier = live.app.state.kiosk.notifier
    wait_until(lambda: notifier.waiters > 0, 60, "the long-poll to wait")
    server_service.issue("NOI")
    live.app.state.kiosk.notifier.notify()
    thread.join(timeout=40)
    assert not thread.is_alive(), "the long-poll did not answer the issue's moved cursor"
    assert answer["body"]["events"] == []
    assert answer["body"]["cursor"] > cursor


def test_patient_page_and_json_for_a_called_ticket(
    api: ApiFactory, live: LiveServer, server_service: QueueService
) -> None:
    first = server_service.issue("NOI").ticket
    second = server_service.issue("NOI").ticket
    third = server_service.issue("NOI").ticket
    api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})

    page = requests.get(f"{live.url}/t/{first.id}", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert first.code in html and "Mời vào Phòng khám 101" in html
    assert 'name="viewport"' in html and 'http-equiv="refresh"' in html
    assert len(page.content) < 30_000
    english = requests.get(f"{live.url}/t/{first.id}?lang=en", timeout=30).text
    assert "Please go to" in english and "Mời vào" not in english

    waiting = requests.get(f"{live.url}/t/{third.id}", timeout=30).text
    assert "Số người phía trước" in waiting and "People ahead" not in waiting
    assert "People ahead" in requests.get(f"{live.url}/t/{third.id}?lang=en", timeout=30).text

    info = requests.get(f"{live.url}/api/v1/tickets/{third.id}", timeout=30).json()
    assert info["status"] == "waiting" and info["ahead"] == 1 and info["code"] == third.code
    assert info["estimated_wait_minutes"] > 0 and info["status_url"].endswith(f"/t/{third.id}")
    called = requests.get(f"{live.url}/api/v1/tickets/{first.id}", timeout=30).json()
    assert called["status"] == "called" and called["room"] == "101" and called["ahead"] == 0
    assert second.id != first.id
    assert requests.get(f"{live.url}/t/{uuid.uuid4()}", timeout=30).status_code == 404
    assert requests.get(f"{live.url}/t/%00", timeout=30).status_code == 404


def test_health(api: ApiFactory, server_engine: Engine) -> None:
    body = api(None).get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] == server_engine.dialect.name
    assert body["version"]


def test_server_closes_yesterdays_waiting_tickets_at_start(
    make_server: Callable[..., LiveServer], server_engine: Engine, tokens: dict[str, str]
) -> None:
    import datetime as dt

    yesterday = QueueService(
        server_engine,
        origin="kiosk-hall-1",
        clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
    )
    stale = yesterday.issue("NOI").ticket
    live = make_server()
    board = Api(live.url, tokens["board"])

    def closed() -> bool:
        answer = board.get(f"/api/v1/tickets/{stale.id}").json()
        return bool(answer["status"] == "cancelled")

    wait_until(closed, timeout=60, what="the end-of-day job")
    reasons = [
        e["data"].get("reason")
        for e in board.get("/api/v1/events?after=0").json()["events"]
        if e["ticket_id"] == stale.id and e["type"] == "ticket.cancelled"
    ]
    assert reasons == ["end_of_day"]


def test_a_recall_beyond_max_recalls_marks_the_ticket_absent_for_every_counter(
    api: ApiFactory, server_service: QueueService
) -> None:
    """counter.max_recalls (3 by default) is the server's rule, whichever counter recalls."""
    counter, admin = api("counter"), api("admin")
    ticket = server_service.issue("NOI").ticket.id
    counter.post(f"/api/v1/tickets/{ticket}/call", json={"room": "101"}).raise_for_status()
    answers = [
        who.post(f"/api/v1/tickets/{ticket}/recall").json()
        for who in (counter, admin, counter, admin)
    ]
    assert [(a["status"], a["call_count"]) for a in answers] == [
        ("called", 2),
        ("called", 3),
        ("called", 4),
        ("no_show", 4),
    ]
    assert server_service.get(ticket).status == "no_show"
    again = counter.post(f"/api/v1/tickets/{ticket}/recall")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
