"""`make i18n` keeps every finished translation of `vi.ts`, and the .qm it builds translates.

pyside6-lupdate finds a string only as a literal in a `translate("Context", "English")` call
(`QCoreApplication.translate`, `self.text.translate`, …); one reached through an alias
(`say = text.translate`) or a variable is not found, and `-no-obsolete` then drops its
Vietnamese from the file. This runs the Makefile's own lupdate line on a copy of `vi.ts` and
fails on any translation it would drop or change.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QTranslator

from kiosk.ui.i18n import I18N_DIR

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VI_TS = I18N_DIR / "vi.ts"

Messages = dict[tuple[str, str], tuple[str, str | None]]


def i18n_commands() -> list[list[str]]:
    """The `i18n` target's commands, as `make i18n` runs them (with this venv's tools)."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").split("\n")
    start = next(n for n, line in enumerate(lines) if line.startswith("i18n:"))
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = []
        for arg in shlex.split(line.strip().replace("$(BIN)", str(BIN))):
            # The shell's globbing, as make runs it.
            command += (
                sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(arg)) if "*" in arg else [arg]
            )
        commands.append(command)
    return commands


def messages(path: Path) -> Messages:
    """(context, English) -> (Vietnamese, translation type: None when finished)."""
    found: Messages = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            found[(name, message.findtext("source", ""))] = (
                translation.text or "",
                translation.get("type"),
            )
    return found


def run_i18n(tmp_path: Path) -> tuple[Path, Path]:
    """`make i18n` on copies: the committed .ts and .qm stay as they are."""
    ts, qm = tmp_path / "vi.ts", tmp_path / "vi.qm"
    ts.write_bytes(VI_TS.read_bytes())
    replace = {"kiosk/ui/i18n/vi.ts": str(ts), "kiosk/ui/i18n/vi.qm": str(qm)}
    commands = i18n_commands()
    assert [Path(c[0]).name for c in commands] == ["pyside6-lupdate", "pyside6-lrelease"]
    for command in commands:
        subprocess.run(
            [replace.get(arg, arg) for arg in command],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
    return ts, qm


def test_make_i18n_keeps_every_finished_translation(tmp_path: Path) -> None:
    before = messages(VI_TS)
    finished = {key: text for key, (text, kind) in before.items() if text and kind is None}
    assert len(finished) > 100  # the file is what it claims to be
    ts, qm = run_i18n(tmp_path)
    after = messages(ts)
    lost = sorted(key for key in finished if key not in after)
    changed = sorted(
        key for key, text in finished.items() if key in after and after[key] != (text, None)
    )
    assert not lost, f"make i18n drops these translations (not found in the sources): {lost}"
    assert not changed, f"make i18n changes these translations: {changed}"

    translator = QTranslator()
    assert translator.load(str(qm))
    assert translator.translate("Counter", "Call next") == finished[("Counter", "Call next")]
    assert (
        translator.translate("Kiosk", "Tap the department you need")
        == (finished[("Kiosk", "Tap the department you need")])
    )
    # The committed .qm is the one the .ts builds.
    assert qm.read_bytes() == (I18N_DIR / "vi.qm").read_bytes()
