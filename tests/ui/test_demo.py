"""`kiosk demo`: the whole product in one process, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def kiosk(
    args: list[str], data: Path, timeout: float = 90, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KIOSK_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("KIOSK_CONFIG", None)
    if config is not None:
        env["KIOSK_CONFIG"] = str(config)
    return subprocess.run(
        [_kiosk_bin(), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _kiosk_bin() -> str:
    return str(Path(sys.executable).with_name("kiosk"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_opens_server_kiosk_counter_and_board_and_quits(tmp_path: Path) -> None:
    """On the fixed port of its config (the tickets' QR links stay valid after the demo);
    the tests choose a free one."""
    port = free_port()
    config = tmp_path / "kiosk.toml"
    config.write_text(f"[server]\nport = {port}\n", encoding="utf-8")
    result = kiosk(["demo", "--quit-after", "4"], tmp_path, config=config)
    assert result.returncode == 0, result.stderr
    assert f"server listening on http://127.0.0.1:{port}" in result.stderr
    assert "demo ready" in result.stderr
    assert "Traceback" not in result.stderr
    # A fresh directory per demo, with both databases and the kiosk's token.
    (run,) = (tmp_path / "demo").iterdir()
    assert {"server.db", "kiosk.db", "kiosk.token"} <= {p.name for p in run.iterdir()}
    again = kiosk(["demo", "--quit-after", "1"], tmp_path, config=config)
    assert again.returncode == 0, again.stderr
    assert f"server listening on http://127.0.0.1:{port}" in again.stderr
    assert len(list((tmp_path / "demo").iterdir())) == 2


def test_a_busy_demo_port_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kiosk(["demo", "--port", str(port), "--quit-after", "1"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr and "[server] port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_screenshots_of_the_three_screens(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    result = kiosk(["demo", "--screenshot", str(shots)], tmp_path / "data")
    assert result.returncode == 0, result.stderr
    sizes = {
        "demo-kiosk.png": (1080, 1920),
        "demo-counter.png": (1366, 768),
        "demo-board.png": (1920, 1080),
        "counter-1366x768.png": (1366, 768),
        "board-1920x1080.png": (1920, 1080),
        "board-1080x1920.png": (1080, 1920),
    }
    for name, size in sizes.items():
        with Image.open(shots / name) as image:
            assert image.size == size, name
    # The scripted morning printed its tickets with the preview printer.
    assert list((tmp_path / "data").glob("demo/*/tickets/ticket-B*.png"))
    assert "propagateSizeHints" not in result.stderr
