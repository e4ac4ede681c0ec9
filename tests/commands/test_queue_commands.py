"""`kiosk seed`, `kiosk issue`, `kiosk report` as a user runs them: the real console script."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import KIOSK
from tests.support.database import SEED_FILE


def run(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [KIOSK, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[kiosk]\nid = "kiosk-hall-1"\n[server]\npublic_url = "https://queue.benhvien.vn"\n',
        encoding="utf-8",
    )
    return {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_CONFIG": str(config)}


def test_seed_issue_three_times_and_report(env: dict[str, str]) -> None:
    assert "12 added" in run("seed", str(SEED_FILE), env=env).stdout
    assert "0 added, 0 updated, 12 unchanged" in run("seed", str(SEED_FILE), env=env).stdout

    issued = [json.loads(run("issue", "NOI", env=env).stdout) for _ in range(3)]
    assert [t["number"] for t in issued] == [1, 2, 3]
    assert [t["code"] for t in issued] == ["B001", "B002", "B003"]
    assert [t["ahead"] for t in issued] == [0, 1, 2]
    first = issued[0]
    assert set(first) == {
        "id",
        "department",
        "number",
        "code",
        "service_date",
        "priority",
        "status",
        "issued_at",
        "ahead",
        "estimated_wait_minutes",
        "status_url",
    }
    assert first["status_url"] == f"https://queue.benhvien.vn/t/{first['id']}"
    assert first["status"] == "waiting" and first["priority"] is None

    elder = json.loads(run("issue", "noi", "--priority", "elderly_75", env=env).stdout)
    assert elder["priority"] == "elderly_75" and elder["ahead"] == 0

    report = json.loads(run("report", "--format", "json", env=env).stdout)
    assert [t["code"] for t in report["tickets"]] == ["B001", "B002", "B003", "B004"]
    assert set(report["tickets"][0]) == {
        "id",
        "department",
        "number",
        "code",
        "status",
        "priority",
        "origin",
        "issued_at",
        "called_at",
        "finished_at",
        "wait_minutes",
        "service_minutes",
    }
    assert report["departments"] == [
        {
            "code": "NOI",
            "issued": 4,
            "served": 0,
            "no_show": 0,
            "cancelled": 0,
            "waiting": 4,
            "avg_wait_minutes": None,
            "avg_service_minutes": None,
            "median_wait_minutes": None,
            "p90_wait_minutes": None,
            "median_service_minutes": None,
            "p90_service_minutes": None,
        }
    ]
    text = run("report", "--format", "csv", "--date", report["date"], env=env).stdout
    tickets_part = text.split("\n\n")[0]
    rows = list(csv.DictReader(io.StringIO(tickets_part)))
    assert [r["code"] for r in rows] == ["B001", "B002", "B003", "B004"]


def test_unknown_department_exits_2_with_valid_codes(env: dict[str, str]) -> None:
    run("seed", str(SEED_FILE), env=env)
    result = run("issue", "XYZ", env=env, check=False)
    assert result.returncode == 2
    assert "unknown department 'XYZ'" in result.stderr and "NOI" in result.stderr
    assert "Traceback" not in result.stderr


def test_issue_before_seeding_says_what_to_do(env: dict[str, str]) -> None:
    result = run("issue", "NOI", env=env, check=False)
    assert result.returncode == 2 and "kiosk seed" in result.stderr


def test_invalid_config_is_one_line_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[printer]\npaper_width_mm = 70\n", encoding="utf-8")
    result = run("issue", "NOI", "--config", str(bad), env=env, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "printer.paper_width_mm = 70" in result.stderr and "58 or 80" in result.stderr


def test_bad_seed_file_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "seed.toml"
    bad.write_text('[[departments]]\ncode = "NOI"\n', encoding="utf-8")
    result = run("seed", str(bad), env=env, check=False)
    assert result.returncode == 2 and "departments.0.name_vi" in result.stderr
    assert "Traceback" not in result.stderr
