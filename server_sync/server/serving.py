"""`kiosk server` under systemd: READY=1 once the port is bound and answering.

kiosk-server.service is `Type=notify`, so `systemctl start` returns (and units ordered after it
start) only when the server really listens — not when its process merely exists.
"""

from __future__ import annotations

import logging
import socket

import uvicorn

from kiosk import systemd

log = logging.getLogger("kiosk.server")


class NotifyingServer(uvicorn.Server):
    """A uvicorn server that tells systemd READY=1 after its startup and STOPPING=1 at its end.

    One process here. With several worker processes the master must say READY=1 only once
    every worker listens: call `announce_ready()` from there instead, when the last one is up.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.announce_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        systemd.notify("STOPPING=1")
        await super().shutdown(sockets=sockets)

    def announce_ready(self, workers: int = 1) -> None:
        where = f"{self.config.host}:{self.config.port}"
        status = f"listening on {where}" + (f" with {workers} workers" if workers > 1 else "")
        if systemd.notify(f"READY=1\nSTATUS={status}"):
            log.info("told systemd: ready, %s", status)
