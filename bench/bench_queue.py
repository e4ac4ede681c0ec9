"""Issue latency on the kiosk's SQLite store, commit (fsync, synchronous=FULL) included, against
a bare SQLite INSERT + commit with the same pragmas on the same disk, measured in the same run."""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import summarise, time_calls
from kiosk.queue.db import open_database
from kiosk.queue.seeds import seed_database
from kiosk.queue.service import QueueService

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"


def bare_insert(path: Path, repeat: int) -> list[float]:
    """sqlite3 alone: BEGIN IMMEDIATE, one INSERT, COMMIT, with the kiosk's pragmas."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT, at TEXT)")

    def insert() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (code, at) VALUES ('B012', '2026-11-28T09:05:00Z')")
        connection.execute("COMMIT")

    try:
        return time_calls(insert, repeat)
    finally:
        connection.close()


def run(repeat: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        seed_database(engine, SEEDS)
        service = QueueService(engine, origin="bench")
        bare = bare_insert(Path(tmp) / "bare.db", repeat)
        issue = time_calls(lambda: service.issue("NOI"), repeat)
        call = time_calls(lambda: service.call_next("NOI", "101"), repeat // 2)
        overview = time_calls(service.departments, 50)
        issue_cpu = time_calls(lambda: service.issue("NOI"), repeat, clock=time.process_time)
        engine.dispose()
    return {
        "issue latency, SQLite (commit included)": summarise(issue, "ms"),
        "issue CPU per call, SQLite (time.process_time)": summarise(issue_cpu, "ms"),
        "reference: bare SQLite INSERT + commit, same pragmas": summarise(bare, "ms"),
        "ratio issue / bare INSERT + commit (medians)": round(
            statistics.median(issue) / statistics.median(bare), 1
        ),
        "call next, SQLite (in-process)": summarise(call, "ms"),
        "department overview (12 departments)": summarise(overview, "ms"),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
