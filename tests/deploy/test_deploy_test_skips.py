"""`make deploy-test` (deploy/test/run.sh) skips only where systemd-nspawn cannot run, says
why, and under CI a skip is a failure. Run here as an unprivileged user: it must stop at its
first check, before touching the cache or booting anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "deploy" / "test" / "run.sh"


@pytest.fixture
def place() -> Iterator[Path]:
    # Under /tmp, not pytest's tmp_path (mode 0700): the unprivileged user must see the wheel.
    with tempfile.TemporaryDirectory(prefix="deploy-test-skip.") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


def run_unprivileged(place: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    wheel = place / "hospital_queue_kiosk-0.0.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    wheel.chmod(0o644)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEPLOY_TEST_CACHE": str(place / "cache"),
        **({"CI": "1"} if ci else {}),
    }
    command = ["bash", str(RUN), str(wheel)]
    if os.geteuid() == 0:  # CI runs as root: drop to nobody for this run
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is missing")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, env=env, cwd="/"
    )


def test_without_root_it_skips_and_says_why(place: Path) -> None:
    result = run_unprivileged(place, ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deploy-test: SKIPPED: needs root" in result.stdout
    assert not (place / "cache").exists()


def test_under_ci_a_skip_is_a_failure(place: Path) -> None:
    result = run_unprivileged(place, ci=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SKIPPED: needs root" in result.stdout and "CI must run it: failing" in result.stdout
