"""While a push is judged, the worker's event loop gets the interpreter back quickly."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.queue import db
from kiosk.queue.events import event_to_dict
from kiosk.queue.models import Event
from kiosk.queue.service import QueueService
from server_sync.server import feed
from tests.support.server import Api


def test_the_switch_interval_is_short_only_while_a_push_is_judged(
    api: Callable[[str | None], Api],
    kiosk_service: QueueService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judging a push is Python in a request thread; the event loop (call-next) needs the
    interpreter between its socket waits, and at the default 5 ms switch interval waited up
    to that long each time. While a push is judged, the interval is 0.5 ms at most; before
    and after, what it was."""
    for _ in range(3):
        kiosk_service.issue("NOI")
    with Session(kiosk_service.engine) as session:
        events = [event_to_dict(e) for e in session.scalars(select(Event).order_by(Event.seq))]
    seen: list[float] = []
    judge = feed.ingest_batch

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(sys.getswitchinterval())
        return judge(*args, **kwargs)

    monkeypatch.setattr(feed, "ingest_batch", watched)
    before = sys.getswitchinterval()
    answer = api("kiosk").post(
        "/api/v1/sync/events", json={"origin": "kiosk-hall-1", "events": events}
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["accepted"]) == 3
    assert seen and max(seen) <= feed.INGEST_SWITCH_INTERVAL_S < before
    assert sys.getswitchinterval() == before


def test_a_patient_and_a_push_in_one_process_share_one_count() -> None:
    """A kiosk process with the server in it (`kiosk demo`): whichever ends first, the short
    interval stays while the other is in flight and the old one comes back after the last."""
    before = sys.getswitchinterval()
    started, done = threading.Event(), threading.Event()

    def pushing() -> None:
        with db.HANDOVER.quick(feed.INGEST_SWITCH_INTERVAL_S):
            started.set()
            done.wait(30)

    other = threading.Thread(target=pushing)
    other.start()
    assert started.wait(30)
    with db.PATIENTS.patient():
        assert sys.getswitchinterval() <= db.PATIENT_SWITCH_INTERVAL_S
    assert sys.getswitchinterval() <= feed.INGEST_SWITCH_INTERVAL_S  # the push still runs
    done.set()
    other.join(timeout=30)
    assert sys.getswitchinterval() == before


def test_a_pushs_body_is_parsed_off_the_event_loop(
    api: Callable[[str | None], Api],
    kiosk_service: QueueService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 1,000-event push is ~0.5 MB of JSON, 10-13 ms of parsing: in the thread pool, not on
    the event loop every other request of the worker waits on; a body that is not JSON is
    still answered 422, naming it."""
    import asyncio
    import json

    kiosk_service.issue("NOI")
    with Session(kiosk_service.engine) as session:
        events = [event_to_dict(e) for e in session.scalars(select(Event))]
    on_the_loop: list[bool] = []
    real_loads = json.loads

    def loads(text: str | bytes) -> Any:
        try:
            asyncio.get_running_loop()
            on_the_loop.append(True)
        except RuntimeError:
            on_the_loop.append(False)
        return real_loads(text)

    monkeypatch.setattr(feed.json, "loads", loads)
    kiosk = api("kiosk")
    answer = kiosk.post("/api/v1/sync/events", json={"origin": "kiosk-hall-1", "events": events})
    monkeypatch.undo()
    assert answer.status_code == 200, answer.text
    assert on_the_loop and not any(on_the_loop)  # the body (and any other JSON) in threads
    broken = kiosk.post(
        "/api/v1/sync/events", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["type"] == "json_invalid"
