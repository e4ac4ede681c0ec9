"""Helpers shared by the benchmarks: repeated timing and a figure's summary."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text


def summarise(samples: list[float], unit: str) -> dict[str, Any]:
    """Median and spread (min, p90, max) of samples, for one row of the table."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "p90": p90,
        "max": ordered[-1],
        "runs": len(ordered),
        "unit": unit,
    }


def time_calls(
    function: Callable[[], object],
    repeat: int,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Milliseconds per call, `repeat` times after a few warm-up calls (`clock`:
    time.process_time for the process's CPU time instead of wall time)."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeat):
        start = clock()
        function()
        samples.append((clock() - start) * 1000)
    return samples


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at `base` (its URL, searching only that schema),
    dropped afterwards: runs never see each other's tables."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
