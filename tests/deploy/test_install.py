"""deploy/install-kiosk.sh staged into a folder: installs a working `kiosk`, and running it
again upgrades in place without touching the config or the data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "install-kiosk.sh"


def install(root: Path) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_staged_install_then_upgrade_keeps_config_and_data(tmp_path: Path) -> None:
    root = tmp_path / "root"
    first = install(root)
    assert "writing" in first and "kiosk.toml" in first
    kiosk = root / "opt/kiosk/venv/bin/kiosk"
    config = root / "etc/kiosk/kiosk.toml"
    assert (root / "etc/systemd/system/kiosk.service").exists()
    assert (root / "etc/udev/rules.d/99-kiosk-printer.rules").exists()

    database = f"sqlite:///{tmp_path / 'data' / 'kiosk.db'}"
    seeds = root / "opt/kiosk/seeds/provincial-general-hospital.toml"

    def run(*args: str) -> str:
        result = subprocess.run(
            [str(kiosk), "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("seed", str(seeds), "--database", database)
    assert json.loads(run("issue", "NOI", "--database", database))["code"] == "B001"

    edited = config.read_text(encoding="utf-8").replace(
        'id = "kiosk-hall-1"', 'id = "kiosk-hall-7"'
    )
    config.write_text(edited, encoding="utf-8")
    second = install(root)
    assert "keeping the existing" in second
    assert 'id = "kiosk-hall-7"' in config.read_text(encoding="utf-8")
    ticket = json.loads(run("issue", "NOI", "--database", database))
    assert ticket["code"] == "B002", "the data survived the upgrade"
