"""The system libraries Qt's platform plugins need, checked before Qt is loaded.

A missing one makes Qt abort with a message that names only the first (and only for xcb);
`python -m kiosk.syslibs` instead prints every missing Debian package on one
`apt-get install` line and exits 1 (`make run` runs it before the demo). No Qt is imported:
each library is loaded by its soname with ctypes, as the dynamic linker would find it.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Callable, Iterable, Sequence

# soname -> Debian 12 package, per Qt platform (the PySide6 wheels' plugins; found with ldd
# on libqoffscreen.so and libqxcb.so in a fresh debootstrap).
OFFSCREEN = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libX11.so.6": "libx11-6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}
XCB = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
WAYLAND = {"libwayland-cursor.so.0": "libwayland-cursor0"}
PLATFORMS: dict[str, dict[str, str]] = {
    "offscreen": OFFSCREEN,
    "xcb": {**OFFSCREEN, **XCB},
    "wayland": {**OFFSCREEN, **WAYLAND},
}


def loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def platform_in_use(environ: dict[str, str] | None = None) -> str:
    """The Qt platform the screens will use: QT_QPA_PLATFORM, else what the session offers."""
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if chosen:
        return chosen
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    if env.get("DISPLAY"):
        return "xcb"
    return "offscreen"


def missing_packages(platform: str, can_load: Callable[[str], bool] | None = None) -> list[str]:
    """The Debian packages whose libraries `platform` needs and this machine lacks."""
    check = can_load or loadable
    needed = PLATFORMS.get(platform, OFFSCREEN)
    return sorted({package for soname, package in needed.items() if not check(soname)})


def install_line(packages: Iterable[str]) -> str:
    return "sudo apt-get install -y --no-install-recommends " + " ".join(packages)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kiosk.syslibs",
        description="Check the system libraries of Qt's platform plugin before starting Qt.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--platform",
        choices=sorted(PLATFORMS),
        help="default: QT_QPA_PLATFORM, else wayland/xcb when a display is set, else offscreen",
    )
    args = parser.parse_args(argv)
    platform = args.platform or platform_in_use()
    missing = missing_packages(platform)
    if not missing:
        return 0
    sys.stderr.write(
        f"Qt's {platform} platform needs system libraries this machine lacks "
        f"({', '.join(missing)}). Install them with:\n  {install_line(missing)}\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
