"""The `kiosk` command: as a process, and in this process."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

from kiosk.cli import main as cli_main

KIOSK = shutil.which("kiosk", path=str(Path(sys.executable).parent)) or "kiosk"


def main(argv: list[str]) -> int:
    """`kiosk ARGV` in this process, leaving the logging set-up as it found it."""
    logger = logging.getLogger("kiosk")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        return cli_main(argv)
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
