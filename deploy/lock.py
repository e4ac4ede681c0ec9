"""Write or check deploy/constraints.txt: the exact versions every kiosk and server installs.

    python deploy/lock.py           resolve pyproject.toml's dependencies (core, `kiosk` and
                                    `server` extras) in a fresh virtual environment and pin them
    python deploy/lock.py --check   exit 1 if pyproject.toml's dependencies changed since

The file records a hash of the dependency lists it was made from, so CI can tell a stale lock
without resolving anything (new releases would make a fresh resolution differ every day).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "deploy" / "constraints.txt"
EXTRAS = ("kiosk", "server")
HASH_PREFIX = "# pyproject-dependencies-sha256: "


def requirements(pyproject: Path = PYPROJECT) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(r for extra in EXTRAS for r in extras.get(extra, []))]


def spec_hash(pyproject: Path = PYPROJECT) -> str:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    spec = {
        "requires-python": project.get("requires-python"),
        "dependencies": project["dependencies"],
        **{extra: extras.get(extra, []) for extra in EXTRAS},
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def pinned(lock: Path = LOCK) -> dict[str, str]:
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version.strip()
    return pins


def check(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> list[str]:
    """What is wrong with the lock file; empty when it is current."""
    if not lock.is_file():
        return [f"{lock} is missing: run `make lock`"]
    recorded = next(
        (
            line.removeprefix(HASH_PREFIX).strip()
            for line in lock.read_text(encoding="utf-8").splitlines()
            if line.startswith(HASH_PREFIX)
        ),
        None,
    )
    problems = []
    if recorded != spec_hash(pyproject):
        problems.append(
            f"{lock.name} is stale: pyproject.toml's dependencies changed since "
            "it was made; run `make lock` and commit it"
        )
    pins = pinned(lock)
    problems += [
        f"{_name(r)} is not pinned in {lock.name}: run `make lock`"
        for r in requirements(pyproject)
        if _name(r) not in pins
    ]
    return problems


def generate(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> None:
    with tempfile.TemporaryDirectory(prefix="kiosk-lock-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("\n".join(requirements(pyproject)) + "\n", encoding="utf-8")
        pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run([*pip, "install", "-r", str(reqs)], check=True)
        frozen = subprocess.run(
            [*pip, "freeze"], check=True, capture_output=True, text=True
        ).stdout.splitlines()
    version = ".".join(map(str, sys.version_info[:2]))
    header = [
        "# The exact versions a kiosk or a server installs (deploy/install-kiosk.sh uses it as",
        "# pip's constraints file), so every PC of a hospital runs the same code.",
        f"# Made by `make lock` from pyproject.toml (core, extras {' and '.join(EXTRAS)}) with",
        f"# Python {version} on Linux; CI fails when pyproject.toml changed since. Do not edit.",
        f"{HASH_PREFIX}{spec_hash(pyproject)}",
    ]
    pins = sorted((line for line in frozen if "==" in line), key=str.lower)
    tmp_lock = lock.with_suffix(".tmp")
    tmp_lock.write_text("\n".join([*header, *pins]) + "\n", encoding="utf-8")
    tmp_lock.replace(lock)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--check", action="store_true", help="only check that it is current")
    args = parser.parse_args()
    if args.check:
        problems = check()
        for problem in problems:
            print(f"lock: {problem}", file=sys.stderr)  # noqa: T201
        return 1 if problems else 0
    generate()
    print(f"wrote {LOCK.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
