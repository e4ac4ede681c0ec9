"""Files that ship inside the package: the ticket and screen fonts, the example hospital seeds.

Found with importlib.resources, so a wheel installed anywhere (not only this source tree) has
them: a kiosk never depends on which fonts its system happens to have.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

_ASSETS = files("kiosk") / "assets"
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _path(resource: Traversable) -> Path:
    # An installed package is a directory: its files are used in place. From a zip they are
    # extracted once, for the life of the process.
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))


def font_file(name: str) -> Path:
    """A bundled font by file name, e.g. "DejaVuSans.ttf"."""
    resource = _ASSETS / "fonts" / name
    if not resource.is_file():
        raise FileNotFoundError(f"font {name} is not in the package (kiosk/assets/fonts)")
    return _path(resource)


def font_files() -> list[Path]:
    """Every bundled font (TrueType/OpenType), sorted by name."""
    fonts = (_ASSETS / "fonts").iterdir()
    return sorted(
        (_path(r) for r in fonts if r.name.lower().endswith((".ttf", ".otf"))),
        key=lambda p: p.name,
    )


def seed_names() -> list[str]:
    """The example hospitals shipped with the package (`kiosk seed NAME`)."""
    return sorted(
        r.name.removesuffix(".toml")
        for r in (_ASSETS / "seeds").iterdir()
        if r.name.endswith(".toml")
    )


def seed_file(name: str) -> Path:
    """A bundled seed file by name, with or without ".toml"."""
    resource = _ASSETS / "seeds" / f"{name.removesuffix('.toml')}.toml"
    if not resource.is_file():
        raise FileNotFoundError(f"no bundled seed file {name}; there are: {seed_names()}")
    return _path(resource)


EXAMPLE_SEEDS = "provincial-general-hospital"
