"""A printer on 127.0.0.1: records what it is sent and answers DLE EOT like a real printer."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.printer.escpos_stream import parse_one

# Replies to DLE EOT 1 (printer), 2 (offline cause), 4 (paper): fixed bits 0x12 plus flags.
REPLIES: dict[str, dict[int, int]] = {
    "online": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    "silent": {},
}


@dataclass
class PrinterPeer:
    """mode: a key of REPLIES; close_after: drop the connection after that many job bytes;
    stop_reading_after: after that many job bytes, read and answer nothing until `close`."""

    mode: str = "online"
    close_after: int | None = None
    stop_reading_after: int | None = None
    jobs: list[bytes] = field(default_factory=list)  # one per connection that sent ESC @
    status_requests: list[int] = field(default_factory=list)
    done: threading.Condition = field(default_factory=threading.Condition)
    connections: int = 0

    def __post_init__(self) -> None:
        self.released = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        if self.stop_reading_after is not None:
            # A small receive window (inherited by accepted sockets): what the printer does
            # not read stays in the sender's queue, as with a printer's small buffer.
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def connection(self) -> str:
        return f"network:127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        at = 0
        job = False
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                buffer += chunk
                while at < len(buffer):
                    command = parse_one(buffer, at)
                    if command is None:
                        break
                    if command.name == "init":
                        job = True
                    if command.name == "status":
                        self.status_requests.append(command.argument)
                        reply = REPLIES[self.mode].get(command.argument)
                        if reply is not None:
                            conn.sendall(bytes((reply,)))
                    at += command.length
                if job and self.close_after is not None and len(buffer) >= self.close_after:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                stop_at = self.stop_reading_after
                if job and stop_at is not None and len(buffer) >= stop_at:
                    self.released.wait(60)
                    break
        with self.done:
            self.connections += 1
            if job:
                self.jobs.append(buffer)
            self.done.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self.done:
            return self.done.wait_for(predicate, timeout)

    def close(self) -> None:
        """Stop listening (shutdown wakes the accept loop; close alone would not on Linux)."""
        self.released.set()
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5)
