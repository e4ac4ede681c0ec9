"""The staff screens' HTTP client: the nurse's counter and the waiting-room board.

Every call blocks (bounded by a timeout) and raises the sync client's typed errors:
`ServerUnreachable` when no answer came, `ServerRefused` when the server said no (its
`status` and `code` tell why, e.g. 409 `invalid_transition`). The Qt screens call these from
their worker threads only. One `StaffClient` per thread: a `requests.Session` is not shared.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import requests
from pydantic import ValidationError

from kiosk.config import Config
from kiosk.wire import Department, FeedEvent, Model, Queue, Ticket, read_items
from server_sync.http import (
    ServerConnection,
    ServerRefused,
    ServerUnreachable,
    read_token,
)

log = logging.getLogger(__name__)

USER_AGENT = "hospital-queue-staff"
__all__ = [
    "Department",
    "EventsPage",
    "FeedEvent",
    "Queue",
    "ServerRefused",
    "ServerUnreachable",
    "StaffClient",
    "StaffRefused",
    "Ticket",
    "new_request_id",
]


# The server's refusals carry its machine-readable `code` (e.g. invalid_transition).
StaffRefused = ServerRefused


def new_request_id() -> str:
    """An idempotency key for one "call next" (kept across its retries)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class EventsPage:
    events: list[FeedEvent]  # those that could be read; the others were skipped and logged
    cursor: int


class StaffClient:
    """A counter's or a board's connection to the central server."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        ca_file: str | None = None,
        timeout: float = 5.0,
        http: requests.Session | None = None,
    ) -> None:
        self.connection = ServerConnection(
            base_url,
            token,
            who="this screen",
            user_agent=USER_AGENT,
            ca_file=ca_file,
            timeout=timeout,
            http=http,
        )
        self.base_url = self.connection.base_url
        self.timeout = timeout
        self.http = self.connection.http

    @classmethod
    def from_config(cls, config: Config, *, token: str | None = None) -> StaffClient:
        server = config.server
        if token is None:
            token = read_token(server)
        return cls(
            server.url,
            token,
            ca_file=server.ca_file or None,
            timeout=min(server.timeout_seconds, 10.0),
        )

    def copy(self) -> StaffClient:
        """Another client to the same server with the same token (for another thread)."""
        return StaffClient(
            self.base_url,
            self.connection.token,
            ca_file=self.connection.ca_file,
            timeout=self.timeout,
        )

    def close(self) -> None:
        self.connection.close()

    # -- HTTP ------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, timeout: float | None = None, **kw: Any
    ) -> dict[str, Any]:
        answer = self.connection.request(method, f"/api/v1{path}", timeout=timeout, **kw)
        if not isinstance(answer, dict):
            raise ServerRefused(200, "the answer is not a JSON object")
        return answer

    # -- reading ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def departments(self) -> list[Department]:
        answer = self._request("GET", "/departments")
        return read_items(Department, answer.get("departments"), "the departments")

    def queue(self, code: str) -> Queue:
        return self._read(Queue, self._request("GET", f"/departments/{code}/queue"))

    def events(
        self,
        after: int,
        wait: float = 0.0,
        department: str | None = None,
        limit: int = 500,
        types: Collection[str] = (),
    ) -> EventsPage:
        """The feed after `after`; waits up to `wait` seconds on the server for news. With
        `types`, only events of those types, and the wait ends (with none) when the cursor
        moved past others."""
        params: dict[str, Any] = {"after": after, "wait": wait, "limit": limit}
        if department:
            params["department"] = department
        if types:
            params["type"] = sorted(types)
        answer = self._request("GET", "/events", params=params, timeout=self.timeout + wait)
        events = read_items(FeedEvent, answer.get("events"), "the feed's events")
        cursor = answer.get("cursor", after)
        return EventsPage(events, cursor if isinstance(cursor, int) else after)

    # -- counter actions -------------------------------------------------------------------

    def call_next(self, code: str, room: str, request_id: str) -> Ticket | None:
        """Call the next patient; retrying with the same `request_id` never calls two."""
        answer = self._request(
            "POST", f"/departments/{code}/call-next", json={"room": room, "request_id": request_id}
        )
        ticket = answer.get("ticket")
        return None if ticket is None else self._read(Ticket, ticket)

    def call(self, ticket_id: str, room: str) -> Ticket:
        return self._action(ticket_id, "call", {"room": room})

    def recall(self, ticket_id: str) -> Ticket:
        return self._action(ticket_id, "recall")

    def serve(self, ticket_id: str) -> Ticket:
        return self._action(ticket_id, "serve")

    def no_show(self, ticket_id: str) -> Ticket:
        return self._action(ticket_id, "no-show")

    def requeue(self, ticket_id: str) -> Ticket:
        return self._action(ticket_id, "requeue")

    def transfer(self, ticket_id: str, department: str) -> Ticket:
        """Send the patient to another department; answers the new waiting ticket there."""
        return self._action(ticket_id, "transfer", {"department": department})

    def _action(self, ticket_id: str, action: str, body: dict[str, Any] | None = None) -> Ticket:
        answer = self._request("POST", f"/tickets/{ticket_id}/{action}", json=body)
        return self._read(Ticket, answer)

    @staticmethod
    def _read(model: type[Model], answer: Any) -> Model:
        """One answer read whole; one the server should never send is a refusal, not a crash."""
        try:
            return model.read(answer)
        except ValidationError as exc:
            log.warning("the server's answer is not a %s: %s", model.__name__, exc)
            raise ServerRefused(200, f"the answer is not a readable {model.__name__}") from None
