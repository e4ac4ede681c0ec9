"""The import contracts of `make lint` are live: a deliberately wrong import breaks each one.

The contracts themselves (pyproject.toml, `[tool.importlinter]`) are checked by `make lint` on
the real tree; here each is broken on a copy of the tree, and `lint-imports` must say so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# contract id -> (module to add or extend, the wrong import)
WRONG_IMPORTS = {
    "engine": ("kiosk/queue/wrong.py", "import PySide6.QtCore"),
    "printer": ("printer/wrong.py", "import kiosk.queue.service"),
    "server": ("server_sync/server/wrong.py", "import printer.output"),
    "app": ("kiosk/app/wrong.py", "import PySide6.QtWidgets"),
    "screens": ("kiosk/ui/wrong.py", "import server_sync.server.routes"),
    "screens-sql": ("kiosk/ui/wrong.py", "import sqlalchemy"),
    "direct-issue": ("kiosk/queue/records.py", "import kiosk.queue.events"),
    "staff-screens": ("kiosk/ui/counter_window.py", "import kiosk.queue.service"),
    "leaves": ("kiosk/wire.py", "import kiosk.queue.models"),
    "roots": ("server_sync/wrong.py", "import kiosk.demo"),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the three packages and pyproject.toml, to break without touching the real one."""
    target = tmp_path_factory.mktemp("tree")
    for package in ("kiosk", "printer", "server_sync"):
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--no-cache"] + [f"--contract={c}" for c in contracts]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        args, cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_the_copied_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WRONG_IMPORTS)} kept, 0 broken" in result.stdout


@pytest.mark.parametrize("contract", sorted(WRONG_IMPORTS))
def test_a_wrong_import_breaks_the_contract(tree: Path, contract: str) -> None:
    relative, line = WRONG_IMPORTS[contract]
    path = tree / relative
    before = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text((before or "") + f"\n{line}  # deliberately wrong\n", encoding="utf-8")
    try:
        result = lint_imports(tree, contract)
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_text(before, encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout, result.stdout
    assert line.split()[-1].split(".")[0] in result.stdout
