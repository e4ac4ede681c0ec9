"""`kiosk doctor --server` on a real server process, and the doctor on paths it may not use."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kiosk.config import Config
from kiosk.doctor import Level, run_server_checks
from kiosk.queue.db import open_database
from server_sync.server import create_app
from server_sync.server.devices import add_device
from tests.support.database import seed
from tests.support.server import LiveServer
from tests.support.tls import make_hospital_pki


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, database_url: str, port: int, extra: str = "") -> str:
    path = folder / "kiosk.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\ndatabase_url = "{database_url}"\n{extra}',
        encoding="utf-8",
    )
    return str(path)


def levels(config_path: str) -> dict[str, tuple[Level, str]]:
    return {c.name: (c.level, c.message) for c in run_server_checks(config_path)}


@pytest.fixture
def server_engine(database_url: str) -> Engine:
    engine = open_database(database_url)
    seed(engine)
    return engine


def test_healthy_server_is_all_ok(tmp_path: Path, database_url: str, server_engine: Engine) -> None:
    add_device(server_engine, "kiosk-hall-1", "kiosk")
    add_device(server_engine, "counter-101", "counter")
    live = LiveServer(create_app(server_engine, Config())).start()
    try:
        port = int(live.sock.getsockname()[1])
        config = write_config(tmp_path, database_url, port, "allow_plain_http = true\n")
        checks = levels(config)
    finally:
        live.stop()
        server_engine.dispose()
    assert list(checks) == ["config", "database", "tls", "port", "devices", "clock", "disk"]
    # The clock may only warn: NTP on the test machine is not this test's business.
    assert all(level == Level.OK for name, (level, _) in checks.items() if name != "clock"), checks
    assert checks["clock"][0] != Level.FAIL, checks
    assert "2 active: 1 counter, 1 kiosk" in checks["devices"][1]
    assert f"127.0.0.1:{port}" in checks["port"][1]


def test_stopped_server_no_devices_and_plain_http(tmp_path: Path, sqlite_url: str) -> None:
    open_database(sqlite_url).dispose()
    checks = levels(write_config(tmp_path, sqlite_url, closed_port()))
    assert checks["port"][0] == Level.FAIL and "nothing answers" in checks["port"][1]
    assert checks["devices"][0] == Level.WARN
    assert checks["tls"][0] == Level.WARN and "plain HTTP" in checks["tls"][1]


@pytest.mark.slow
def test_tls_files_that_do_not_match(tmp_path: Path, sqlite_url: str) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    make_hospital_pki(tmp_path)
    open_database(sqlite_url).dispose()
    good = f'cert_file = "{tmp_path / "server.crt"}"\nkey_file = "{tmp_path / "server.key"}"\n'
    assert levels(write_config(tmp_path, sqlite_url, closed_port(), good))["tls"][0] == Level.OK
    wrong = f'cert_file = "{tmp_path / "server.crt"}"\nkey_file = "{tmp_path / "ca.key"}"\n'
    tls = levels(write_config(tmp_path, sqlite_url, closed_port(), wrong))["tls"]
    assert tls[0] == Level.FAIL and "not a certificate and its key" in tls[1]
    missing = f'cert_file = "{tmp_path / "nope.crt"}"\nkey_file = "{tmp_path / "server.key"}"\n'
    tls = levels(write_config(tmp_path, sqlite_url, closed_port(), missing))["tls"]
    assert tls[0] == Level.FAIL and "nope.crt" in tls[1]


def run_doctor(
    config: Path, server: bool, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`kiosk doctor` (or `doctor --server`) as its own process, as IT runs it."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "doctor", "--config", str(config), *args]
        + (["--server"] if server else []),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.mark.parametrize("server", [False, True], ids=["kiosk", "server"])
def test_a_database_path_it_cannot_use_is_one_line_not_a_traceback(
    tmp_path: Path, server: bool
) -> None:
    # A file where a directory should be: refused even to root (CI runs as root, so a
    # permission bit would not do). On a server, the kiosk doctor once died here.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    url = f"sqlite:///{blocker / 'data' / 'kiosk.db'}"
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndatabase_url = "{url}"\n', encoding="utf-8")
    result = run_doctor(config, server, "--database", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert "FAIL  database  cannot use" in result.stdout and "Not a directory" in result.stdout


@pytest.mark.parametrize("server", [False, True], ids=["kiosk", "server"])
def test_every_other_path_it_cannot_use_is_a_line_not_a_traceback(
    tmp_path: Path, server: bool
) -> None:
    # The database is fine; the token, the TLS files, the printer's device and the data
    # directory all lie under a file (ENOTDIR even for root).
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    open_database(url).dispose()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\nid = "kiosk-hall-1"\ndatabase_url = "{url}"\n'
        f'[printer]\nconnection = "file:{blocker}/lp0"\n'
        f'[server]\nurl = "https://127.0.0.1:{closed_port()}"\n'
        f'token_file = "{blocker}/token"\nca_file = "{blocker}/ca.crt"\n'
        f'database_url = "{url}"\nhost = "127.0.0.1"\nport = {closed_port()}\n'
        f'cert_file = "{blocker}/server.crt"\nkey_file = "{blocker}/server.key"\n',
        encoding="utf-8",
    )
    result = run_doctor(config, server, env={**os.environ, "KIOSK_DATA_DIR": str(blocker / "data")})
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed and all(str(blocker) in line or "nothing answers" in line for line in failed), (
        result.stdout
    )
    names = {line.split()[1] for line in failed}
    assert names == ({"tls", "port"} if server else {"server"}), result.stdout


def test_an_unreadable_system_config_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kiosk import config as config_module
    from kiosk.config import ConfigError, load_config

    hidden = tmp_path / "etc-kiosk" / "kiosk.toml"

    def refuse(self: Path, *args: object, **kwargs: object) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG_PATH", hidden)
    monkeypatch.setattr(Path, "exists", refuse)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config()
