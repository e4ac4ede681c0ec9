"""The kiosk's first screen loads no printing, migration, HTTP or SQLAlchemy code: Pillow, qrcode
and python-escpos load with the first ticket, tomlkit when a PIN is set, SQLAlchemy and the
queue service once the first screen is painted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds" / "provincial-general-hospital.toml"

PROBE = """
import json, sys
from kiosk.cli import main
code = main(sys.argv[1:])
later = ("PIL", "qrcode", "escpos", "yaml", "tomlkit", "alembic", "mako", "httpx", "uvicorn",
         "sqlalchemy", "kiosk.queue.service")
print(json.dumps([m for m in later if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.gui
def test_the_painted_department_grid_loads_no_printing_code(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'k.db'}"
    config = tmp_path / "kiosk.toml"
    config.write_text('[printer]\nconnection = "none"\n', encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

    def kiosk(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args, "--config", str(config), "--database", database],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
        return loaded

    kiosk("seed", str(SEEDS))
    shot = tmp_path / "home.png"
    assert kiosk("run", "--screenshot", str(shot)) == []
    assert shot.stat().st_size > 10_000


# `kiosk run` as systemd starts it, with a network printer and a server configured: when it
# says READY=1 (its department grid painted with the live counts), what has it loaded? Right
# after, how many objects has it frozen out of the garbage collector? Then, once the queue
# service is open (after that screen), it exits.
READY_PROBE = """
import gc, json, sys
from kiosk import systemd
from kiosk.cli import main

def say(*words):  # one write per line: the log lines of other threads never split it
    sys.stderr.write(" ".join(str(word) for word in words) + "\\n")

def notify(message):
    if message == "READY=1":
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        later = (
            "PIL", "qrcode", "escpos", "yaml", "requests", "server_sync.client", "alembic",
            "sqlalchemy", "kiosk.queue.models", "kiosk.queue.service",
        )
        say("loaded", json.dumps([m for m in later if m in sys.modules]))
        say("metadata", "importlib.metadata" in sys.modules)
        kiosk = [w for w in QApplication.topLevelWidgets() if hasattr(w, "pages_built")]
        say("pages", kiosk[0].stack.count() if kiosk else "?")

        def done():
            frozen = gc.get_freeze_count()
            say("frozen", frozen)
            say("pages", kiosk[0].stack.count() if kiosk else "?")

            def opened():  # then the queue service opens, and what it loaded is frozen too
                if "kiosk.queue.service" in sys.modules and gc.get_freeze_count() > frozen:
                    say("opened", gc.get_freeze_count())
                    QApplication.instance().exit(0)
                else:
                    QTimer.singleShot(10, opened)

            opened()

        QTimer.singleShot(0, done)
    return True

systemd.notify = notify
sys.exit(main(sys.argv[1:]))
"""


# The same, started as the `kiosk` console script starts it (kiosk/__main__.py): is the cyclic
# garbage collector paused until the first screen, and running again right after it?
COLLECTOR_PROBE = """
import gc, sys
from kiosk import systemd
from kiosk.__main__ import main

def say(*words):  # one write per line: the log lines of other threads never split it
    sys.stderr.write(" ".join(str(word) for word in words) + "\\n")

def notify(message):
    if message == "READY=1":
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        say("ready", gc.isenabled())

        def opened():
            if "kiosk.queue.service" in sys.modules and gc.get_freeze_count() > 0:
                say("after", gc.isenabled())
                QApplication.instance().exit(0)
            else:
                QTimer.singleShot(10, opened)

        QTimer.singleShot(0, opened)
    return True

systemd.notify = notify
sys.argv = ["kiosk", *sys.argv[1:]]
sys.exit(main())
"""


def _run_until_ready(tmp_path: Path, probe: str = READY_PROBE) -> subprocess.CompletedProcess[str]:
    return _start(_kiosk_run(tmp_path), tmp_path, probe)


def _kiosk_run(tmp_path: Path) -> list[str]:
    """`kiosk run` over a seeded store, with a network printer and a server (neither answers)."""
    from tests.support.kiosk import seeded_kiosk_store

    database, _ = seeded_kiosk_store(tmp_path)
    token = tmp_path / "token"
    token.write_text("t" * 40, encoding="utf-8")
    config = tmp_path / "run.toml"
    config.write_text(
        f'[printer]\nconnection = "network:127.0.0.1:9"\n'
        f'[server]\nurl = "http://127.0.0.1:9"\ntoken_file = "{token}"\n',
        encoding="utf-8",
    )
    return ["run", "--config", str(config), "--database", database]


def _start(command: list[str], tmp_path: Path, probe: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(tmp_path / "d")}
    return subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


@pytest.mark.gui
def test_kiosk_run_is_ready_before_loading_the_printer_the_http_stack_or_sqlalchemy(
    tmp_path: Path,
) -> None:
    """Over a store at Alembic's head, the grid's counts come through sqlite3: SQLAlchemy, the
    models and the queue service load after the first screen, with the printer and the sync."""
    done = _run_until_ready(tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("loaded ")]
    assert lines, done.stderr
    assert json.loads(lines[-1].removeprefix("loaded ")) == []
    assert any(line.startswith("opened ") for line in done.stderr.splitlines()), done.stderr


@pytest.mark.gui
def test_a_restarted_kiosk_builds_no_validator_before_its_first_screen(tmp_path: Path) -> None:
    """The first start validates the config and keeps its values; the next one paints its first
    screen from them (no pydantic validator built, no importlib.metadata) and validates the file
    again right after it, before it opens the store."""
    command = _kiosk_run(tmp_path)
    first = _start(command, tmp_path, READY_PROBE)
    assert first.returncode == 0, first.stderr
    assert "metadata True" in first.stderr.splitlines(), first.stderr
    second = _start(command, tmp_path, READY_PROBE)
    assert second.returncode == 0, second.stderr
    lines = second.stderr.splitlines()
    assert "metadata False" in lines, second.stderr
    assert any(line.startswith("opened ") for line in lines), second.stderr


@pytest.mark.gui
def test_kept_config_values_the_file_does_not_say_end_the_kiosk(tmp_path: Path) -> None:
    """Kept values edited by hand (the file's text left as it was): the first screen may show
    them for a moment, then the kiosk ends with the config error, and starts right again."""
    from kiosk.cli import EXIT_USAGE
    from kiosk.config import CHECKED_CONFIG_FILE

    command = _kiosk_run(tmp_path)
    assert _start(command, tmp_path, READY_PROBE).returncode == 0
    kept_file = tmp_path / "d" / CHECKED_CONFIG_FILE
    kept = json.loads(kept_file.read_text(encoding="utf-8"))
    kept["values"]["server"]["url"] = "http://127.0.0.1:10"
    kept_file.write_text(json.dumps(kept), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(tmp_path / "d")}
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "kept values differ from the file's" in done.stderr.splitlines()[-1]
    assert not kept_file.exists()
    again = _start(command, tmp_path, READY_PROBE)
    assert again.returncode == 0, again.stderr


@pytest.mark.gui
def test_kiosk_run_paints_its_home_page_first_and_builds_the_others_right_after(
    tmp_path: Path,
) -> None:
    """READY=1 with only the home page built; the other seven right after it (a tap meanwhile
    builds them itself: tests/ui/test_kiosk_taps.py)."""
    done = _run_until_ready(tmp_path)
    assert done.returncode == 0, done.stderr
    pages = [line for line in done.stderr.splitlines() if line.startswith("pages ")]
    assert pages[:2] == ["pages 1", "pages 8"], done.stderr


@pytest.mark.gui
def test_what_kiosk_run_made_before_its_first_screen_is_frozen_out_of_the_collector(
    tmp_path: Path,
) -> None:
    """A full collection would walk ~100,000 objects in some patient's tap; the kiosk freezes
    them once its first screen is up, and still exits cleanly."""
    done = _run_until_ready(tmp_path)
    assert done.returncode == 0, done.stderr
    frozen = [line for line in done.stderr.splitlines() if line.startswith("frozen ")]
    assert frozen, done.stderr
    assert int(frozen[-1].split()[1]) > 20_000


@pytest.mark.gui
def test_kiosk_run_collects_no_garbage_until_its_first_screen(tmp_path: Path) -> None:
    """Start-up makes ~100,000 lasting objects and next to no garbage: the collector would walk
    them ~80 times before the first screen. It is paused until then, and runs after it."""
    done = _run_until_ready(tmp_path, COLLECTOR_PROBE)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "ready False" in lines, done.stderr
    assert "after True" in lines, done.stderr


def test_every_other_command_runs_with_the_collector() -> None:
    code = (
        "import gc, sys\n"
        "import kiosk.commands.ops as ops\n"
        "ops.cmd_backup = lambda args: print('collector', gc.isenabled()) or 0\n"
        "from kiosk.__main__ import main\n"
        "sys.argv = ['kiosk', 'backup', 'k.db']\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["collector", "True"]


@pytest.mark.gui
def test_a_printer_profile_it_refuses_still_stops_kiosk_run(tmp_path: Path) -> None:
    """The printer loads after the first screen; a config it refuses ends `kiosk run` with the
    printer's exit status and its one-line message, as at start-up before."""
    from kiosk.cli import EXIT_PRINTER

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk",
            "run",
            "--config",
            str(_bad_profile_config(tmp_path)),
            "--database",
            _seeded(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_DATA_DIR": str(tmp_path / "d")},
        timeout=120,
    )
    assert done.returncode == EXIT_PRINTER, done.stderr
    assert "NO-SUCH-PRINTER" in done.stderr.splitlines()[-1]


def _seeded(tmp_path: Path) -> str:
    from tests.support.kiosk import seeded_kiosk_store

    database, _ = seeded_kiosk_store(tmp_path)
    return database


def _bad_profile_config(tmp_path: Path) -> Path:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[printer]\nconnection = "network:127.0.0.1:9"\nprofile = "NO-SUCH-PRINTER"\n',
        encoding="utf-8",
    )
    return config
