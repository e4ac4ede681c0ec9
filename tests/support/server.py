"""A real uvicorn on 127.0.0.1, requests with a role's token, a kiosk's sync client, waiting on a
condition.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from server_sync.client import SyncClient

ROLES = ("kiosk", "counter", "board", "admin")


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    """Wait for a condition (not for time): poll it until it holds or `timeout` passes.

    The timeouts are generous on purpose: a condition that holds returns at once, and a machine
    kept busy by other test runs must not turn a slow start into a failure."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        pause.wait(0.01)


def free_socket() -> socket.socket:
    """A bound, not yet listening socket on 127.0.0.1: connecting to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class LiveServer:
    app: FastAPI
    sock: socket.socket = field(default_factory=free_socket)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()
        return f"http://{host}:{port}"

    def start(self, timeout: float = 60.0) -> LiveServer:
        config = uvicorn.Config(
            self.app, log_config=None, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        server, thread = self.server, self.thread
        wait_until(lambda: server.started or not thread.is_alive(), timeout, "uvicorn to start")
        assert server.started, "uvicorn did not start"
        response = requests.get(f"{self.url}/api/v1/health", timeout=30)
        assert response.status_code == 200, response.text
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=15)
            assert not self.thread.is_alive(), "uvicorn did not stop"
        self.sock.close()


KIOSK_ORIGIN = "kiosk-hall-1"


def device_name(role: str) -> str:
    """The kiosk's device is named after its kiosk.id: it pushes only under that origin."""
    return KIOSK_ORIGIN if role == "kiosk" else f"{role}-1"


class Api:
    """requests with a role's token."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.http.get(f"{self.base}{path}", timeout=30, **kw)  # type: ignore[arg-type]

    def post(self, path: str, **kw: object) -> requests.Response:
        return self.http.post(f"{self.base}{path}", timeout=30, **kw)  # type: ignore[arg-type]


def sync_client(engine: Engine, url: str, token: str, origin: str = "kiosk-hall-1") -> SyncClient:
    return SyncClient(engine, base_url=url, token=token, origin=origin, timeout=30)
