"""Issue latency on the kiosk's SQLite store, commit (fsync, synchronous=FULL) included."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import summarise, time_calls
from kiosk.queue.db import open_database
from kiosk.queue.seeds import seed_database
from kiosk.queue.service import QueueService

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"


def run(repeat: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'kiosk.db'}")
        seed_database(engine, SEEDS)
        service = QueueService(engine, origin="bench")
        issue = time_calls(lambda: service.issue("NOI"), repeat)
        call = time_calls(lambda: service.call_next("NOI", "101"), repeat // 2)
        overview = time_calls(service.departments, 50)
        engine.dispose()
    return {
        "issue latency, SQLite (commit included)": summarise(issue, "ms"),
        "call next, SQLite (in-process)": summarise(call, "ms"),
        "department overview (12 departments)": summarise(overview, "ms"),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
