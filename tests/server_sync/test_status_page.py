"""The patient's status page: near / called, the live long-poll, its CSP, its size, its cost."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from kiosk.config import Config, ConfigError, parse_config
from kiosk.queue.service import QueueService
from server_sync.server.deps import ServerState
from tests.support.server import Api, LiveServer, wait_until

ApiFactory = Callable[[str | None], Api]


def state_of(live: LiveServer) -> ServerState:
    state: ServerState = live.app.state.kiosk
    return state


def live_answer(live: LiveServer, ticket: str, **params: Any) -> dict[str, Any]:
    response = requests.get(f"{live.url}/api/v1/tickets/{ticket}/live", params=params, timeout=70)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_the_page_is_small_self_contained_and_allows_only_its_own_script(
    live: LiveServer, server_service: QueueService
) -> None:
    ticket = server_service.issue("NOI").ticket
    page = requests.get(f"{live.url}/t/{ticket.id}", timeout=30)
    assert page.status_code == 200 and len(page.content) <= 30 * 1024
    html = page.text
    assert '<html lang="vi">' in html and f'href="/t/{ticket.id}?lang=en"' in html
    # Without script: the meta refresh; with it, the refresh never happens (noscript).
    assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>', html)
    csp = page.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1 and "<script src" not in html
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-eval" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1]
    assert "connect-src 'self'" in csp and "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Nothing from elsewhere: every src and href is this server's.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "onclick" not in html and "javascript:" not in html


def test_near_when_few_are_ahead_then_called_with_the_room(
    api: ApiFactory, live: LiveServer, server_service: QueueService
) -> None:
    tickets = [server_service.issue("NOI").ticket for _ in range(5)]
    mine = tickets[-1]
    first = live_answer(live, mine.id, wait=0)
    assert first["state"] == "waiting" and first["live"] and "Sắp đến lượt" not in first["html"]
    assert '<dd class="big" id="ahead">4</dd>' in first["html"]
    counter = api("counter")
    counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    near = live_answer(live, mine.id, wait=0)
    assert near["state"] == "near" and "Sắp đến lượt" in near["html"]
    assert near["v"] != first["v"]
    english = live_answer(live, mine.id, wait=0, lang="en")
    assert "Your turn is near" in english["html"] and "Sắp" not in english["html"]
    for _ in range(3):
        counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    assert "Bạn là người tiếp theo" in live_answer(live, mine.id, wait=0)["html"]
    counter.post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    called = live_answer(live, mine.id, wait=0)
    assert called["state"] == "called" and "Mời vào" in called["html"]
    assert "Mời vào Phòng khám 101" in called["html"]
    assert called["title"].startswith(mine.code)
    counter.post(f"/api/v1/tickets/{mine.id}/serve")
    done = live_answer(live, mine.id, wait=30)  # a finished ticket answers at once
    assert done["state"] == "served" and not done["live"]


@pytest.mark.parametrize("server_config", [parse_config({"server": {"status_near_ahead": 1}})])
def test_the_near_threshold_is_the_configured_one(
    api: ApiFactory, live: LiveServer, server_service: QueueService
) -> None:
    tickets = [server_service.issue("NOI").ticket for _ in range(3)]
    assert live_answer(live, tickets[2].id, wait=0)["state"] == "waiting"  # 2 ahead
    api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    assert live_answer(live, tickets[2].id, wait=0)["state"] == "near"  # 1 ahead


def test_the_near_threshold_is_validated() -> None:
    assert Config().server.status_near_ahead == 3
    for bad in (-1, 51, "three"):
        with pytest.raises(ConfigError, match=r"server\.status_near_ahead"):
            parse_config({"server": {"status_near_ahead": bad}})


def test_a_long_poll_answers_when_a_counter_calls(
    api: ApiFactory, live: LiveServer, server_service: QueueService
) -> None:
    tickets = [server_service.issue("NOI").ticket for _ in range(5)]
    now = live_answer(live, tickets[4].id, wait=0)
    # The same version: the answer waits (here, until the timeout, unchanged).
    same = live_answer(live, tickets[4].id, v=now["v"], wait=0.5)
    assert same["v"] == now["v"]
    answers: list[dict[str, Any]] = []
    poll = threading.Thread(
        target=lambda: answers.append(live_answer(live, tickets[4].id, v=now["v"], wait=50))
    )
    poll.start()
    notifier = state_of(live).notifier
    wait_until(lambda: notifier.waiters >= 1, 30, "the long-poll to wait")
    api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})
    poll.join(timeout=60)
    assert answers and answers[0]["state"] == "near" and answers[0]["v"] != now["v"]


def test_unknown_and_malformed_tickets(live: LiveServer) -> None:
    unknown = requests.get(
        f"{live.url}/api/v1/tickets/0b8c3a3e-0000-4000-8000-000000000000/live?wait=0", timeout=30
    )
    assert unknown.status_code == 404 and unknown.json()["code"]
    bad = requests.get(f"{live.url}/api/v1/tickets/a%20b/live?wait=0", timeout=30)
    assert bad.status_code == 422
    too_long = requests.get(f"{live.url}/api/v1/tickets/x/live?wait=600", timeout=30)
    assert too_long.status_code == 422
    assert requests.get(f"{live.url}/t/nope?lang=en", timeout=30).status_code == 404


def test_hundreds_of_waiting_phones_hold_no_database_connection(
    api: ApiFactory, live: LiveServer, server_service: QueueService, server_engine: Engine
) -> None:
    """Phones waiting on the long-poll cost sockets, not the database's pool: while they
    wait no connection is checked out, and a counter's call goes through and wakes them."""
    phones = 120
    tickets = [server_service.issue("NOI").ticket for _ in range(5)]
    mine = tickets[-1]
    version = live_answer(live, mine.id, wait=0)["v"]
    notifier = state_of(live).notifier
    with ThreadPoolExecutor(max_workers=phones) as pool:
        futures = [
            pool.submit(live_answer, live, mine.id, v=version, wait=50) for _ in range(phones)
        ]
        wait_until(lambda: notifier.waiters >= phones, 60, f"{phones} long-polls to wait")
        assert server_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        answer = api("counter").post("/api/v1/departments/NOI/call-next", json={"room": "101"})
        assert answer.status_code == 200
        results = [future.result(timeout=120) for future in futures]
    assert all(result["v"] != version for result in results)
    assert {result["state"] for result in results} == {"near"}
