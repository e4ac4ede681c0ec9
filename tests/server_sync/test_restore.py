"""A restored or rebuilt kiosk never hands out a number twice: real `kiosk` processes against a
real server (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiosk.queue.models import RejectedEvent, Ticket
from tests.support.database import SEED_FILE
from tests.support.server import LiveServer

KIOSK = str(Path(sys.executable).with_name("kiosk"))


class Kiosk:
    """One kiosk PC: its config, store and token, driven through the `kiosk` command."""

    def __init__(self, tmp_path: Path, server_url: str, token: str) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.store = tmp_path / "kiosk.db"
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n", encoding="utf-8")
        self.config = tmp_path / "kiosk.toml"
        self.config.write_text(
            f'[kiosk]\nid = "kiosk-hall-1"\ndatabase_url = "sqlite:///{self.store}"\n'
            f'[server]\nurl = "{server_url}"\ntoken_file = "{token_file}"\ntimeout_seconds = 5\n',
            encoding="utf-8",
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KIOSK, *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"kiosk {' '.join(args)}: {result.stderr}{result.stdout}"
        return result.stdout

    def issue(self) -> str:
        return str(json.loads(self.ok("issue", "NOI"))["code"])

    def seed(self) -> None:
        self.ok("seed", str(SEED_FILE))


def server_numbers(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return sorted(n for n in session.scalars(select(Ticket.number)) if n is not None)


def no_rejections(engine: Engine) -> None:
    with Session(engine) as session:
        assert session.scalars(select(RejectedEvent)).all() == []


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The server on SQLite: these tests are about the kiosk's store (each `kiosk` run is a
    process start, so the PostgreSQL half would only double the time)."""
    return sqlite_url


@pytest.fixture
def kiosk(live: LiveServer, tokens: dict[str, str], tmp_path: Path) -> Kiosk:
    return Kiosk(tmp_path / "pc", live.url, tokens["kiosk"])


@pytest.mark.slow
def test_restored_backup_issues_above_everything_the_server_holds(
    kiosk: Kiosk, server_engine: Engine, tmp_path: Path
) -> None:
    kiosk.seed()
    assert kiosk.issue() == "B001"
    kiosk.ok("sync", "--once")
    backup = tmp_path / "backup.db"
    kiosk.ok("backup", str(backup))
    assert [kiosk.issue(), kiosk.issue()] == ["B002", "B003"]
    kiosk.ok("sync", "--once")

    out = kiosk.ok("restore", str(backup))
    assert "issuing again" in out
    assert kiosk.issue() == "B004"  # never B002 again: a patient holds that one
    report = kiosk.ok("sync", "--once")
    assert "0 rejected" in report, report
    assert server_numbers(server_engine) == [1, 2, 3, 4]
    no_rejections(server_engine)


@pytest.mark.slow
def test_restored_backup_that_syncs_first_then_issues(
    kiosk: Kiosk, server_engine: Engine, tmp_path: Path
) -> None:
    kiosk.seed()
    kiosk.issue()
    backup = tmp_path / "backup.db"
    kiosk.ok("backup", str(backup))  # B001 not yet pushed when the copy was taken
    kiosk.issue()
    kiosk.ok("sync", "--once")
    kiosk.ok("restore", str(backup))
    report = kiosk.ok("sync", "--once")  # pushes B001 again: a duplicate, not an error
    assert "0 rejected" in report, report
    assert kiosk.issue() == "B003"
    kiosk.ok("sync", "--once")
    assert server_numbers(server_engine) == [1, 2, 3]
    no_rejections(server_engine)


@pytest.mark.slow
def test_rebuilt_kiosk_with_an_empty_store_and_the_same_id(
    kiosk: Kiosk, server_engine: Engine
) -> None:
    kiosk.seed()
    assert [kiosk.issue(), kiosk.issue()] == ["B001", "B002"]
    kiosk.ok("sync", "--once")
    for path in kiosk.store.parent.glob("kiosk.db*"):
        path.unlink()  # a replaced disk
    kiosk.seed()
    assert kiosk.issue() == "B003"
    report = kiosk.ok("sync", "--once")
    assert "0 rejected" in report, report
    assert server_numbers(server_engine) == [1, 2, 3]
    no_rejections(server_engine)


@pytest.mark.slow
def test_restored_kiosk_without_its_server_refuses_to_issue_and_says_why(
    kiosk: Kiosk, live: LiveServer, tmp_path: Path
) -> None:
    kiosk.seed()
    kiosk.issue()
    kiosk.ok("sync", "--once")
    backup = tmp_path / "backup.db"
    kiosk.ok("backup", str(backup))
    live.stop()
    restored = kiosk.run("restore", str(backup))
    assert restored.returncode == 1
    assert "cannot be reached" in restored.stderr and "Traceback" not in restored.stderr
    refused = kiosk.run("issue", "NOI")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "not issuing" in refused.stderr and "Traceback" not in refused.stderr
    doctor = kiosk.run("doctor")
    assert "not issuing: the store is restored from a backup" in doctor.stdout
    # The operator's way out without the server: a numbering block this kiosk never used.
    with kiosk.config.open("a", encoding="utf-8") as config:
        config.write("[numbering]\noffset = 500\n")
    assert kiosk.issue() == "B501"
