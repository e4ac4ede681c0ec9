"""`kiosk set-pin` and `kiosk run --screenshot`."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kiosk.app.pin import verify_pin
from tests.support.cli import main

CONFIG = """# hall kiosk
[hospital]
name = "Bệnh viện Đa khoa tỉnh"

[kiosk]
id = "kiosk-hall-1"   # keep this comment
"""


def test_set_pin_writes_a_salted_hash_and_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    path.chmod(0o640)
    monkeypatch.setattr("sys.stdin", io.StringIO("975310\n"))
    assert main(["set-pin", "--stdin", "--config", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    stored = tomllib.loads(text)["kiosk"]["admin_pin_hash"]
    assert verify_pin("975310", stored) and "975310" not in text
    assert text.startswith(CONFIG.rstrip("\n").rsplit("\n", 1)[0])
    assert 'id = "kiosk-hall-1"   # keep this comment' in text
    assert path.stat().st_mode & 0o777 == 0o640
    assert "admin PIN set" in capsys.readouterr().out


def test_set_pin_refuses_a_bad_pin_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert main(["set-pin", "--stdin", "--config", str(path)]) == 2
    assert path.read_text(encoding="utf-8") == CONFIG
    assert "4 to 12 digits" in capsys.readouterr().err


def test_set_pin_that_cannot_write_says_to_run_it_as_root_without_sudo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Minimal Debian (a kiosk PC, the server) has no sudo: the hint names what works there.
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("kiosk.commands.ui.write_atomically", refuse)
    monkeypatch.setattr("sys.stdin", io.StringIO("975310\n"))
    assert main(["set-pin", "--stdin", "--config", str(path)]) != 0
    err = capsys.readouterr().err
    assert "as root" in err and "/opt/kiosk/venv/bin/kiosk set-pin" in err, err
    assert "sudo" not in err, err
    assert path.read_text(encoding="utf-8") == CONFIG


@pytest.mark.parametrize(
    ("screen", "size", "language"),
    [("home", "1920x1080", "en"), ("ticket", "1080x1920", "vi"), ("priority", "1080x1920", "vi")],
)
def test_run_screenshot_renders_a_png_from_seeded_data(
    qapp: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    screen: str,
    size: str,
    language: str,
) -> None:
    from PySide6.QtGui import QImage

    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))  # no database there yet
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    out = tmp_path / f"{screen}.png"
    argv = ["run", "--screenshot", str(out), "--size", size, "--language", language]
    assert main([*argv, "--screen", screen]) == 0
    image = QImage(str(out))
    assert f"{image.width()}x{image.height()}" == size
    assert not (tmp_path / "data" / "kiosk.db").exists()  # the temporary database is gone
