"""A screenshot that cannot be written is one line naming the file, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--screenshot", "/proc/kiosk.png"],
        ["run", "--screenshot", "/proc/no-such-dir/kiosk.png"],
        ["counter", "--department", "NOI", "--room", "101", "--screenshot", "/proc/c.png"],
    ],
)
def test_an_unwritable_screenshot_is_named(argv: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    env |= {"QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", *argv],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
        cwd=ROOT,
    )
    path = next(a for a in argv if a.startswith("/proc/"))
    assert result.returncode == 2, result.stderr
    assert f"kiosk: cannot write {path}" in result.stderr
    assert "Traceback" not in result.stderr
