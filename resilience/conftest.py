"""The resilience suite (`make resilience`): faults injected into real processes, sockets,
PostgreSQL and disks, then the README's promises checked (no number lost or given twice).

Each scenario records one row (the fault, how often, what was checked, the counts); the rows
are printed as one table at the end of the run and written to resilience/summary.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.support.database import POSTGRES_ENV, postgres_admin_url

HERE = Path(__file__).resolve().parent
SUMMARY_FILE = HERE / "summary.md"


@dataclass
class Row:
    scenario: str
    fault: str
    times: int
    checked: str
    tickets: int
    lost: int
    duplicated: int
    seconds: float = 0.0


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)

    def table(self) -> str:
        header = (
            "scenario",
            "fault injected",
            "times",
            "checked",
            "tickets",
            "lost",
            "duplicated",
            "seconds",
        )
        lines = [
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] * len(header)) + "|",
        ]
        for r in sorted(self.rows, key=lambda row: row.scenario):
            cells = (
                r.scenario,
                r.fault,
                str(r.times),
                r.checked,
                str(r.tickets),
                str(r.lost),
                str(r.duplicated),
                f"{r.seconds:.0f}",
            )
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


SUMMARY = Summary()


@dataclass
class Recorder:
    """Given to a scenario: `record(...)` once it has checked everything."""

    started: float = field(default_factory=time.monotonic)

    def record(
        self,
        scenario: str,
        fault: str,
        times: int,
        checked: str,
        tickets: int,
        lost: int = 0,
        duplicated: int = 0,
    ) -> None:
        SUMMARY.rows.append(
            Row(
                scenario,
                fault,
                times,
                checked,
                tickets,
                lost,
                duplicated,
                time.monotonic() - self.started,
            )
        )


@pytest.fixture
def summary() -> Recorder:
    return Recorder()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [
        (report.nodeid, str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "")
        for report in terminalreporter.stats.get("skipped", [])
    ]
    if not SUMMARY.rows and not skipped:
        return
    text = "## Resilience summary\n\n" + SUMMARY.table()
    if skipped:
        text += "\nSkipped:\n" + "".join(f"- {node}: {why}\n" for node, why in skipped)
    terminalreporter.write_sep("=", "resilience summary")
    terminalreporter.write(text)
    SUMMARY_FILE.write_text(text, encoding="utf-8")
    terminalreporter.write_line(f"written: {SUMMARY_FILE}")


def must_run_in_ci(reason: str) -> None:
    """Skip with `reason` on a developer machine; in CI (env CI set) a skip is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — and CI must run this scenario")
    pytest.skip(reason)


def root_with(*commands: str) -> None:
    """Skip (or fail in CI) unless running as root with these commands on PATH."""
    if os.geteuid() != 0:
        must_run_in_ci("needs root")
    for command in commands:
        if shutil.which(command) is None:
            must_run_in_ci(f"needs the command {command}")


@pytest.fixture
def tmpfs_dir(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted for the test, always unmounted afterwards (needs root)."""
    root_with("mount", "umount")
    target = tmp_path / "data"
    target.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        must_run_in_ci(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server, dropped afterwards over a new connection
    (the scenario may have restarted the server under any connection made before)."""
    base = postgres_admin_url()
    if not base:
        pytest.skip(f"no PostgreSQL: set {POSTGRES_ENV} (.ci/run does) to run this scenario")
    schema = f"r_{uuid.uuid4().hex[:12]}"

    def admin(statement: str) -> None:
        engine = create_engine(base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    admin(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin(f'DROP SCHEMA "{schema}" CASCADE')
