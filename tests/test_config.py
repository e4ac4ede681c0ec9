"""Config: defaults that work, and one clear line for every bad key or value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import Config, ConfigError, load_config, parse_config, write_atomically


def test_defaults_give_a_working_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("kiosk.config.SYSTEM_CONFIG_PATH", tmp_path / "absent.toml")
    config = load_config(None)
    assert config == Config()
    assert config.hospital.timezone == "Asia/Ho_Chi_Minh"
    assert config.numbering.width == 3 and config.numbering.offset == 0
    assert config.kiosk_database_url == f"sqlite:///{tmp_path / 'kiosk.db'}"
    # Working alone, the kiosk has no status page a phone could open: no QR, no link.
    assert config.status_url("abc") == ""
    assert config.server_status_url("abc") == "http://127.0.0.1:8080/t/abc"
    assert "elderly_75" in config.queue.priority_reasons


def test_full_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        """
[hospital]
name = "Bệnh viện Đa khoa tỉnh Hà Giang"
timezone = "Asia/Ho_Chi_Minh"
[kiosk]
id = "kiosk-hall-2"
database_url = "sqlite:////var/lib/kiosk/kiosk.db"
fullscreen = true
[numbering]
offset = 500
width = 4
[printer]
connection = "network:192.0.2.10:9100"
paper_width_mm = 58
profile = "POS-5890"
[server]
url = "https://queue.benhvien.example"
public_url = "https://queue.benhvien.example"
[queue]
max_priority_in_row = 2
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.kiosk.id == "kiosk-hall-2" and config.kiosk.fullscreen
    assert config.numbering.offset == 500
    assert config.printer.paper_width_mm == 58
    assert config.status_url("x") == "https://queue.benhvien.example/t/x"
    assert config.source == str(path)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"printer": {"paper_width_mm": 70}},
            "printer.paper_width_mm = 70 is not allowed; expected 58 or 80",
        ),
        (
            {"printer": {"connection": "bluetooth"}},
            "printer.connection = 'bluetooth' is not allowed; expected one of usb:VID:PID",
        ),
        (
            {"hospital": {"timezone": "Mars/Olympus"}},
            "hospital.timezone = 'Mars/Olympus' is not allowed; expected an IANA time zone",
        ),
        (
            {"numbering": {"width": 0}},
            "numbering.width = 0 is not allowed; expected greater than or equal to 1",
        ),
        (
            {"kiosk": {"fullscren": True}},
            "unknown key 'kiosk.fullscren'; allowed here: id, database_url, fullscreen",
        ),
        ({"kiosks": {}}, "unknown key 'kiosks'; allowed here: hospital, kiosk, numbering"),
        (
            {"board": {"language": "fr"}},
            "board.language = 'fr' is not allowed; expected 'vi' or 'en'",
        ),
        ({"kiosk": {"id": "kiosk 1"}}, "kiosk.id = 'kiosk 1' is not allowed"),
        (
            {"kiosk": {"tap_guard_ms": 50}},
            "kiosk.tap_guard_ms = 50 is not allowed; expected greater than or equal to 200",
        ),
    ],
)
def test_bad_values_name_key_value_and_allowed(data: dict, expected: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "kiosk.toml")
    message = str(caught.value)
    assert message.startswith("kiosk.toml: ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ({}, ""),
        ({"url": "http://127.0.0.1:8080"}, ""),  # the demo's own server: no phone reaches it
        ({"public_url": "https://queue.benhvien.vn/"}, "https://queue.benhvien.vn/t/x"),
        ({"url": "https://queue.benhvien.local"}, "https://queue.benhvien.local/t/x"),
        (
            {"url": "http://localhost:8080", "public_url": "https://q.benhvien.vn"},
            "https://q.benhvien.vn/t/x",
        ),
    ],
)
def test_status_link_only_where_a_phone_can_open_it(server: dict, expected: str) -> None:  # type: ignore[type-arg]
    assert parse_config({"server": server}).status_url("x") == expected


def test_unreadable_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[kiosk\nid = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_config_env_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[kiosk]\nid = "from-env"\n', encoding="utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert load_config(None).kiosk.id == "from-env"


def test_validating_a_file_does_not_load_platformdirs(tmp_path: Path) -> None:
    """Every command validates its config first: platformdirs (with tempfile, shutil, random)
    loads only when a default data directory is asked for."""
    path = tmp_path / "k.toml"
    path.write_text('[printer]\nconnection = "none"\n', encoding="utf-8")
    code = (
        "import sys; from kiosk.config import load_config; "
        f"config = load_config({str(path)!r}); assert 'platformdirs' not in sys.modules; "
        "config.data_dir; assert 'platformdirs' in sys.modules"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_write_atomically_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "kiosk.toml"
    write_atomically(path, "a = 1\n")
    write_atomically(path, "a = 2\n")
    assert path.read_text() == "a = 2\n"
    assert [p.name for p in path.parent.iterdir()] == ["kiosk.toml"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://queue.benhvien.local", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://10.1.2.3:8080", False),
        ("ftp://queue.benhvien.local", False),
    ],
)
def test_plain_http_only_to_this_machine(url: str, allowed: bool) -> None:
    if allowed:
        assert parse_config({"server": {"url": url}}).server.url == url
        return
    with pytest.raises(ConfigError) as caught:
        parse_config({"server": {"url": url}}, "k.toml")
    assert str(caught.value).startswith(f"k.toml: server.url = '{url}' is not allowed")
    trusted = {"server": {"url": url, "allow_plain_http": True}}
    if url.startswith("http:"):
        assert parse_config(trusted).server.allow_plain_http


def test_write_atomically_keeps_mode_owner_and_group(tmp_path: Path) -> None:
    import os

    path = tmp_path / "kiosk.toml"
    path.write_text("a = 1\n")
    path.chmod(0o640)
    if os.getuid() == 0:  # as root (CI, an IT technician with sudo): keep kiosk's group
        os.chown(path, 1, 1)
    before = path.stat()
    write_atomically(path, "a = 2\n")
    after = path.stat()
    assert path.read_text() == "a = 2\n"
    assert (after.st_mode & 0o777, after.st_uid, after.st_gid) == (
        0o640,
        before.st_uid,
        before.st_gid,
    )
    new = tmp_path / "new.toml"
    write_atomically(new, "b = 1\n")
    assert new.stat().st_mode & 0o777 == 0o600
