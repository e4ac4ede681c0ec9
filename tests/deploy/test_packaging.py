"""The package: what the wheel holds, what it declares, and the lock file the installer uses."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
import lock  # noqa: E402  (deploy/lock.py, a script)

OWN = {"kiosk", "printer", "server_sync"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]).lower()


def requires(wheel: Path) -> dict[str, set[str]]:
    """Requirement name → the extras it comes with ("" for the core)."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("Requires-Dist: "):
            spec = line.removeprefix("Requires-Dist: ")
            extra = re.search(r'extra == "([^"]+)"', spec)
            found.setdefault(_name(spec), set()).add(extra.group(1) if extra else "")
    return found


def test_fonts_and_seeds_are_inside_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf"):
        assert f"kiosk/assets/fonts/{font}" in names
    assert "kiosk/assets/fonts/LICENSE-DejaVu.txt" in names
    assert "kiosk/assets/seeds/provincial-general-hospital.toml" in names


def test_a_server_installs_without_qt_and_a_kiosk_without_psycopg(wheel: Path) -> None:
    found = requires(wheel)
    assert found["pyside6-essentials"] == {"kiosk"}
    assert found["psycopg"] == {"server"}
    assert found["fastapi"] == {"server"} and found["uvicorn"] == {"server"}
    assert found["python-escpos"] == {"kiosk"}
    assert found["pydantic"] == {""} and found["sqlalchemy"] == {""}


def test_every_directly_imported_package_is_declared(wheel: Path) -> None:
    imported: set[str] = set()
    for package in OWN:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module.split(".")[0])
    third_party = imported - OWN - set(sys.stdlib_module_names)
    distributions = importlib.metadata.packages_distributions()
    declared = set(requires(wheel))
    missing = {
        module: distributions.get(module)
        for module in third_party
        if not any(_name(d) in declared for d in distributions.get(module, []))
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_lock_file_is_current_and_pins_every_dependency() -> None:
    assert lock.check() == []
    pins = lock.pinned()
    assert all("==" not in v and v for v in pins.values())
    assert {"pyside6-essentials", "psycopg", "pydantic", "sqlalchemy"} <= set(pins)


def test_a_changed_dependency_makes_the_lock_stale(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"alembic>=1.13"', '"alembic>=1.14"'), encoding="utf-8")
    copy = tmp_path / "constraints.txt"
    shutil.copy(lock.LOCK, copy)
    (problem,) = lock.check(pyproject, copy)
    assert "stale" in problem and "make lock" in problem


@pytest.mark.parametrize(
    "name", ["provincial-general-hospital", "provincial-general-hospital.toml"]
)
def test_bundled_seeds_by_name(name: str) -> None:
    from kiosk.resources import seed_file, seed_names

    assert seed_file(name).is_file()
    assert "provincial-general-hospital" in seed_names()
