"""Logging to stderr, readable in a terminal and in the systemd journal."""

from __future__ import annotations

import logging
import os
import sys

# sd-daemon(3): a "<N>" prefix on a stderr line sets its journal priority.
_JOURNAL_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


# Every module logs as `logging.getLogger(__name__)`: these are the roots of the product's names.
PRODUCT_LOGGERS = ("kiosk", "printer", "server_sync")


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        priority = _JOURNAL_PRIORITY.get(record.levelno, 6)
        # Every line of a traceback keeps the priority, so the journal shows it whole.
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines())


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is logged, not the one it was made
    with (a test's captured stream, long closed, would turn every later record into a
    "Logging error")."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(verbose: bool = False, long_running: bool = False) -> None:
    """The product's loggers (one per module, under `kiosk`, `printer` and `server_sync`) to
    stderr; journal priorities when systemd reads stderr.

    Services (run, server, board…) log what they do at INFO; one-shot commands only warn, so
    their stderr stays the one line that says what went wrong.
    """
    if any(getattr(h, "_kiosk", False) for h in logging.getLogger("kiosk").handlers):
        return
    handler = CurrentStderrHandler()
    handler._kiosk = True  # type: ignore[attr-defined]
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    level = logging.DEBUG if verbose else logging.INFO if long_running else logging.WARNING
    for name in PRODUCT_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
