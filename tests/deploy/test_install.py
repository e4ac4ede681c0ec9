"""deploy/install-kiosk.sh staged into a folder: installs the built wheel (not editable) into a
fresh venv, with exactly the versions of deploy/constraints.txt and the kiosk extra only, and
running it again upgrades in place without touching the config or the data. The ticket renders
with the package's own fonts: the system's are hidden from Pillow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "install-kiosk.sh"
sys.path.insert(0, str(ROOT / "deploy"))
import lock  # noqa: E402  (deploy/lock.py, a script)


def install(root: Path, wheel: Path) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), "--wheel", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_pinned_and_kiosk_only(python: Path) -> None:
    """Every distribution in the venv is at its deploy/constraints.txt version; the kiosk
    extra brought Qt and no PostgreSQL driver."""
    listing = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, json;"
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = {lock._name(n): v for n, v in json.loads(listing.stdout).items()}
    pins = lock.pinned()
    own = {"hospital-queue-kiosk", "pip", "setuptools", "wheel"}
    wrong = {n: (v, pins.get(n)) for n, v in installed.items() if n not in own and pins.get(n) != v}
    assert not wrong, f"installed (version, pinned): {wrong}"
    assert "pyside6-essentials" in installed and "python-escpos" in installed
    assert "psycopg" not in installed and "fastapi" not in installed, sorted(installed)


@pytest.mark.slow
def test_staged_install_then_upgrade_keeps_config_and_data(tmp_path: Path, wheel: Path) -> None:
    root = tmp_path / "root"
    first = install(root, wheel)
    assert "writing" in first and "kiosk.toml" in first
    kiosk = root / "opt/kiosk/venv/bin/kiosk"
    config = root / "etc/kiosk/kiosk.toml"
    assert (root / "etc/systemd/system/kiosk.service").exists()
    assert (root / "etc/udev/rules.d/99-kiosk-printer.rules").exists()

    database = f"sqlite:///{tmp_path / 'data' / 'kiosk.db'}"
    # No system font is reachable: Pillow looks for fonts under these directories only.
    no_fonts = tmp_path / "no-fonts"
    no_fonts.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(no_fonts), "XDG_DATA_DIRS": str(no_fonts)}
    env.pop("KIOSK_CONFIG", None)

    def run(*args: str) -> str:
        result = subprocess.run(
            [str(kiosk), "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,  # not this source tree: only the installed package
            env=env,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("seed", "provincial-general-hospital", "--database", database)
    png = tmp_path / "ticket.png"
    first_ticket = json.loads(run("issue", "NOI", "--database", database, "--png", str(png)))
    assert first_ticket["code"] == "B001"
    with Image.open(png) as image:
        assert image.width == 576 and image.height > 600
    fonts = subprocess.run(
        [
            str(root / "opt/kiosk/venv/bin/python"),
            "-c",
            "import printer.ticket as t; print(t.FONT_DIR)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    assert fonts.stdout.startswith(str(root / "opt/kiosk/venv/")), fonts.stdout
    assert_pinned_and_kiosk_only(root / "opt/kiosk/venv/bin/python")

    edited = config.read_text(encoding="utf-8").replace(
        'id = "kiosk-hall-1"', 'id = "kiosk-hall-7"'
    )
    config.write_text(edited, encoding="utf-8")
    second = install(root, wheel)
    assert "keeping the existing" in second
    assert 'id = "kiosk-hall-7"' in config.read_text(encoding="utf-8")
    ticket = json.loads(run("issue", "NOI", "--database", database))
    assert ticket["code"] == "B002", "the data survived the upgrade"
