"""The core runs without a screen: no Qt in the queue engine, the printer or the sync code."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE_MODULES = [
    "kiosk.config",
    "kiosk.cli",
    "kiosk.queue.service",
    "kiosk.queue.db",
    "kiosk.queue.seeds",
    "kiosk.commands.queue",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_qt_and_no_http(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "heavy = ('PySide6', 'requests', 'fastapi', 'escpos')\n"
        "bad = sorted(m for m in heavy if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
