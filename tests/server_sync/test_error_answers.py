"""What the server answers when things go wrong, for every endpoint it has (a real uvicorn on
SQLite and PostgreSQL): the database gone is a 503 with Retry-After (JSON for the API, a short
page for people); every HTML page carries the security headers; and `/openapi.json` lists
every status an operation really answers."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from kiosk.queue.service import QueueService
from server_sync.server import app as server_app
from server_sync.server.guards import MAX_BODY_BYTES
from tests.support.admin import Browserless
from tests.support.server import Api, LiveServer

# The staff console's pages (server-rendered HTML behind a login).
CONSOLE_PAGES = ("/admin", "/admin/monitor", "/admin/fleet", "/admin/stats", "/admin/audit")


class Outage:
    """Makes the server's database unreachable, as a stopped PostgreSQL or a lost disk would:
    every new connection fails in the driver, and the pooled ones are dropped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.down = False
        event.listen(engine, "do_connect", self._connect)

    def _connect(self, dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        if self.down:
            raise dialect.loaded_dbapi.OperationalError(
                "connection to server at 10.9.8.7, port 5432 failed: Connection refused"
            )
        return None

    def start(self) -> None:
        self.down = True
        self.engine.dispose()

    def end(self) -> None:
        self.down = False
        event.remove(self.engine, "do_connect", self._connect)


@pytest.fixture
def outage(server_engine: Engine) -> Iterator[Outage]:
    cut = Outage(server_engine)
    yield cut
    cut.end()


def operations(live: LiveServer) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation `/openapi.json` documents: (method, path, its documented answers)."""
    spec = requests.get(f"{live.url}/openapi.json", timeout=30).json()
    return [
        (method.upper(), path, op["responses"])
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


def concrete(path: str) -> str:
    return path.replace("{ticket_id}", str(uuid.uuid4())).replace("{code}", "NOI")


def logged_in(live: LiveServer, staff: Callable[[str], None]) -> Browserless:
    staff("an")
    client = Browserless(live.url)
    assert client.login("an").status_code == 303
    return client


@pytest.fixture
def admin_account(server_engine: Engine) -> Callable[[str], None]:
    import datetime as dt

    from server_sync.server.admin.accounts import add_user
    from tests.support.admin import PASSWORD

    def make(name: str) -> None:
        add_user(server_engine, name, "admin", PASSWORD, dt.datetime.now(dt.UTC))

    return make


def test_every_endpoint_answers_503_while_the_database_is_unreachable(
    live: LiveServer,
    tokens: dict[str, str],
    outage: Outage,
    admin_account: Callable[[str], None],
) -> None:
    console = logged_in(live, admin_account)
    ops = operations(live)
    assert len(ops) >= 16
    outage.start()
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    for method, path, _ in ops:
        answer = requests.request(
            method, f"{live.url}{concrete(path)}", headers=headers, json={}, timeout=30
        )
        assert answer.status_code == 503, (method, path, answer.status_code, answer.text)
        assert int(answer.headers["Retry-After"]) > 0, (method, path)
        assert "10.9.8.7" not in answer.text and "5432" not in answer.text, answer.text
        if path.startswith("/api/"):
            assert answer.json()["code"] == "database_unavailable", (method, path)
        else:
            assert answer.headers["content-type"].startswith("text/html"), (method, path)
    health = requests.get(f"{live.url}/api/v1/health", timeout=30)
    assert health.json()["detail"] == "database unreachable"
    # A Prometheus scraper reads text, not a page.
    metrics = requests.get(f"{live.url}/metrics", timeout=30)
    assert metrics.status_code == 503 and metrics.headers["Retry-After"]
    assert metrics.headers["content-type"].startswith("text/plain"), metrics.text[:200]
    # The console, logged in: a short page, not a traceback.
    for path in CONSOLE_PAGES:
        page = console.get(path)
        assert page.status_code == 503, (path, page.status_code, page.text[:300])
        assert page.headers["content-type"].startswith("text/html"), path
        assert page.headers["Retry-After"], path
        assert "Traceback" not in page.text and "10.9.8.7" not in page.text, path


def test_every_html_page_sends_the_security_headers(
    live: LiveServer,
    tokens: dict[str, str],
    server_service: QueueService,
    admin_account: Callable[[str], None],
) -> None:
    ticket = server_service.issue("NOI").ticket
    console = logged_in(live, admin_account)
    # "/admin" itself only redirects to the monitor.
    pages = [f"/t/{ticket.id}", f"/t/{uuid.uuid4()}", "/admin/login", *CONSOLE_PAGES[1:]]
    for path in pages:
        page = console.get(path)
        assert page.headers["content-type"].startswith("text/html"), (path, page.status_code)
        csp = page.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, (path, csp)
        assert "default-src 'none'" in csp or "default-src 'self'" in csp, (path, csp)
        assert page.headers["X-Content-Type-Options"] == "nosniff", path
        # Nothing leaves for another site (the console keeps its own origin's referrers).
        assert page.headers["Referrer-Policy"] in ("no-referrer", "same-origin"), path


def test_openapi_lists_what_each_operation_answers(
    live: LiveServer, tokens: dict[str, str]
) -> None:
    ops = operations(live)
    counter = Api(live.url, tokens["counter"])
    for method, path, documented in ops:
        assert {"503"} <= set(documented), (method, path, sorted(documented))
        if method == "POST":
            # Any POST body beyond the bound is refused before the application reads it.
            answer = requests.post(
                f"{live.url}{concrete(path)}",
                data=b"x" * (MAX_BODY_BYTES + 1),
                headers={"Content-Type": "application/json", **counter.http.headers},
                timeout=30,
            )
            assert answer.status_code == 413, (path, answer.status_code)
            assert "413" in documented, (method, path, sorted(documented))


def test_the_end_of_day_job_says_one_line_while_the_database_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not a traceback every few minutes for as long as the database is down."""

    class Unreachable:
        def close_stale_tickets(self) -> int:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    async def first_round() -> None:
        job = asyncio.create_task(
            server_app._close_stale_tickets_periodically(SimpleNamespace(service=Unreachable()))  # type: ignore[arg-type]
        )
        for _ in range(600):
            if caplog.records:
                break
            await asyncio.sleep(0.05)
        job.cancel()

    # Its own thread and loop: an event loop left set in this thread by other tests would
    # make asyncio.run() refuse.
    with caplog.at_level(logging.ERROR, logger=server_app.__name__):
        runner = threading.Thread(target=lambda: asyncio.run(first_round()))
        runner.start()
        runner.join(timeout=120)
    [record] = caplog.records
    assert "database unreachable" in record.getMessage()
    assert record.exc_info is None
