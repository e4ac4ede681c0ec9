"""A damaged kiosk store is named in one line with how to restore it, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.queue.db import open_database
from kiosk.queue.service import QueueService
from tests.support.database import seed


def kiosk_store(tmp_path: Path, tickets: int = 300) -> tuple[Path, Path]:
    store = tmp_path / "kiosk.db"
    engine = open_database(f"sqlite:///{store}")
    seed(engine)
    service = QueueService(engine, origin="kiosk-1")
    for _ in range(tickets):
        service.issue("NOI")
    engine.dispose()  # the last connection checkpoints the WAL into the file
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndatabase_url = "sqlite:///{store}"\n', encoding="utf-8")
    return store, config


@pytest.mark.parametrize(
    "command",
    [["issue", "NOI"], ["run"], ["sync", "--once"], ["backup", "{tmp}/copy.db"], ["report"]],
)
def test_a_truncated_store_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    store, config = kiosk_store(tmp_path, tickets=3)
    with store.open("r+b") as handle:
        handle.truncate(100)  # the header's page is cut
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in command]
    code = main([*args, "--config", str(config)])
    captured = capsys.readouterr()
    assert code == 1, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert str(store) in lines[0] and "kiosk restore" in lines[0]


def test_flipped_bytes_inside_the_store_fail_the_doctor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, config = kiosk_store(tmp_path)
    size = store.stat().st_size
    with store.open("r+b") as handle:
        handle.seek(size // 2 // 4096 * 4096)
        handle.write(os.urandom(4096))
    assert main(["doctor", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  database" in out and "kiosk restore" in out
