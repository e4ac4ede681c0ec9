"""DeferredPrinter: the configured printer made on first use, once, and its refusals raised."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kiosk.config import parse_config
from printer.deferred import DeferredPrinter
from printer.errors import PrinterError


def test_made_once_on_first_use_from_any_thread(tmp_path: Path) -> None:
    config = parse_config({"printer": {"connection": "none"}})
    printer = DeferredPrinter(config.printer, data_dir=tmp_path)
    assert not printer.loaded
    made = []
    threads = [threading.Thread(target=lambda: made.append(printer.load())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(made) == 4 and all(p is made[0] for p in made)
    assert printer.loaded
    assert printer.status().can_issue


def test_a_profile_it_refuses_raises_on_first_use(tmp_path: Path) -> None:
    config = parse_config(
        {"printer": {"connection": "network:127.0.0.1:9", "profile": "NO-SUCH-PRINTER"}}
    )
    printer = DeferredPrinter(config.printer, data_dir=tmp_path)  # nothing checked yet
    with pytest.raises(PrinterError, match="NO-SUCH-PRINTER"):
        printer.load()
    assert not printer.loaded
