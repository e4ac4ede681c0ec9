"""The built package, once per test session: `pip wheel` of this tree, as `make dist` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("hospital_queue_kiosk-*.whl")
    return built
