"""Fuzzing the command line: `kiosk` with bad arguments or a bad config never prints a
traceback; it answers with a usage message or one line, and a non-zero exit.

Each case runs the real console script in a subprocess (a few dozen cases, bounded): every case
carries at least one bad ingredient, so no generated command starts a long-running program.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KIOSK = Path(sys.executable).with_name("kiosk")
ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [
    "seed",
    "issue",
    "report",
    "backup",
    "doctor",
    "print-test",
    "server",
    "sync",
    "run",
    "set-pin",
    "counter",
    "board",
    "demo",
]
BAD_DATABASES = [
    "notaurl",
    "sqlite:////proc/no-such-dir/kiosk.db",
    "postgresql+psycopg://kiosk:kiosk@127.0.0.1:1/none",
    "mysql://kiosk@127.0.0.1:1/none",
    "",
]
BAD_OPTIONS = [
    ["--bogus"],
    ["--port", "eighty"],
    ["--date", "2026-13-40"],
    ["--format", "xml"],
    ["--priority", "nobody"],
    ["--role", "king"],
    ["--size", "0x-1"],
    ["--language", "fr"],
    ["--screen", "nowhere"],
    ["--quit-after", "soon"],
    ["--department"],
]
CONFIGS = {
    "not_toml": "[kiosk\nid = ",
    "bad_value": "[kiosk]\nidle_seconds = 1\n",
    "unknown_key": "[printer]\nconection = 'none'\n",
    "not_utf8": b"[hospital]\nname = '\xff\xfe'\n",
    "valid": "[printer]\nconnection = 'none'\n",
}
NAME = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)


# Well-formed commands that open a database: only the --database value is wrong.
DATABASE_COMMANDS = [
    ["issue", "NOI"],
    ["report"],
    ["seed", str(ROOT / "seeds" / "provincial-general-hospital.toml")],
    ["sync", "--once"],
    ["server"],
    ["server", "list-devices"],
    ["server", "add-device", "kiosk-9", "--role", "kiosk"],
]


@st.composite
def database_cases(draw: st.DrawFn) -> tuple[list[str], str]:
    command = draw(st.sampled_from(DATABASE_COMMANDS))
    return [*command, "--database", draw(st.sampled_from(BAD_DATABASES[:-1]))], "valid"


@st.composite
def argument_cases(draw: st.DrawFn) -> tuple[list[str], str]:
    command = draw(st.sampled_from(COMMANDS) | NAME.filter(lambda n: not n.startswith("-")))
    args = [command]
    args += draw(st.lists(NAME | st.sampled_from(["NOI", "KHAM", "P101", "-v"]), max_size=2))
    config = draw(st.sampled_from(sorted(CONFIGS)))
    bad_args = draw(st.lists(st.sampled_from(BAD_OPTIONS), max_size=2))
    if command in ("seed", "issue", "report", "server", "sync") and draw(st.booleans()):
        bad_args.append(["--database", draw(st.sampled_from(BAD_DATABASES))])
    if config == "valid" and not bad_args:
        bad_args.append(draw(st.sampled_from(BAD_OPTIONS)))
    for option in bad_args:
        args += option
    return args, config


def run_kiosk(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The console script, bounded: a case that would start a long-running program fails
    the test in CASE_SECONDS instead of hanging the suite."""
    try:
        return subprocess.run(
            [str(KIOSK), *args],
            capture_output=True,
            text=True,
            timeout=CASE_SECONDS,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"kiosk {args} did not end within {CASE_SECONDS} s")


CASE_SECONDS = 45


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--screen", "X"],
        ["run", "--screen", "home", "--screens", "X"],
        ["counter", "--dep", "NOI", "--room", "101"],
        ["server", "add-device", "k", "--rol", "kiosk"],
    ],
)
def test_options_are_never_taken_from_an_abbreviation(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data"), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("KIOSK_CONFIG", None)
    done = run_kiosk(args, env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unrecognized arguments" in done.stderr or "required" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # `--screen X` wrote nothing


@pytest.mark.slow
@pytest.mark.timeout(30 * CASE_SECONDS)
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=database_cases() | argument_cases())
def test_bad_command_lines_never_print_a_traceback(
    tmp_path: Path, case: tuple[list[str], str]
) -> None:
    args, config_kind = case
    config = tmp_path / "kiosk.toml"
    content = CONFIGS[config_kind]
    config.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    env = {
        **os.environ,
        "KIOSK_CONFIG": str(config),
        "KIOSK_DATA_DIR": str(tmp_path / "data"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONWARNINGS": "error",
    }
    work = tmp_path / "cwd"
    work.mkdir(exist_ok=True)
    done = run_kiosk(args, env, work)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, f"kiosk {args} (config {config_kind}):\n{output}"
    if "-h" not in args and "--help" not in args:
        assert done.returncode != 0, f"kiosk {args} (config {config_kind}) succeeded:\n{output}"
        # `doctor` reports its checks on stdout, one FAIL line per fault; a bad command line
        # (doctor's too) and every other command say why on stderr.
        said = bool(done.stderr.strip()) or (
            args[:1] == ["doctor"] and "\nFAIL" in f"\n{done.stdout}"
        )
        assert said, f"kiosk {args}: failed without saying why:\n{output}"
