"""The configured ticket printer, made when it is first needed rather than at start-up.

`printer.output` loads Pillow and python-escpos (with its printer profiles); the kiosk's first
screen needs neither, so `kiosk run` hands its window a `DeferredPrinter` and loads the real
one once that screen is painted. Importing this module loads nothing heavy.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

    from kiosk.config import PrinterConfig
    from printer.output import TicketPrinter
    from printer.status import PrinterStatus
    from printer.ticket import TicketContent


class DeferredPrinter:
    """A `TicketPrinterLike` that makes its `TicketPrinter` on the first `load()`, `status()`
    or `print_ticket()`, once, from whichever thread asks first. A config the printer refuses
    raises `PrinterError` from that call, as `TicketPrinter(...)` itself would."""

    def __init__(self, config: PrinterConfig, *, data_dir: Path | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self._printer: TicketPrinter | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._printer is not None

    def load(self) -> TicketPrinter:
        with self._lock:
            if self._printer is None:
                from printer.output import TicketPrinter

                self._printer = TicketPrinter(self.config, data_dir=self.data_dir)
            return self._printer

    def status(self) -> PrinterStatus:
        return self.load().status()

    def print_ticket(self, image: Image.Image, content: TicketContent | None) -> None:
        self.load().print_ticket(image, content)

    def __repr__(self) -> str:
        return f"DeferredPrinter({self.config.connection!r}, loaded={self.loaded})"
