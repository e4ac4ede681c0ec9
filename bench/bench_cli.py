"""`kiosk issue` as a whole process (interpreter start, imports, config, open, issue, JSON out),
against a bare `python -c pass` measured in the same run.

    .venv/bin/python bench/bench_cli.py [--runs N]

Beside it, the same way, processes that only import SQLAlchemy (Core, then the ORM) or
pydantic: what the command would cost with them on its path (it issues through `sqlite3`
alone, `kiosk/queue/sqlite_issuing.py`; pydantic stays, for the config). Also reports which
heavy packages the process imported (none on a store at Alembic's head: no SQLAlchemy, no
Alembic).
`run()` returns the figures for `make bench`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"
HEAVY = (
    "sqlalchemy",
    "alembic",
    "mako",
    "fastapi",
    "uvicorn",
    "requests",
    "httpx",
    "PySide6",
    "PIL",
)
# What the libraries cost by themselves, as whole processes: pydantic (the config) is on the
# issue's path; SQLAlchemy was, until the issue ran through sqlite3 alone.
FLOORS = {
    "import sqlalchemy": "import sqlalchemy",
    "import sqlalchemy.orm": "import sqlalchemy.orm",
    "import pydantic": "import pydantic; from pydantic import BaseModel",
    # Both, and the process ended as `kiosk issue` ends it (no interpreter teardown): the
    # floor under the whole command while both libraries are on its path.
    "import sqlalchemy.orm and pydantic, exit at once": (
        "import sqlalchemy.orm, pydantic, os; from pydantic import BaseModel; os._exit(0)"
    ),
}
# The same command run in-process (kiosk.cli.main, which does not end the process itself),
# then the top-level packages it loaded.
PROBE = (
    "import sys, json\n"
    "from kiosk.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def run(runs: int = 15) -> dict[str, Any]:
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'kiosk.db'}"
        env_args = ["--database", database]
        subprocess.run(
            [python, "-m", "kiosk", "seed", str(SEEDS), *env_args], check=True, capture_output=True
        )
        issue = [python, "-m", "kiosk", "issue", "NOI", *env_args]
        _timed(issue)  # warm the file cache
        issue_ms, bare_ms = [], []
        floors: dict[str, list[float]] = {label: [] for label in FLOORS}
        for _ in range(runs):  # interleaved, so all see the same load
            issue_ms.append(_timed(issue))
            bare_ms.append(_timed([python, "-c", "pass"]))
            for label, code in FLOORS.items():
                floors[label].append(_timed([python, "-c", code]))
        probe = subprocess.run(
            [python, "-c", PROBE, "issue", "NOI", *env_args],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    loaded = json.loads(probe.stderr.strip().splitlines()[-1])
    issue_median, bare_median = statistics.median(issue_ms), statistics.median(bare_ms)
    return {
        "kiosk issue process_ms": round(issue_median, 1),
        "reference_ms bare python -c pass": round(bare_median, 1),
        "ratio kiosk issue / bare python": round(issue_median / bare_median, 1),
        **{
            f"reference_ms python -c '{label}'": round(statistics.median(samples), 1)
            for label, samples in floors.items()
        },
        "kiosk issue heavy imports": ", ".join(m for m in HEAVY if m in loaded) or "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--runs", type=int, default=15)
    print(json.dumps(run(parser.parse_args().runs), indent=2))


if __name__ == "__main__":
    main()
