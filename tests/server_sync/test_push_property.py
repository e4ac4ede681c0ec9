"""Random pushes of valid and hostile events from two kiosks (hypothesis), through a real server:
whatever arrives, no number is held twice, no event is applied twice, the feed answers, and
every stored ticket is one a kiosk may issue."""

from __future__ import annotations

import copy
import random
import uuid
from collections import Counter as Tally
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.config import DEFAULT_PRIORITY_REASONS
from kiosk.queue.db import open_database
from kiosk.queue.events import event_to_dict
from kiosk.queue.models import Department, Event, RejectedEvent, Ticket
from kiosk.queue.service import QueueService
from kiosk.queue.validation import text_problem
from server_sync.server.devices import add_device
from tests.support.database import seed
from tests.support.server import Api, LiveServer

BLOCKS = {"kiosk-east": 0, "kiosk-west": 500}


def other_block(ticket: dict[str, Any]) -> None:
    """A number of the other kiosk's block, its code spelled right: only the block check
    stands in the way."""
    number = ticket["number"] + 500
    ticket.update(number=number, code=f"{ticket['code'][:-3]}{number:03d}")


MUTATIONS: list[tuple[str, Any]] = [
    ("queue jump", lambda t: t.update(queued_at="1970-01-01T00:00:00.000Z")),
    ("vip", lambda t: t.update(priority="vip_friend")),
    ("called", lambda t: t.update(status="called", call_count=99, room="P1")),
    ("other block", other_block),
    ("code not padded", lambda t: t.update(code=f"{t['code'][:-3]}{t['number']}")),
    ("far date", lambda t: t.update(service_date="2099-01-01")),
    ("bidi code", lambda t: t.update(code=t["code"][:1] + "\u202e" + t["code"][1:])),
    ("surrogate", lambda t: t.update(code="\ud800")),
    ("priority", lambda t: t.update(priority="emergency")),
]


def wires(engine: Engine, origin: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.scalars(select(Event).where(Event.origin == origin).order_by(Event.seq))
        return [event_to_dict(e) for e in rows]


@pytest.mark.slow
def test_random_pushes_never_break_the_rules(
    live: LiveServer, server_engine: Engine, tmp_path: Path
) -> None:
    kiosks: dict[str, tuple[QueueService, Api]] = {}
    for origin, offset in BLOCKS.items():
        engine = open_database(f"sqlite:///{tmp_path / origin}.db")
        seed(engine)
        token = add_device(server_engine, origin, "kiosk", numbering_offset=offset, block_size=500)
        kiosks[origin] = (
            QueueService(engine, origin=origin, numbering_offset=offset),
            Api(live.url, token),
        )

    step = st.tuples(
        st.sampled_from(sorted(BLOCKS)),
        st.integers(1, 3),  # tickets to issue
        st.lists(st.tuples(st.integers(0, 10), st.integers(0, len(MUTATIONS) - 1)), max_size=3),
        st.booleans(),  # also resend everything (duplicates and conflicts)
        st.integers(0, 2**32),  # seed of the shuffles and choices
    )

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(steps=st.lists(step, min_size=1, max_size=4))
    def run(steps: list[Any]) -> None:
        for origin, count, mutations, resend, seed_value in steps:
            rng = random.Random(seed_value)
            service, api = kiosks[origin]
            for _ in range(count):
                service.issue(rng.choice(["NOI", "NHI", "XN"]))
            events = wires(service.engine, origin)
            batch = copy.deepcopy(events[-count:])
            for index, which in mutations:
                target = batch[index % len(batch)]
                MUTATIONS[which][1](target["data"]["ticket"])
                if rng.random() < 0.5:
                    target["id"] = str(uuid.uuid4())  # or the same id with other content
            # In seq order half the time, so that hostile events come first and are judged;
            # shuffled otherwise (a gap stops a push; later pushes bring the rest).
            if rng.random() < 0.5:
                rng.shuffle(batch)
            if resend:
                again = copy.deepcopy(events)
                rng.shuffle(again)
                batch += again
            for start in range(0, len(batch), 3):
                answer = api.post(
                    "/api/v1/sync/events",
                    json={"origin": origin, "events": batch[start : start + 3]},
                )
                assert answer.status_code == 200, answer.text
            feed = api.get("/api/v1/events?after=0&limit=1000")
            assert feed.status_code == 200, feed.text

    run()

    with Session(server_engine) as session:
        tickets = session.scalars(select(Ticket)).all()
        prefixes = {d.code: d.prefix for d in session.scalars(select(Department))}
        events = session.scalars(select(Event)).all()
        rejected = session.scalars(select(RejectedEvent)).all()
    numbers = Tally((t.department_code, t.service_date, t.number) for t in tickets)
    assert all(n == 1 for n in numbers.values()), "a number held twice"
    assert len({e.id for e in events}) == len(events)
    seqs = Tally((e.origin, e.seq) for e in events)
    assert all(n == 1 for n in seqs.values()), "a seq applied twice"
    for origin in BLOCKS:  # judged in unbroken seq order: stored or rejected, no gap
        judged = {e.seq for e in events if e.origin == origin}
        judged |= {r.seq for r in rejected if r.origin == origin}
        assert judged == set(range(1, len(judged) + 1)), (origin, sorted(judged))
    for ticket in tickets:
        offset = BLOCKS[ticket.origin]
        assert ticket.number is not None and offset < ticket.number <= offset + 500
        assert ticket.code == f"{prefixes[ticket.department_code]}{ticket.number:03d}"
        assert ticket.priority is None or ticket.priority in DEFAULT_PRIORITY_REASONS
        assert ticket.queued_at == ticket.issued_at and ticket.call_count == 0
        assert text_problem(ticket.code) is None
