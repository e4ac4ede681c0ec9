"""`kiosk issue` as the console script runs it: the process ends itself once its answer is out
(no interpreter teardown), and leaves nothing lost or half-written behind."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "provincial-general-hospital.toml"
# Runs the console script's entry point with an atexit hook that says whether the
# interpreter's teardown ran.
WITH_TEARDOWN_MARK = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('TEARDOWN', file=sys.stderr))\n"
    "sys.argv = ['kiosk', *sys.argv[1:]]\n"
    "from kiosk.__main__ import main\n"
    "sys.exit(main())\n"
)


def _kiosk(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", WITH_TEARDOWN_MARK, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    seeded = _kiosk("seed", str(SEEDS), "--database", url)
    assert seeded.returncode == 0, seeded.stderr
    return url


def test_issue_ends_at_once_and_the_next_process_numbers_on(database: str, tmp_path: Path) -> None:
    first = _kiosk("issue", "NOI", "--database", database)
    assert first.returncode == 0, first.stderr
    assert "TEARDOWN" not in first.stderr
    assert json.loads(first.stdout)["number"] == 1

    # Standard output to a file, not a pipe: the answer is flushed before the process ends.
    answer = tmp_path / "answer.json"
    with answer.open("w") as out:
        second = subprocess.run(
            [sys.executable, "-c", WITH_TEARDOWN_MARK, "issue", "NOI", "--database", database],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert second.returncode == 0, second.stderr
    assert json.loads(answer.read_text())["number"] == 2

    store = sqlite3.connect(database.removeprefix("sqlite:///"))
    try:
        assert store.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        numbers = store.execute("SELECT number FROM tickets ORDER BY number").fetchall()
    finally:
        store.close()
    assert numbers == [(1,), (2,)]


def test_a_refused_issue_still_exits_with_its_status(database: str) -> None:
    refused = _kiosk("issue", "NOPE", "--database", database)
    assert refused.returncode == 2
    assert "NOPE" in refused.stderr


def test_other_commands_tear_down_as_ever(database: str) -> None:
    report = _kiosk("report", "--database", database)
    assert report.returncode == 0, report.stderr
    assert "TEARDOWN" in report.stderr


def test_an_empty_store_says_to_load_the_departments(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    refused = _kiosk("issue", "NOI", "--database", empty)
    assert refused.returncode == 2
    assert "no departments in the database; load them first" in refused.stderr
    assert "Traceback" not in refused.stderr
