"""TicketPrinter: status before issuing, and the ticket sent to the configured printer.

Every call blocks its caller, bounded by a timeout: status by `status_timeout` (~2 s), a print
by `printer.timeout_seconds`. The kiosk UI calls them from its worker thread; the CLI directly.
A new python-escpos object is made for every attempt and closed explicitly.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from kiosk.config import PrinterConfig, default_data_dir
from printer.connection import (
    Connection,
    describe_error,
    device_errors,
    make_device,
    parse_connection,
)
from printer.encoding import encode_compact, encode_raster, profile_info
from printer.errors import PrinterError, PrintFailed
from printer.status import (
    STATUS_OFFLINE_CAUSE,
    STATUS_PAPER,
    STATUS_PRINTER,
    PrinterState,
    PrinterStatus,
    interpret,
    request,
)
from printer.ticket import PAPER_DOTS, TicketContent, layout_ticket

log = logging.getLogger(__name__)

STATUS_TIMEOUT = 2.0
CHUNK_BYTES = 4096  # sent in pieces so no single write outlives the I/O timeout
# The sending thread decides by the deadline; the caller waits this much longer, so the two
# clocks never race (a print that just made it is not reported failed, nor the reverse).
CALLER_GRACE_SECONDS = 1.0


class TicketPrinterLike(Protocol):
    """What issuing needs of a printer: TicketPrinter, or a fake in the UI's tests."""

    def status(self) -> PrinterStatus: ...

    def print_ticket(self, image: Image.Image, content: TicketContent | None) -> None: ...


def save_png(image: Image.Image, path: Path) -> Path:
    """Write the ticket image as a small 1-bit PNG, atomically (temp file, then replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        image.convert("1").save(tmp, format="PNG", optimize=True)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class TicketPrinter:
    """The configured printer; raises PrinterError (one line for staff) when misconfigured."""

    def __init__(
        self,
        config: PrinterConfig,
        *,
        data_dir: Path | None = None,
        status_timeout: float = STATUS_TIMEOUT,
    ) -> None:
        self.config = config
        self.connection: Connection = parse_connection(config.connection)
        self.status_timeout = status_timeout
        self.paper_width_mm = config.paper_width_mm
        self.preview_dir: Path | None = None
        if self.connection.kind == "preview":
            target = self.connection.target
            base = data_dir or default_data_dir()
            self.preview_dir = Path(target) if target else base / "tickets"
        self.last_preview: Path | None = None
        self._answered = False  # the last status request got a reply
        if self.sends_escpos:
            profile_info(config.profile, config.paper_width_mm)  # refuses a bad profile

    @property
    def sends_escpos(self) -> bool:
        return self.connection.kind not in ("none", "preview")

    def __repr__(self) -> str:
        return f"TicketPrinter({self.connection.text!r}, {self.paper_width_mm} mm)"

    # -- status -------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT 1, 2, 4) where the connection can answer; else UNKNOWN."""
        kind = self.connection.kind
        if kind == "none":
            return PrinterStatus(PrinterState.UNKNOWN, "no printer (printer.connection = none)")
        if kind == "preview":
            return self._preview_status()
        if not self.connection.can_answer:
            return PrinterStatus(
                PrinterState.UNKNOWN, f"{self.connection.text} cannot report status"
            )
        device: Any = None
        errors = device_errors()
        replies: dict[int, bytes] = {}
        try:
            device = make_device(self.connection, self.config.profile, self.status_timeout)
            device.open()
        except PrinterError as exc:
            return PrinterStatus(PrinterState.ERROR, str(exc))
        except errors as exc:
            self._close(device)
            return PrinterStatus(
                PrinterState.OFFLINE,
                f"cannot connect: {describe_error(exc)}",
            )
        try:
            for n in (STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER):
                device._raw(request(n))
                reply = bytes(device._read() or b"")
                if not reply:
                    break
                replies[n] = reply[:1]
        except errors as exc:
            log.debug("status read from %s: %s", self.connection.text, describe_error(exc))
        finally:
            self._close(device)
        status = interpret(replies)
        self._answered = status.state != PrinterState.UNKNOWN
        log.debug("printer %s: %s", self.connection.text, status.detail)
        return status

    def _preview_status(self) -> PrinterStatus:
        assert self.preview_dir is not None
        target = self.preview_dir
        while not target.exists() and target != target.parent:
            target = target.parent
        if os.access(target, os.W_OK):
            return PrinterStatus(PrinterState.READY, f"preview: PNG files in {self.preview_dir}")
        return PrinterStatus(
            PrinterState.ERROR, f"preview: {self.preview_dir} is not writable ({target})"
        )

    # -- printing -----------------------------------------------------------------------

    def encode(self, image: Image.Image, content: TicketContent | None = None) -> bytes:
        """The ESC/POS job of a ticket in the configured encoding.

        With `content` the job is built from the ticket's blocks (printer/ticket.py keeps the
        static ones and their bytes; the image is the same blocks stacked); without it, from
        the image (raster only).
        """
        expected = PAPER_DOTS[self.paper_width_mm]
        if image.width != expected:
            raise PrinterError(
                f"the ticket image is {image.width} dots wide; printer.paper_width_mm = "
                f"{self.paper_width_mm} needs {expected}"
            )
        profile, paper = self.config.profile, self.paper_width_mm
        if content is None:
            return encode_raster(image, profile, paper)
        blocks = layout_ticket(content, paper)
        if self.config.encoding == "compact":
            return encode_compact(blocks, profile, paper)
        return encode_raster(blocks, profile, paper)

    def print_ticket(self, image: Image.Image, content: TicketContent | None = None) -> None:
        """Send one ticket; PrintFailed (one line for staff) if it fails or times out."""
        kind = self.connection.kind
        if kind == "none":
            log.info("no printer configured (printer.connection = none); ticket not printed")
            return
        if kind == "preview":
            self._preview(image, content)
            return
        try:
            job = self.encode(image, content)
        except PrinterError as exc:
            raise PrintFailed(str(exc)) from None
        self._send_bounded(job)
        log.info("printed %s (%d bytes) on %s", _code(content), len(job), self.connection.text)

    def _preview(self, image: Image.Image, content: TicketContent | None) -> None:
        assert self.preview_dir is not None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.preview_dir / f"ticket-{_code(content)}-{stamp}.png"
        try:
            save_png(image, path)
        except OSError as exc:
            raise PrintFailed(
                f"printer {self.connection.text}: cannot write {path} ({exc.strerror}); "
                f"{self.connection.hint}"
            ) from None
        self.last_preview = path
        log.info("ticket preview written to %s", path)

    def _send_bounded(self, job: bytes) -> None:
        """Send the job on a helper thread; give up after printer.timeout_seconds."""
        timeout = self.config.timeout_seconds
        done = threading.Event()
        outcome: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        thread = threading.Thread(
            target=self._send,
            args=(job, deadline, outcome, done),
            name="kiosk-printer",
            daemon=True,
        )
        thread.start()
        if not done.wait(timeout + CALLER_GRACE_SECONDS):
            # Closing the device unblocks a write stuck on a socket or serial port.
            self._close(outcome.get("device"))
            raise PrintFailed(
                f"printer {self.connection.text}: the ticket was not sent within {timeout:g} s; "
                f"{self.connection.hint}"
            )
        error = outcome.get("error")
        if error is not None:
            raise PrintFailed(error)

    def _send(
        self, job: bytes, deadline: float, outcome: dict[str, Any], done: threading.Event
    ) -> None:
        connection = self.connection
        network = connection.kind == "network"
        stage = "cannot open the printer"
        device: Any = None
        try:
            device = make_device(connection, self.config.profile, self.config.timeout_seconds)
            outcome["device"] = device
            device.open()
            stage = "printing stopped mid-ticket"
            for start in range(0, len(job), CHUNK_BYTES):
                if network:
                    device.bound_next_io(deadline)
                device._raw(job[start : start + CHUNK_BYTES])
            stage = "the printer did not take the ticket"
            if network:
                device.wait_taken(deadline)
            if self._answered and connection.can_answer:
                if network:
                    device.bound_next_io(deadline)
                self._confirm(device)
            closing, device = device, None
            closing.close()  # flushes a file, hands the job to CUPS, ends the TCP stream
        except PrinterError as exc:
            outcome["error"] = str(exc)
        except device_errors() as exc:
            outcome["error"] = (
                f"printer {connection.text}: {stage}: {describe_error(exc)}; {connection.hint}"
            )
        except Exception as exc:  # a bug: keep the traceback in the log, one line for staff
            log.exception("unexpected error while printing on %s", connection.text)
            outcome["error"] = f"printer {connection.text}: {stage}: {describe_error(exc)}"
        finally:
            try:
                self._close(device)
            finally:
                done.set()

    def _confirm(self, device: Any) -> None:
        """After the job, ask the printer (which answered before) whether it is still there.

        A printer that closed the connection mid-ticket or ran out of paper fails the print;
        silence (a busy printer) is not taken as failure.
        """
        replies: dict[int, bytes] = {}
        try:
            for n in (STATUS_PRINTER, STATUS_PAPER):
                device._raw(request(n))
                reply = bytes(device._read() or b"")
                if not reply and self.connection.kind == "network":
                    raise ConnectionError("the printer closed the connection")
                replies[n] = reply[:1]
        except Exception as exc:
            if isinstance(exc, TimeoutError) or type(exc).__name__ == "USBTimeoutError":
                log.debug("printer %s: no status after the job", self.connection.text)
                return
            raise
        status = interpret(replies)
        if status.state == PrinterState.PAPER_OUT:
            raise OSError(f"ran out of paper while printing ({status.detail})")

    @staticmethod
    def _close(device: Any) -> None:
        if device is None:
            return
        try:
            device.close()  # CUPS sends the job here; sockets and ports are released
        except device_errors() as exc:
            log.debug("closing the printer: %s", describe_error(exc))


def _code(content: TicketContent | None) -> str:
    return content.code if content is not None else "ticket"
