"""Errors any part of the kiosk may raise to the command line (no Qt, no database here)."""

from __future__ import annotations

from pathlib import Path


class OutputNotWritten(OSError):
    """A file the user asked for (a screenshot, a ticket PNG) could not be written: the command
    says which and why in one line, instead of a traceback."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
