"""`make bench`: run every bench/bench_*.py, print one table, write bench/results.json.

Every figure comes from a run that completed: a benchmark that fails or times out is reported
as failed (and `make bench` exits non-zero), never as a figure. Beside each figure: the machine's
1-minute load average when its runs ended (min-max over the repeats), because the machine may be
shared; where a benchmark measures a reference in the same run (a bare PySide6 window, a bare
SQLite INSERT + commit, Pillow drawing an image of the ticket's size, a bare `python -c pass`),
the ratio to it is a row of its own (unit x).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Benchmarks that give single figures run this often, for a median and a spread; the others
# already time many operations per run (p50/p99 over hundreds of requests).
REPEATS = {"bench_printing": 3, "bench_kiosk": 3, "bench_cli": 1}
# Long, and figures of their own kind: `make bench` runs them only when asked (BENCH_ALL=1 or by
# name, e.g. `python -m bench.run_all contention`).
OPTIONAL = {"bench_contention"}
UNITS = (
    ("ratio", "x"),
    ("_per_second", "/s"),
    ("_ms", "ms"),
    ("_mb", "MB"),
    ("_mm", "mm"),
    ("bytes", "B"),
    ("seconds", "s"),
)
VERSIONS = (
    "sqlalchemy",
    "pyside6-essentials",
    "python-escpos",
    "pillow",
    "fastapi",
    "uvicorn",
    "psycopg",
)


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "postgresql": bool(os.environ.get("KIOSK_TEST_POSTGRES_URL")),
    }


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"sqlite": {"call_next_p50_ms": 3}} -> {"sqlite call_next_p50_ms": 3}; summaries stay."""
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        label = f"{prefix}{key}"
        if isinstance(value, dict) and "median" not in value:
            flat.update(flatten(value, f"{label} "))
        else:
            flat[label] = value
    return flat


def unit_of(label: str) -> str:
    name = label.lower()
    for marker, unit in UNITS:
        if marker in name:
            return unit
    return ""


def collect(samples: dict[str, list[Any]], name: str, loads: list[float]) -> dict[str, Any]:
    """One row per figure: summaries as they come, repeated numbers summarised here; each with
    the load averages at the end of its runs."""
    from bench.common import summarise

    rows: dict[str, Any] = {}
    load = {"load_min": min(loads), "load_max": max(loads)}
    for label, values in samples.items():
        first = values[0]
        if isinstance(first, dict):
            rows[label] = {**first, "benchmark": name, **load}
        elif isinstance(first, int | float) and not isinstance(first, bool):
            rows[label] = {
                **summarise([float(v) for v in values], unit_of(label)),
                "benchmark": name,
                **load,
            }
        elif isinstance(first, str):
            rows[label] = {"median": first, "unit": "", "benchmark": name}
    return rows


def load_text(figure: dict[str, Any]) -> str:
    low, high = figure.get("load_min"), figure.get("load_max")
    if low is None or high is None:
        return ""
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}-{high:.1f}"


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def main(selected: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if any(s in m for s in selected)]
    elif not os.environ.get("BENCH_ALL"):
        modules = [m for m in modules if m not in OPTIONAL]
    results: dict[str, Any] = {"machine": machine(), "figures": {}, "failed": {}}
    for name in modules:
        started = time.perf_counter()
        print(f"running {name} …", file=sys.stderr, flush=True)
        samples: dict[str, list[Any]] = {}
        loads: list[float] = []
        try:
            module = importlib.import_module(f"bench.{name}")
            for _ in range(REPEATS.get(name, 1)):
                for label, value in flatten(module.run()).items():
                    samples.setdefault(label, []).append(value)
                loads.append(os.getloadavg()[0])
        except Exception:
            results["failed"][name] = traceback.format_exc(limit=3)
            print(f"  {name} failed:\n{results['failed'][name]}", file=sys.stderr)
            continue
        results["figures"].update(collect(samples, name, loads))
        print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    info = results["machine"]
    print(f"\nMachine: {info['cpus']} CPUs, {info['platform']}, Python {info['python']}")
    print("Load: the 1-minute load average when each figure's runs ended (min-max); above the")
    print(f"CPU count ({info['cpus']}) the machine was busy with other work: read the ratios.")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v))
    print()
    header = ("figure", "median", "min", "p90", "max", "unit", "runs", "load")
    figures = {k: f for k, f in results["figures"].items() if f.get("unit")}
    # Unit-less numbers (how many counters, requests, tickets) are the setting, not a figure.
    context = {k: f["median"] for k, f in results["figures"].items() if not f.get("unit")}
    rows = []
    for label, f in figures.items():
        spread = ("min", "p90", "max") if f.get("runs", 1) > 1 else ()
        rows.append(
            (
                label,
                *(
                    fmt(f[k]) if k in spread or k == "median" else ""
                    for k in ("median", "min", "p90", "max")
                ),
                f.get("unit", ""),
                fmt(f.get("runs", "")),
                load_text(f),
            )
        )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    if context:
        print("\nSetting: " + ", ".join(f"{k} = {fmt(v)}" for k, v in context.items()))
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {HERE / 'results.json'}")
    if results["failed"]:
        print(f"\nFAILED (no figures from these): {', '.join(results['failed'])}")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
