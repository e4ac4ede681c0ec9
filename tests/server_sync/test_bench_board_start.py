"""The benchmark's board starts where `kiosk board` starts, at the feed's head: its first
long-poll after a call answers that call, not the oldest page of the day's history."""

from __future__ import annotations

from collections.abc import Callable

import requests
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from bench.bench_wrk import board_start
from kiosk.queue.events import FEED_SEQUENCE, bump_sequence
from kiosk.queue.models import Event
from kiosk.queue.service import QueueService
from tests.support.server import Api, LiveServer


def test_a_board_started_by_the_bench_gets_a_new_call_in_its_first_answer(
    live: LiveServer,
    tokens: dict[str, str],
    api: Callable[[str | None], Api],
    server_service: QueueService,
    server_engine: Engine,
) -> None:
    history = [server_service.issue("NOI").ticket for _ in range(3)]
    # More than a page of history (the feed answers 500 events at most by default).
    with Session(server_engine) as session, session.begin():
        last = bump_sequence(session, FEED_SEQUENCE, step=1200)
        session.execute(
            insert(Event),
            [
                {
                    "id": f"history-{n}",
                    "origin": "history",
                    "seq": n,
                    "type": "device.status",
                    "occurred_at": server_service.now(),
                    "data": {},
                    "position": last - 1200 + n,
                    "stored_at": server_service.now(),
                }
                for n in range(1, 1201)
            ],
        )
    board = requests.Session()
    board.headers["Authorization"] = f"Bearer {tokens['board']}"
    cursor = board_start(board, live.url, ["NOI", "NGOAI"])
    called = api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    assert called.json()["ticket"]["id"] == history[0].id
    answer = board.get(
        f"{live.url}/api/v1/events", params={"after": cursor, "wait": 30}, timeout=60
    ).json()
    assert [(e["type"], e["ticket_id"]) for e in answer["events"]] == [
        ("ticket.called", history[0].id)
    ]
