"""Fullscreen on a real X server with no window manager (xinit straight into the app, as some
kiosk PCs run): nobody honours a fullscreen request there, so a window that only asks keeps
its size hint — the kiosk opened at 700x512 in the corner of a 1366x768 screen.

Real processes on a real Xvfb, read back with xwininfo; CI installs both (.ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None or shutil.which("xwininfo") is None,
        reason="needs Xvfb and xwininfo (Debian: xvfb x11-utils; .ci/run installs them)",
    ),
]

KIOSK = [cli.KIOSK]
# A top-level window of the app: `0x400007 "title": ("kiosk" "hospital-queue-kiosk")  WxH+X+Y`
APP_WINDOW = re.compile(
    r'^\s*0x[0-9a-f]+ ".*": \("kiosk" "[^"]*"\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)'
)


@contextmanager
def x_server(size: str) -> Iterator[str]:
    """An Xvfb on a free display number (it writes the number it took to the pipe)."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(params=["1366x768", "1080x1920"])
def display(request: pytest.FixtureRequest) -> Iterator[tuple[str, tuple[int, int]]]:
    width, height = (int(n) for n in request.param.split("x"))
    with x_server(request.param) as name:
        yield name, (width, height)


def app_windows(display: str) -> list[tuple[int, int, int, int]]:
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    windows = []
    for match in filter(None, map(APP_WINDOW.match, tree.splitlines())):
        width, height, x, y = (int(n) for n in match.groups())
        windows.append((width, height, x, y))
    return windows


def geometry_once_shown(
    display: str, command: list[str], env: dict[str, str], log: Path
) -> tuple[int, int, int, int]:
    """The app's biggest top-level window once it has one the size of at least 600x400 (its
    first mapped frame), within a generous time for a busy machine."""
    x_env = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    with log.open("w") as out:
        app = subprocess.Popen(command, env=x_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        seen: list[tuple[int, int, int, int]] = []
        while time.monotonic() < deadline:
            assert app.poll() is None, f"the app exited: {log.read_text()}"
            seen = app_windows(display)
            shown = [w for w in seen if w[0] >= 600 and w[1] >= 400]
            if shown:
                time.sleep(2)  # let a late resize land before judging
                return max(app_windows(display))
            time.sleep(0.5)
        raise AssertionError(f"no window within 90 s (windows: {seen}); log: {log.read_text()}")
    finally:
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def test_the_kiosk_fills_a_bare_x_screen(
    display: tuple[str, tuple[int, int]], tmp_path: Path
) -> None:
    name, (width, height) = display
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "kiosk-bare-x"\nfullscreen = true\n')
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    command = [*KIOSK, "run", "--config", str(config), "--database", f"sqlite:///{tmp_path}/k.db"]
    assert geometry_once_shown(name, command, env, tmp_path / "kiosk.log") == (width, height, 0, 0)


def test_the_board_fills_a_bare_x_screen(
    display: tuple[str, tuple[int, int]], tmp_path: Path
) -> None:
    """The board with its server unreachable (it keeps running and says so)."""
    name, (width, height) = display
    (tmp_path / "token").write_text("board-token\n")
    config = tmp_path / "board.toml"
    config.write_text(
        f'[server]\nurl = "http://127.0.0.1:9"\ntoken_file = "{tmp_path}/token"\n'
        "allow_plain_http = true\n"
    )
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    command = [*KIOSK, "board", "--config", str(config)]
    assert geometry_once_shown(name, command, env, tmp_path / "board.log") == (width, height, 0, 0)
