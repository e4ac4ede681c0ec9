"""`kiosk server` serves HTTPS itself; kiosks verify it against the hospital's CA file."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from server_sync.client import ServerUnreachable, SyncClient
from tests.support.database import SEED_FILE
from tests.support.server import wait_until
from tests.support.tls import make_hospital_pki

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    make_hospital_pki(tmp_path)
    port = free_port()
    config = tmp_path / "server.toml"
    config.write_text(
        f'[server]\ncert_file = "{tmp_path / "server.crt"}"\n'
        f'key_file = "{tmp_path / "server.key"}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "KIOSK_CONFIG": str(config), "KIOSK_DATA_DIR": str(tmp_path / "data")}
    kiosk = [sys.executable, "-m", "kiosk"]
    subprocess.run(
        [
            *kiosk,
            "seed",
            str(SEED_FILE),
            "--database",
            f"sqlite:///{tmp_path / 'data' / 'server.db'}",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    added = subprocess.run(
        [*kiosk, "server", "add-device", "kiosk-hall-1", "--role", "kiosk"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    token = added.stdout.strip().splitlines()[-1]
    process = subprocess.Popen(
        [*kiosk, "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"https://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, process.stderr and process.stderr.read()
        try:
            requests.get(f"{url}/api/v1/health", verify=str(tmp_path / "ca.crt"), timeout=30)
        except requests.ConnectionError:
            return False
        return True

    try:
        wait_until(answers, timeout=30, what="the HTTPS server")
        yield url, token, tmp_path / "ca.crt"
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_kiosk_verifies_the_server_with_the_hospital_ca(
    https_server: tuple[str, str, Path], tmp_path: Path
) -> None:
    from kiosk.queue.db import open_database

    url, token, ca = https_server
    engine = open_database(f"sqlite:///{tmp_path / 'kiosk.db'}")
    trusted = SyncClient(engine, base_url=url, token=token, origin="kiosk-hall-1", ca_file=str(ca))
    assert trusted.probe()["status"] == "ok"
    trusted.close()

    # Without the hospital CA the server's certificate is not trusted: no data is sent.
    stranger = SyncClient(engine, base_url=url, token=token, origin="kiosk-hall-1")
    with pytest.raises(ServerUnreachable, match=r"CERTIFICATE_VERIFY_FAILED"):
        stranger.probe()
    stranger.close()
    engine.dispose()
