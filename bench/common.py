"""Helpers shared by the benchmarks: repeated timing and a figure's summary."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


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


def time_calls(function: Callable[[], object], repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call, `repeat` times after a few warm-up calls."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples
