"""A printer on 127.0.0.1: records what it is sent and answers DLE EOT like a real printer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.printer import PrinterPeer


@pytest.fixture
def peer() -> Iterator[Callable[..., PrinterPeer]]:
    """A factory: peer(mode="paper_out", close_after=5000)."""
    made: list[PrinterPeer] = []

    def make(
        mode: str = "online",
        close_after: int | None = None,
        stop_reading_after: int | None = None,
    ) -> PrinterPeer:
        server = PrinterPeer(mode, close_after, stop_reading_after)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()
