"""The central server inside another program: uvicorn on a thread, on 127.0.0.1.

`kiosk demo` runs it next to its windows, and the screen tests and the board benchmark use it
to talk to a real server over real HTTP. It can be stopped and started again on the same port
(a server that "goes away" and comes back).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class EmbeddedServer:
    """uvicorn serving `app` on a thread; `port` stays the same across stop() and start()."""

    def __init__(
        self,
        app: FastAPI | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        factory: Callable[[], FastAPI] | None = None,
    ) -> None:
        self.app = app  # may be set after the port is known (the app's config names the URL)
        # A new app for every start(): an app's feed notifier belongs to one event loop, and
        # each start runs a new loop (a restarted server is a new process in real life).
        self.factory = factory
        self.host = host
        self._sock: socket.socket | None = bind_socket(host, port)
        self.port = int(self._sock.getsockname()[1])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 20.0) -> EmbeddedServer:
        if self.factory is not None:
            self.app = self.factory()
        if self.app is None:
            raise RuntimeError("no application to serve")
        if self._sock is None:
            self._sock = bind_socket(self.host, self.port)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=1,
            server_header=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._sock]}, name="server", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while not server.started and thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url} in {timeout} s")
            pause.wait(0.01)
        if not server.started:
            raise RuntimeError(f"the server could not start on {self.url}")
        log.info("server listening on %s", self.url)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving and free the port (start() binds it again)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the server on %s did not stop within %.0f s", self.url, timeout)
        self._server = self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
