"""The systemd units pass `systemd-analyze verify` with no complaint at all."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = {
    "kiosk.service": ROOT / "kiosk.service",
    "kiosk-server.service": ROOT / "deploy" / "kiosk-server.service",
    "kiosk-backup.service": ROOT / "deploy" / "kiosk-backup.service",
    "kiosk-backup.timer": ROOT / "deploy" / "kiosk-backup.timer",
}


def analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze missing in CI: .ci/run installs the systemd package")
        pytest.skip("systemd-analyze is not installed")
    return path


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_verifies_cleanly(name: str, tmp_path: Path) -> None:
    # verify fails when an Exec binary is absent; the venv is not installed here. The timer
    # is verified with the service it starts beside it.
    for each in {name, name.replace(".timer", ".service")}:
        lines = [
            f"{line.split('=', 1)[0]}=/bin/true"
            if line.startswith(("ExecStart=", "ExecStop="))
            else line
            for line in UNITS[each].read_text(encoding="utf-8").splitlines()
        ]
        (tmp_path / each).write_text("\n".join(lines) + "\n", encoding="utf-8")
    unit = tmp_path / name
    result = subprocess.run(
        [analyze(), "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    # A misspelt key is only a warning with exit 0: any output at all is a failure.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_a_misspelt_key_is_caught(tmp_path: Path) -> None:
    unit = tmp_path / "broken.service"
    unit.write_text("[Service]\nExecStart=/bin/true\nRestart=alwayz\n", encoding="utf-8")
    result = subprocess.run(
        [analyze(), "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "alwayz" in result.stdout + result.stderr


def test_kiosk_unit_keeps_the_watchdog_traps_in_mind() -> None:
    text = UNITS["kiosk.service"].read_text(encoding="utf-8")
    settings = {
        line.split("=", 1)[0] for line in text.splitlines() if "=" in line and line[:1].isalpha()
    }
    assert {"WatchdogSec", "NotifyAccess", "StateDirectory", "ProtectSystem"} <= settings
    assert "Type=notify" in text and "User=kiosk" in text and "lp" in text
    assert "PAMName" not in settings, "children of a PAM session don't count for sd_notify"
    assert "PrivateDevices" not in settings and "ProtectClock" not in settings
