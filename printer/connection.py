"""`printer.connection` → a python-escpos printer object (unopened), and what to check on failure.

Forms: usb:VID:PID, network:HOST[:PORT], serial:DEVICE[:BAUD], file:PATH, cups:QUEUE, none,
preview[:DIR]. A printer object is made for each attempt: after one failure python-escpos's
object is broken (a second write raises a bare AssertionError).
"""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, Literal

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from printer.errors import PrinterError

Kind = Literal["usb", "network", "serial", "file", "cups", "none", "preview"]

DEFAULT_NETWORK_PORT = 9100
DEFAULT_BAUD = 9600
ANSWERING_KINDS = frozenset({"network", "serial", "usb"})


@dataclass(frozen=True)
class Connection:
    text: str  # as configured, for messages
    kind: Kind
    target: str = ""  # host, device, path, queue or preview directory
    number: int = 0  # network port or serial baud rate
    vendor: int = 0
    product: int = 0

    @property
    def can_answer(self) -> bool:
        """Whether the connection carries the printer's real-time status replies."""
        return self.kind in ANSWERING_KINDS

    @property
    def hint(self) -> str:
        """What to check when this connection fails: one clause for staff."""
        if self.kind == "network":
            return (
                f"check that the printer is switched on, its network cable, and that its IP "
                f"address is {self.target} and port {self.number} (print its self-test page)"
            )
        if self.kind == "usb":
            return (
                f"check the USB cable and power, that `lsusb` lists "
                f"{self.vendor:04x}:{self.product:04x}, and that the kiosk user may use it "
                "(group `lp`, the udev rule)"
            )
        if self.kind == "serial":
            return (
                f"check the cable, that {self.target} exists, the baud rate ({self.number}) and "
                "that the kiosk user is in the `dialout` group"
            )
        if self.kind == "file":
            return f"check that {self.target} exists and the kiosk user may write to it"
        if self.kind == "cups":
            return f"check `lpstat -p {self.target}` and that pycups is installed"
        if self.kind == "preview":
            return f"check that {self.target or 'the data directory'} is writable"
        return "set printer.connection in the config"


def parse_connection(text: str) -> Connection:
    """Parse a connection string (already validated by kiosk.config); PrinterError if bad."""
    kind, _, rest = text.partition(":")
    try:
        if kind == "none" and not rest:
            return Connection(text, "none")
        if kind == "preview":
            return Connection(text, "preview", rest)
        if kind == "network" and rest:
            host, _, port = rest.partition(":")
            number = int(port) if port else DEFAULT_NETWORK_PORT
            if not 0 < number < 65536:
                raise ValueError(port)
            return Connection(text, "network", host, number)
        if kind == "serial" and rest:
            device, _, baud = rest.partition(":")
            return Connection(text, "serial", device, int(baud) if baud else DEFAULT_BAUD)
        if kind == "usb" and rest:
            vendor, _, product = rest.partition(":")
            return Connection(text, "usb", rest, 0, int(vendor, 16), int(product, 16))
        if kind == "file" and rest:
            return Connection(text, "file", rest)
        if kind == "cups" and rest:
            return Connection(text, "cups", rest)
    except ValueError:
        pass
    raise PrinterError(
        f"printer.connection = {text!r} is not allowed; expected usb:VID:PID, "
        "network:HOST[:PORT], serial:DEVICE[:BAUD], file:PATH, cups:QUEUE, preview[:DIR] or none"
    )


class _Network(Network):  # type: ignore[misc]
    """python-escpos's Network, but a failed connect closes its socket (3.1 leaks it)."""

    _device: Any

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        self._device = None  # opened: not False any more, so nothing re-opens it lazily
        try:
            connected = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise DeviceNotFoundError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self._device = connected

    def bound_next_io(self, deadline: float) -> None:
        """The next socket read or write gives up at `deadline` (time.monotonic())."""
        if self._device:
            self._device.settimeout(max(0.01, deadline - time.monotonic()))

    def wait_taken(self, deadline: float) -> None:
        """Return once the printer's TCP stack has acknowledged every byte sent.

        A write returns as soon as the bytes are in the kernel's send buffer, which on a fast
        network holds a whole ticket; a printer that stopped reading mid-job is only seen in
        the bytes it never acknowledges. TimeoutError if some are still unacknowledged at
        `deadline`. Linux only (SIOCOUTQ); elsewhere it returns at once.
        """
        if not self._device or not sys.platform.startswith("linux"):
            return
        import fcntl
        import termios

        while True:
            unacknowledged = int.from_bytes(
                fcntl.ioctl(self._device.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"),
                sys.byteorder,
            )
            if unacknowledged == 0:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the printer stopped reading ({unacknowledged} bytes not taken)"
                )
            time.sleep(0.01)


def make_device(connection: Connection, profile: str, timeout: float) -> Any:
    """A new, unopened python-escpos printer for the connection; `timeout` bounds each I/O."""
    from escpos import printer as escpos_printer

    if connection.kind == "network":
        return _Network(connection.target, connection.number, timeout=timeout, profile=profile)
    if connection.kind == "serial":
        return escpos_printer.Serial(
            connection.target, baudrate=connection.number, timeout=timeout, profile=profile
        )
    if connection.kind == "usb":
        # Usb(timeout=0) would wait forever: always a bound, in milliseconds.
        return escpos_printer.Usb(
            connection.vendor,
            connection.product,
            timeout=max(1, int(timeout * 1000)),
            profile=profile,
        )
    if connection.kind == "file":
        return escpos_printer.File(connection.target, profile=profile)
    if connection.kind == "cups":
        if not escpos_printer.CupsPrinter.is_usable():
            raise PrinterError(
                f"printer {connection.text}: CUPS printing needs pycups, which is not installed; "
                "install it (pip install pycups) or connect the printer as usb: or network:"
            )
        return escpos_printer.CupsPrinter(connection.target, profile=profile)
    raise PrinterError(f"printer {connection.text}: no device to open")


def device_errors() -> tuple[type[BaseException], ...]:
    """What opening or writing a python-escpos device raises when the environment fails.

    pyusb's NoBackendError (libusb missing) is not an escpos error; python-escpos raises a bare
    AssertionError on a device that failed before, RuntimeError for a missing dependency.
    """
    from escpos.exceptions import Error as EscposError

    errors: list[type[BaseException]] = [EscposError, OSError, AssertionError, RuntimeError]
    try:
        import usb.core

        errors.append(usb.core.USBError)
        errors.append(usb.core.NoBackendError)
    except ImportError:  # pragma: no cover - pyusb is a dependency
        pass
    try:
        import serial

        errors.append(serial.SerialException)
    except ImportError:  # pragma: no cover - pyserial is a dependency
        pass
    return tuple(errors)


def describe_error(exc: BaseException) -> str:
    """An exception as one short line (python-escpos puts newlines in its messages)."""
    name = type(exc).__name__
    if name == "NoBackendError":
        return "libusb is missing (install the Debian package libusb-1.0-0)"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = " ".join(str(exc).split())
    if name == "DeviceNotFoundError" and "USB" in text:
        # python-escpos nests three messages saying the same; staff need the one fact.
        return "no such USB device (unplugged, switched off, or another VID:PID)"
    return f"{text} ({name})" if text else name
