"""The staff screens' HTTP client: the nurse's counter and the waiting-room board.

Every call blocks (bounded by a timeout) and raises the sync client's typed errors:
`ServerUnreachable` when no answer came, `ServerRefused` when the server said no (its
`status` and `code` tell why, e.g. 409 `invalid_transition`). The Qt screens call these from
their worker threads only. One `StaffClient` per thread: a `requests.Session` is not shared.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from kiosk.config import Config
from server_sync.http import (
    ServerConnection,
    ServerRefused,
    ServerUnreachable,
    read_token,
)

log = logging.getLogger(__name__)

USER_AGENT = "hospital-queue-staff"
__all__ = [
    "DepartmentData",
    "EventsPage",
    "QueueData",
    "ServerRefused",
    "ServerUnreachable",
    "StaffClient",
    "StaffRefused",
    "TicketData",
    "new_request_id",
]


# The server's refusals carry its machine-readable `code` (e.g. invalid_transition).
StaffRefused = ServerRefused


def new_request_id() -> str:
    """An idempotency key for one "call next" (kept across its retries)."""
    return uuid.uuid4().hex


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(dt.UTC)


@dataclass(frozen=True)
class TicketData:
    """A ticket as the API shows it (only what the staff screens use)."""

    id: str
    department: str
    code: str
    priority: str | None
    status: str
    room: str | None
    call_count: int
    issued_at: dt.datetime
    queued_at: dt.datetime
    last_called_at: dt.datetime | None
    transferred_from: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> TicketData:
        issued = _time(data.get("issued_at")) or dt.datetime.now(dt.UTC)
        return cls(
            id=str(data["id"]),
            department=str(data["department"]),
            code=str(data["code"]),
            priority=data.get("priority") or None,
            status=str(data["status"]),
            room=data.get("room") or None,
            call_count=int(data.get("call_count") or 0),
            issued_at=issued,
            queued_at=_time(data.get("queued_at")) or issued,
            last_called_at=_time(data.get("last_called_at")),
            transferred_from=data.get("transferred_from") or None,
        )

    @property
    def recalls(self) -> int:
        """How many times it was called again after the first call."""
        return max(0, self.call_count - 1)


@dataclass(frozen=True)
class DepartmentData:
    code: str
    name_vi: str
    name_en: str
    prefix: str
    color: str
    rooms: list[str]
    waiting: int
    serving: int
    issued_today: int
    estimated_wait_minutes: int
    room_names_vi: dict[str, str] = field(default_factory=dict)
    room_names_en: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> DepartmentData:
        return cls(
            code=str(data["code"]),
            name_vi=str(data.get("name_vi") or data["code"]),
            name_en=str(data.get("name_en") or data.get("name_vi") or data["code"]),
            prefix=str(data.get("prefix") or ""),
            color=str(data.get("color") or "#1565C0"),
            rooms=[str(r) for r in data.get("rooms") or []],
            waiting=int(data.get("waiting") or 0),
            serving=int(data.get("serving") or 0),
            issued_today=int(data.get("issued_today") or 0),
            estimated_wait_minutes=int(data.get("estimated_wait_minutes") or 0),
            room_names_vi={str(k): str(v) for k, v in (data.get("room_names_vi") or {}).items()},
            room_names_en={str(k): str(v) for k, v in (data.get("room_names_en") or {}).items()},
        )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_vi

    def room_name(self, room: str, language: str) -> str:
        names = self.room_names_en if language == "en" else self.room_names_vi
        return names.get(room, room)


@dataclass(frozen=True)
class QueueData:
    department: str
    waiting: list[TicketData]  # in call order
    called: list[TicketData]  # most recent call first
    today: dict[str, int]
    cursor: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> QueueData:
        return cls(
            department=str(data["department"]),
            waiting=[TicketData.of(t) for t in data.get("waiting") or []],
            called=[TicketData.of(t) for t in data.get("called") or []],
            today={str(k): int(v) for k, v in (data.get("today") or {}).items()},
            cursor=int(data.get("cursor") or 0),
        )


@dataclass(frozen=True)
class EventsPage:
    events: list[dict[str, Any]]
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

    def departments(self) -> list[DepartmentData]:
        answer = self._request("GET", "/departments")
        return [DepartmentData.of(d) for d in answer.get("departments", [])]

    def queue(self, code: str) -> QueueData:
        return QueueData.of(self._request("GET", f"/departments/{code}/queue"))

    def events(
        self, after: int, wait: float = 0.0, department: str | None = None, limit: int = 500
    ) -> EventsPage:
        """The feed after `after`; waits up to `wait` seconds on the server for news."""
        params: dict[str, Any] = {"after": after, "wait": wait, "limit": limit}
        if department:
            params["department"] = department
        answer = self._request("GET", "/events", params=params, timeout=self.timeout + wait)
        return EventsPage(list(answer.get("events", [])), int(answer.get("cursor", after)))

    # -- counter actions -------------------------------------------------------------------

    def call_next(self, code: str, room: str, request_id: str) -> TicketData | None:
        """Call the next patient; retrying with the same `request_id` never calls two."""
        answer = self._request(
            "POST", f"/departments/{code}/call-next", json={"room": room, "request_id": request_id}
        )
        ticket = answer.get("ticket")
        return None if ticket is None else TicketData.of(ticket)

    def call(self, ticket_id: str, room: str) -> TicketData:
        return self._action(ticket_id, "call", {"room": room})

    def recall(self, ticket_id: str) -> TicketData:
        return self._action(ticket_id, "recall")

    def serve(self, ticket_id: str) -> TicketData:
        return self._action(ticket_id, "serve")

    def no_show(self, ticket_id: str) -> TicketData:
        return self._action(ticket_id, "no-show")

    def requeue(self, ticket_id: str) -> TicketData:
        return self._action(ticket_id, "requeue")

    def transfer(self, ticket_id: str, department: str) -> TicketData:
        """Send the patient to another department; answers the new waiting ticket there."""
        return self._action(ticket_id, "transfer", {"department": department})

    def _action(
        self, ticket_id: str, action: str, body: dict[str, Any] | None = None
    ) -> TicketData:
        answer = self._request("POST", f"/tickets/{ticket_id}/{action}", json=body)
        return TicketData.of(answer)
