"""A TCP proxy on 127.0.0.1 that cuts connections at random points (the flaky hospital LAN).

Each connection gets a fate: pass everything, or cut after a random number of bytes in one
direction (in the middle of a request, or in the middle of a response), or reset at once.
A cut closes both sides with RST, as a dropped link or a restarting switch looks to TCP.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
from dataclasses import dataclass, field

PASS, CUT_REQUEST, CUT_RESPONSE, RESET = "pass", "cut_request", "cut_response", "reset"


@dataclass
class Fates:
    cut_request: int = 0
    cut_response: int = 0
    reset: int = 0
    connections: int = 0

    @property
    def faults(self) -> int:
        return self.cut_request + self.cut_response + self.reset


def _abort(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # shutdown wakes the other pump's blocked recv at once (close alone would wait for it).
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@dataclass
class FlakyProxy:
    upstream: tuple[str, int]
    seed: int = 1
    fault_rate: float = 0.6  # share of connections that get cut
    max_cut_bytes: int = 20_000
    fates: Fates = field(default_factory=Fates)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, name="flaky-proxy", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _fate(self) -> tuple[str, int]:
        with self._lock:
            self.fates.connections += 1
            if self._rng.random() >= self.fault_rate:
                return PASS, 0
            fate = self._rng.choice((CUT_REQUEST, CUT_RESPONSE, CUT_RESPONSE, RESET))
            return fate, self._rng.randint(0, self.max_cut_bytes)

    def _count(self, fate: str) -> None:
        with self._lock:
            setattr(self.fates, fate, getattr(self.fates, fate) + 1)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            fate, limit = self._fate()
            if fate == RESET:
                self._count(RESET)
                _abort(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _abort(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            cut = threading.Event()
            for source, sink, direction in (
                (client, upstream, CUT_REQUEST),
                (upstream, client, CUT_RESPONSE),
            ):
                budget = limit if fate == direction else None
                threading.Thread(
                    target=self._pump,
                    args=(source, sink, budget, direction, cut),
                    daemon=True,
                ).start()

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        budget: int | None,
        direction: str,
        cut: threading.Event,
    ) -> None:
        sent = 0
        try:
            while not cut.is_set():
                data = source.recv(4096)
                if not data:
                    break
                if budget is not None and sent + len(data) > budget:
                    sink.sendall(data[: budget - sent])
                    self._count(direction)
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            cut.set()
            _abort(source)
            _abort(sink)
            with self._lock:
                self._sockets.difference_update((source, sink))

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5)
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            _abort(sock)
