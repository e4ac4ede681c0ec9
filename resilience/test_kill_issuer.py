"""Scenario 1: a kiosk process killed with SIGKILL at random moments while issuing, 200 times.

Two kiosk processes (the kiosk UI and the CLI share one PC and one database) are started and
killed over and over; some die while starting and opening the database, most in the middle of
issuing. Afterwards the SQLite file must pass integrity_check, numbers must be unique and
gap-free, every ticket must have exactly one `ticket.issued` event, every event must be there
once with a gap-free `seq`, and the outbox must hold all of them, unsynced, in `seq` order.
Every number a process showed (only after its commit) must exist.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.queue.db import open_database
from kiosk.queue.models import Ticket
from resilience.checks import assert_kiosk_consistent, sqlite_integrity
from resilience.conftest import Recorder
from tests.support.database import seed

ROOT = Path(__file__).resolve().parents[1]
KILLS = 200
LANES = 2  # processes alive at once
ORIGIN = "kiosk-hall-1"


def spawn(url: str, count: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.queue.issuer_process", url, str(count), ORIGIN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


def lane(url: str, kills: int, seed_value: int, shown: list[str], moments: list[str]) -> None:
    rng = random.Random(seed_value)
    for _ in range(kills):
        process = spawn(url)
        assert process.stdout is not None
        if rng.random() < 0.15:
            # Killed while starting: importing, opening the database, checking migrations.
            moments.append("start")
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=rng.uniform(0.0, 1.0))
        else:
            moments.append("issuing")
            line = process.stdout.readline().strip()
            assert line == "ready", process.stderr and process.stderr.read()
            for _ in range(rng.randint(0, 6)):
                shown.append(process.stdout.readline().strip())
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=rng.uniform(0.0, 0.03))
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL, err
        shown.extend(line for line in out.split() if line != "ready")


@pytest.mark.timeout(900)
def test_sigkill_while_issuing_200_times(tmp_path: Path, summary: Recorder) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    engine = open_database(url)
    seed(engine)
    shown: list[str] = []
    moments: list[str] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            lane(url, KILLS // LANES, 20261128 + index, shown, moments)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(LANES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=850)
        assert not thread.is_alive(), "a kill lane hung"
    assert not errors, errors

    engine.dispose()
    engine = open_database(url)
    sqlite_integrity(engine)
    state = assert_kiosk_consistent(engine, ORIGIN)
    with Session(engine) as session:
        stored = set(session.scalars(select(Ticket.code)))
    lost = len(set(shown) - stored)
    assert lost == 0, f"numbers shown but not stored: {sorted(set(shown) - stored)[:10]}"
    assert state.tickets >= KILLS // 2

    # And issuing goes on from the next number.
    after = spawn(url, 1)
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert out.split()[-1] == f"B{state.tickets + 1:03d}"
    assert_kiosk_consistent(engine, ORIGIN)
    engine.dispose()
    summary.record(
        "1 kiosk killed while issuing",
        f"SIGKILL of a kiosk process ({moments.count('start')} while starting, "
        f"{moments.count('issuing')} mid-issuing; 2 processes at once)",
        len(moments),
        "integrity_check; numbers unique + gap-free; 1 issued event per ticket; seq gap-free; "
        "outbox complete in seq order; every shown number stored; numbering continues",
        state.tickets + 1,
        lost=lost,
        duplicated=0,
    )
