"""`kiosk server` device commands, its plain-HTTP guard, and `kiosk sync --once`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from kiosk.queue.db import read_session
from kiosk.queue.models import Device
from kiosk.queue.service import QueueService
from server_sync.server.devices import hash_token
from tests.support.cli import main
from tests.support.server import LiveServer


def test_device_commands(
    database_url: str, server_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "server",
                "add-device",
                "counter-p101",
                "--role",
                "counter",
                "--database",
                database_url,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1]
    assert len(token) >= 43 and " " not in token
    with read_session(server_engine) as session:
        device = session.scalars(select(Device).where(Device.name == "counter-p101")).one()
        assert device.token_hash == hash_token(token) and token not in device.token_hash
    assert (
        main(
            ["server", "add-device", "counter-p101", "--role", "board", "--database", database_url]
        )
        == 2
    )
    assert "exists already" in capsys.readouterr().err

    assert main(["server", "list-devices", "--database", database_url]) == 0
    listing = capsys.readouterr().out
    assert "counter-p101" in listing and "active" in listing and token not in listing

    assert main(["server", "revoke-device", "counter-p101", "--database", database_url]) == 0
    capsys.readouterr()
    assert main(["server", "list-devices", "--database", database_url]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["server", "revoke-device", "nobody", "--database", database_url]) == 2


def test_server_refuses_plain_http_beyond_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["server", "--host", "0.0.0.0", "--database", url]) == 2
    assert "allow_plain_http" in capsys.readouterr().err


def test_sync_once_prints_what_moved(
    live: LiveServer,
    tokens: dict[str, str],
    kiosk_engine: Engine,
    kiosk_service: QueueService,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kiosk_service.issue("NOI")
    token_file = tmp_path / "token"
    token_file.write_text(tokens["kiosk"] + "\n", encoding="utf-8")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[kiosk]\nid = "kiosk-hall-1"\n[server]\nurl = "{live.url}"\n'
        f'token_file = "{token_file}"\n',
        encoding="utf-8",
    )
    database = kiosk_engine.url.render_as_string()
    assert main(["sync", "--once", "--config", str(config), "--database", database]) == 0
    out = capsys.readouterr().out
    # The kiosk's own event does not come back to it through the feed.
    assert "pushed 1 new" in out and "pulled 0 events" in out


def test_a_kiosk_device_is_bound_to_its_origin_and_block(
    database_url: str, server_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["server", "add-device", "kiosk-hall-2", "--role", "kiosk", "--database", database_url]
    assert main([*args, "--numbering-offset", "500", "--block-size", "500"]) == 0
    capsys.readouterr()
    with read_session(server_engine) as session:
        device = session.scalars(select(Device).where(Device.name == "kiosk-hall-2")).one()
        # Named after its kiosk.id: the device's name is the origin it may push under.
        assert (device.origin, device.numbering_offset, device.block_size) == (
            "kiosk-hall-2",
            500,
            500,
        )
    assert main(["server", "list-devices", "--database", database_url]) == 0
    assert "kiosk-hall-2 501–1000" in capsys.readouterr().out
