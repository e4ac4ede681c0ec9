"""`make bench`: run every bench/bench_*.py, print one table, write bench/results.json."""

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
    versions = {}
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


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def main(selected: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if any(s in m for s in selected)]
    results: dict[str, Any] = {"machine": machine(), "figures": {}, "failed": {}}
    for name in modules:
        started = time.perf_counter()
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            figures = importlib.import_module(f"bench.{name}").run()
        except Exception:
            results["failed"][name] = traceback.format_exc(limit=3)
            print(f"  {name} failed:\n{results['failed'][name]}", file=sys.stderr)
            continue
        for label, figure in figures.items():
            results["figures"][label] = {**figure, "benchmark": name}
        print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    info = results["machine"]
    print(f"\nMachine: {info['cpus']} CPUs, {info['platform']}, Python {info['python']}")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v))
    print()
    header = ("figure", "median", "min", "p90", "max", "unit", "runs")
    rows = [
        (label, *(fmt(f.get(k, "")) for k in ("median", "min", "p90", "max", "unit", "runs")))
        for label, f in results["figures"].items()
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {HERE / 'results.json'}")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
