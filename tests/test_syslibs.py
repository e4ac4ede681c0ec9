"""`make run` checks Qt's system libraries first and names the apt-get line for what is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kiosk import syslibs

ROOT = Path(__file__).resolve().parent.parent


def test_the_missing_xcb_libraries_make_one_install_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian 12 with a desktop lacks the xcb extras: every one is named, not only the first
    (Qt's own abort names libxcb-cursor0 alone)."""
    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    monkeypatch.setattr(syslibs, "loadable", lambda soname: soname not in absent)
    assert syslibs.main(["--platform", "xcb"]) == 1
    said = capsys.readouterr().err
    lines = [line.strip() for line in said.splitlines() if "apt-get install" in line]
    assert lines == [
        "sudo apt-get install -y --no-install-recommends "
        "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    ]
    assert syslibs.main(["--platform", "offscreen"]) == 0  # offscreen needs none of them
    assert capsys.readouterr().err == ""


def test_every_library_of_the_notes_is_checked() -> None:
    packages = set(syslibs.PLATFORMS["xcb"].values())
    assert {
        "libxcb-cursor0",
        "libxcb-icccm4",
        "libxcb-image0",
        "libxcb-keysyms1",
        "libxcb-render-util0",
        "libxcb-render0",
        "libxcb-shape0",
        "libxcb-util1",
        "libxcb-xkb1",
        "libxkbcommon-x11-0",
        "libegl1",
        "libgl1",
        "libfontconfig1",
        "libxkbcommon0",
    } <= packages
    # The README and CI name them all too.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for package in packages:
        assert package in readme, package
        assert package in ci, package


def test_the_platform_follows_the_session() -> None:
    assert syslibs.platform_in_use({"DISPLAY": ":0"}) == "xcb"
    assert syslibs.platform_in_use({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}) == "wayland"
    assert syslibs.platform_in_use({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}) == "offscreen"
    assert syslibs.platform_in_use({}) == "offscreen"


def test_this_machine_has_what_the_offscreen_tests_use() -> None:
    assert syslibs.missing_packages("offscreen") == []


def test_make_run_checks_before_the_demo() -> None:
    plan = subprocess.run(
        ["make", "-n", "run", "STAMP=pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    check = next(i for i, line in enumerate(plan) if "-m kiosk.syslibs" in line)
    demo = next(i for i, line in enumerate(plan) if "kiosk demo" in line)
    assert check < demo
