"""Numbering across OS processes: concurrent issuers and issuers killed with SIGKILL.

Runs on SQLite and on the real PostgreSQL server. After every scenario the store must hold
numbers 1..N with no gap and no duplicate, one `ticket.issued` event per ticket, and each
origin's event `seq` gap-free.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.events import EventType
from kiosk.queue.models import Event, Ticket
from tests.support.database import seed

ROOT = Path(__file__).resolve().parents[2]


def start_issuer(
    url: str, count: int, origin: str = "kiosk-hall-1", *, direct: bool = False
) -> subprocess.Popen[str]:
    """An issuing process; `direct`: through `sqlite3` alone, as `kiosk issue` issues."""
    mode = ["direct"] if direct else []
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.queue.issuer_process", url, str(count), origin, *mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.stderr and process.stderr.read()
    return process


def assert_consistent(engine: Engine) -> list[int]:
    with Session(engine) as session:
        tickets = session.execute(select(Ticket.id, Ticket.number, Ticket.code)).all()
        events = session.execute(select(Event.origin, Event.seq, Event.type, Event.ticket_id)).all()
    numbers = sorted(t.number for t in tickets)
    assert numbers == list(range(1, len(numbers) + 1)), "numbers unique and gap-free"
    issued = Counter(e.ticket_id for e in events if e.type == EventType.ISSUED)
    assert set(issued) == {t.id for t in tickets}, "every ticket has its event and no orphan"
    assert set(issued.values()) <= {1}, "each ticket issued once"
    by_origin: dict[str, list[int]] = {}
    for event in events:
        by_origin.setdefault(event.origin, []).append(event.seq)
    for origin, seqs in by_origin.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"seq of {origin} gap-free"
    return numbers


@pytest.mark.slow
def test_concurrent_processes_issue_unique_consecutive_numbers(
    engine: Engine, database_url: str
) -> None:
    seed(engine)
    per_process, processes = 40, 4
    # Two processes share an origin (kiosk UI + CLI on one PC); two have their own. On SQLite
    # the "CLI" issues as `kiosk issue` does, through sqlite3 alone, and so does a third.
    origins = ["kiosk-hall-1", "kiosk-hall-1", "kiosk-hall-2", "kiosk-hall-3"]
    sqlite = database_url.startswith("sqlite")
    issuers = [
        start_issuer(database_url, per_process, origins[i], direct=sqlite and i in (1, 2))
        for i in range(processes)
    ]
    codes: list[str] = []
    for issuer in issuers:
        out, err = issuer.communicate(timeout=120)
        assert issuer.returncode == 0, err
        codes += out.split()
    assert len(codes) == len(set(codes)) == per_process * processes
    assert assert_consistent(engine) == list(range(1, per_process * processes + 1))


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_consistency(engine: Engine, database_url: str) -> None:
    seed(engine)
    rng = random.Random(20261128)
    kills = 25
    printed: list[str] = []
    sqlite = database_url.startswith("sqlite")
    for kill in range(kills):
        # On SQLite every other one issues as `kiosk issue` does (sqlite3 alone).
        issuer = start_issuer(database_url, 0, direct=sqlite and kill % 2 == 1)
        assert issuer.stdout is not None
        # Let it get into its issuing loop, then kill it at a random moment within it.
        for _ in range(rng.randint(1, 4)):
            printed.append(issuer.stdout.readline().strip())
        with contextlib.suppress(subprocess.TimeoutExpired):
            issuer.wait(timeout=rng.uniform(0.0, 0.05))
        issuer.send_signal(signal.SIGKILL)
        out, _err = issuer.communicate(timeout=30)
        assert issuer.returncode == -signal.SIGKILL
        printed += out.split()
    numbers = assert_consistent(engine)
    # Every number a process showed exists (it was printed only after its commit).
    with Session(engine) as session:
        stored = set(session.scalars(select(Ticket.code)))
    assert set(printed) <= stored
    assert len(numbers) >= kills
    # And issuing goes on from the next number after all that.
    after = start_issuer(database_url, 1)
    out, _ = after.communicate(timeout=60)
    assert out.split() == [f"B{len(numbers) + 1:03d}"]
