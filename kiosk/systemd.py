"""The systemd readiness and watchdog protocol, without a C library (sd_notify(3)).

A notification is one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET; an "@" prefix
names an abstract socket. Under cage, systemd's WATCHDOG_PID is cage's PID, not ours, so it is
deliberately not checked; `NotifyAccess=all` in the unit lets our messages count.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def _address(raw: str) -> str | bytes:
    return b"\0" + raw[1:].encode() if raw.startswith("@") else raw


def notify(message: str) -> bool:
    """Send `message` (e.g. "READY=1", "WATCHDOG=1", "STATUS=…") to systemd if it listens."""
    raw = os.environ.get("NOTIFY_SOCKET")
    if not raw:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(_address(raw))
            sock.sendall(message.encode())
        return True
    except OSError as exc:
        log.warning("cannot notify systemd at %s: %s", raw, exc)
        return False


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec=), or None without a watchdog."""
    raw = os.environ.get("WATCHDOG_USEC")
    if not raw or not os.environ.get("NOTIFY_SOCKET"):
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not a number", raw)
        return None
    return usec / 1_000_000 / 2 if usec > 0 else None
