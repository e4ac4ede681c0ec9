"""The config a kiosk start made from the values it kept of the file: used only while the file,
its text and the rules that checked it are the same, and validated again after the first
screen (`confirm_config`), which refuses anything else than what the file says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import (
    CHECKED_CONFIG_FILE,
    ConfigError,
    confirm_config,
    load_checked_config,
    load_config,
)

ROOT = Path(__file__).resolve().parents[1]
TEXT = '[kiosk]\nid = "kiosk-hall-2"\ntap_guard_ms = 700\n[server]\ntimeout_seconds = 5\n'


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "kiosk.toml"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _kept(tmp_path: Path) -> Path:
    return tmp_path / "data" / CHECKED_CONFIG_FILE


def test_the_second_start_takes_the_kept_values_and_they_equal_the_files(
    config_file: Path, tmp_path: Path
) -> None:
    first, unconfirmed = load_checked_config(config_file)
    assert not unconfirmed
    assert first == load_config(config_file)
    assert _kept(tmp_path).stat().st_mode & 0o777 == 0o600
    second, unconfirmed = load_checked_config(config_file)
    assert unconfirmed
    assert second.model_dump() == first.model_dump() and second.source == str(config_file)
    assert second.kiosk.tap_guard_ms == 700 and second.server.timeout_seconds == 5.0
    assert isinstance(second.server.timeout_seconds, float)
    assert second.hospital.tz.key == "Asia/Ho_Chi_Minh"
    confirm_config(second, config_file)  # the file says the same: nothing to say


def test_a_start_over_kept_values_builds_no_validator() -> None:
    """The point of keeping them: no pydantic validator is built and importlib.metadata (which
    pydantic's plugin lookup imports) is not loaded; a fresh process shows it."""
    probe = (
        "import sys\n"
        "from kiosk.config import Config, load_checked_config\n"
        "config, unconfirmed = load_checked_config(sys.argv[1])\n"
        "print(unconfirmed, Config.__pydantic_complete__, 'importlib.metadata' in sys.modules)\n"
    )

    def start(path: Path, data: Path) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "KIOSK_DATA_DIR": str(data)},
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kiosk.toml"
        path.write_text(TEXT, encoding="utf-8")
        assert start(path, Path(tmp)) == "False True True"
        assert start(path, Path(tmp)) == "True False False"


def test_a_changed_file_is_validated_again(config_file: Path) -> None:
    load_checked_config(config_file)
    config_file.write_text(TEXT.replace("700", "800"), encoding="utf-8")
    config, unconfirmed = load_checked_config(config_file)
    assert not unconfirmed and config.kiosk.tap_guard_ms == 800
    config_file.write_text(TEXT.replace("700", "9"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"kiosk.tap_guard_ms = 9 is not allowed"):
        load_checked_config(config_file)


def test_other_rules_validate_the_file_again(config_file: Path, tmp_path: Path) -> None:
    """The kept values name the rules that checked them (this module as installed, pydantic's
    version): after an upgrade the file is validated again."""
    load_checked_config(config_file)
    kept = json.loads(_kept(tmp_path).read_text(encoding="utf-8"))
    kept["key"]["rules"] = "another version"
    _kept(tmp_path).write_text(json.dumps(kept), encoding="utf-8")
    _, unconfirmed = load_checked_config(config_file)
    assert not unconfirmed
    assert json.loads(_kept(tmp_path).read_text(encoding="utf-8"))["key"]["rules"] != (
        "another version"
    )


@pytest.mark.parametrize("damage", ["", "not json", "[]", '{"key": 1}', '{"values": {}}'])
def test_a_damaged_kept_file_is_ignored_and_replaced(
    config_file: Path, tmp_path: Path, damage: str
) -> None:
    load_checked_config(config_file)
    _kept(tmp_path).write_text(damage, encoding="utf-8")
    config, unconfirmed = load_checked_config(config_file)
    assert not unconfirmed and config.kiosk.id == "kiosk-hall-2"
    assert load_checked_config(config_file)[1]


def test_kept_values_that_differ_from_the_file_are_refused_and_dropped(
    config_file: Path, tmp_path: Path
) -> None:
    """Someone edits the kept values and leaves the text: the kiosk's first screen may show
    them, but the confirmation right after it refuses them, and the next start validates."""
    load_checked_config(config_file)
    kept = json.loads(_kept(tmp_path).read_text(encoding="utf-8"))
    kept["values"]["kiosk"]["id"] = "someone-else"
    _kept(tmp_path).write_text(json.dumps(kept), encoding="utf-8")
    config, unconfirmed = load_checked_config(config_file)
    assert unconfirmed and config.kiosk.id == "someone-else"
    with pytest.raises(ConfigError, match="kept values differ from the file's"):
        confirm_config(config, config_file)
    assert not _kept(tmp_path).exists()
    config, unconfirmed = load_checked_config(config_file)
    assert not unconfirmed and config.kiosk.id == "kiosk-hall-2"


def test_a_file_made_invalid_after_the_start_is_refused_by_the_confirmation(
    config_file: Path, tmp_path: Path
) -> None:
    load_checked_config(config_file)
    config, unconfirmed = load_checked_config(config_file)
    assert unconfirmed
    config_file.write_text(TEXT + "[nonsense]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'nonsense'"):
        confirm_config(config, config_file)
    assert not _kept(tmp_path).exists()


def test_without_a_file_the_defaults_are_kept_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("kiosk.config.SYSTEM_CONFIG_PATH", tmp_path / "absent.toml")
    first, unconfirmed = load_checked_config(None)
    assert not unconfirmed and first == load_config(None)
    second, unconfirmed = load_checked_config(None)
    assert unconfirmed and second.model_dump() == first.model_dump()
    assert second.source == "built-in defaults"
    confirm_config(second, None)


def test_a_data_directory_it_cannot_write_only_costs_the_next_start_its_time(
    config_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "data").write_text("a file where the directory should be", encoding="utf-8")
    config, unconfirmed = load_checked_config(config_file)
    assert not unconfirmed and config.kiosk.id == "kiosk-hall-2"
