"""The kiosk's first screen loads no printing, migration or HTTP code: Pillow, qrcode and
python-escpos load with the first ticket, tomlkit when a PIN is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"

PROBE = """
import json, sys
from kiosk.cli import main
code = main(sys.argv[1:])
later = ("PIL", "qrcode", "escpos", "yaml", "tomlkit", "alembic", "mako", "httpx", "uvicorn")
print(json.dumps([m for m in later if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.gui
def test_the_painted_department_grid_loads_no_printing_code(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'k.db'}"
    config = tmp_path / "kiosk.toml"
    config.write_text('[printer]\nconnection = "none"\n', encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

    def kiosk(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args, "--config", str(config), "--database", database],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
        return loaded

    kiosk("seed", str(SEEDS))
    shot = tmp_path / "home.png"
    assert kiosk("run", "--screenshot", str(shot)) == []
    assert shot.stat().st_size > 10_000
