"""Fullscreen on a real X server with no window manager (xinit straight into the app, as some
kiosk PCs run): nobody honours a fullscreen request there, so a window that only asks keeps
its size hint — the kiosk opened at 700x512 in the corner of a 1366x768 screen.

Real processes on a real Xvfb, read back with xwininfo; CI installs both (.ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint

from kiosk.queue.service import QueueService
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


def wait_for_x(display: str, server: subprocess.Popen[bytes]) -> None:
    """Until the X server answers a client (a busy machine may take a while)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"Xvfb on {display} exited ({server.returncode})"
        answer = subprocess.run(
            ["xwininfo", "-root"],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            check=False,
        )
        if answer.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"Xvfb on {display} did not answer within 60 s")


@contextmanager
def x_server(size: str) -> Iterator[str]:
    """An Xvfb on a free display number (it writes the number it took to the pipe)."""
    read_end, write_end = os.pipe()
    # -noreset: without it the server resets when its last client leaves, and a client
    # connecting at that moment is refused ("could not connect to display").
    command = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{size}x24"]
    server = subprocess.Popen(
        [*command, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        assert number, "Xvfb did not start"
        wait_for_x(f":{number}", server)
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


def run_on_x(
    display: str, command: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    x_env = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    with log.open("w") as out:
        return subprocess.Popen(command, env=x_env, stdout=out, stderr=subprocess.STDOUT)


def stop(app: subprocess.Popen[bytes]) -> None:
    app.terminate()
    try:
        app.wait(timeout=30)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait()


def geometry_of_first_window(
    display: str, app: subprocess.Popen[bytes], log: Path
) -> tuple[int, int, int, int]:
    """The app's biggest top-level window once it has one of at least 600x400 (its first
    mapped frame), within a generous time for a busy machine."""
    deadline = time.monotonic() + 90
    seen: list[tuple[int, int, int, int]] = []
    while time.monotonic() < deadline:
        assert app.poll() is None, f"the app exited: {log.read_text()}"
        seen = app_windows(display)
        if [w for w in seen if w[0] >= 600 and w[1] >= 400]:
            time.sleep(2)  # let a late resize land before judging
            return max(app_windows(display))
        time.sleep(0.5)
    raise AssertionError(f"no window within 90 s (windows: {seen}); log: {log.read_text()}")


def geometry_once_shown(
    display: str, command: list[str], env: dict[str, str], log: Path
) -> tuple[int, int, int, int]:
    app = run_on_x(display, command, env, log)
    try:
        return geometry_of_first_window(display, app, log)
    finally:
        stop(app)


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


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool (.ci/run installs it)")
def test_a_real_double_click_on_a_department_never_chooses_a_priority(
    qtbot: Any, make_window: Any, service: QueueService, database_url: str, tmp_path: Path
) -> None:
    """The ghost tap as a patient makes it, through the X server's own input path and real
    clocks: a double click at 50 and 150 ms on a department leaves the kiosk on the priority
    step with no ticket; one deliberate click after that, on the same spot, takes a ticket
    with no priority (the "not in a priority group" choice sits there)."""
    size = (1080, 1920)
    # Where the tiles are: the same window, fonts and departments laid out offscreen here.
    layout = make_window(size=size)
    points = {
        code: tile.mapTo(layout, tile.rect().center())
        for code, tile in layout.home.grid.buttons.items()
        if layout.home.grid.page_of(code) == layout.home.grid.page
    }
    layout.department_tapped("NOI")
    back_button = layout.priority.back_button
    back = back_button.mapTo(layout, back_button.rect().center())
    layout.go_home()
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "kiosk-real-clicks"\nfullscreen = true\n')
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data")}
    command = [*KIOSK, "run", "--config", str(config), "--database", database_url]
    database = database_url.removeprefix("sqlite:///")

    def tickets() -> list[tuple[str, str | None]]:
        with sqlite3.connect(database) as db:
            return list(db.execute("SELECT department_code, priority FROM tickets"))

    with x_server("1080x1920") as name:

        def click(point: QPoint, *options: str) -> None:
            at = ["mousemove", str(point.x()), str(point.y())]
            subprocess.run(
                ["xdotool", *at, "click", *options, "1"],
                env={**os.environ, "DISPLAY": name},
                check=True,
                timeout=30,
            )

        app = run_on_x(name, command, env, tmp_path / "kiosk.log")
        try:
            assert geometry_of_first_window(name, app, tmp_path / "kiosk.log") == (*size, 0, 0)
            time.sleep(2)  # the first screen's own guard and the grid's live counts
            for code, gap_ms in (("TIEPDON", 50), ("NOI", 150), ("TIEPDON", 150)):
                click(points[code], "--repeat", "2", "--delay", str(gap_ms))
                time.sleep(1.5)
                assert tickets() == [], f"a double click {gap_ms} ms apart on {code} took a ticket"
                click(back)  # the priority page's way back, long after its guard
                time.sleep(1.5)
            click(points["NOI"])
            time.sleep(1.5)  # the patient reads the priority page, then taps "none of these"
            click(points["NOI"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not tickets():
                time.sleep(0.5)
            assert tickets() == [("NOI", None)]
        finally:
            stop(app)
