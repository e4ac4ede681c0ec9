"""The waiting-room board as a plain state: the latest calls, the counts, the connection.

`BoardState` is fed the departments and queues the board loads, the events of the feed and the
connection's changes; it answers which calls to show (newest first, each once) and which ones
to announce. The window (`kiosk/ui/board_window.py`) draws it, highlights and announces. No Qt,
no HTTP: the tests drive it directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.wire import Department, FeedEvent, Queue, Ticket

# The events that put a number on the board (and say it aloud).
CALL_EVENTS = frozenset({"ticket.called", "ticket.recalled"})


@dataclass(frozen=True)
class Call:
    ticket_id: str
    code: str
    department: str
    room: str
    at: dt.datetime
    priority: str | None = None

    @classmethod
    def of(cls, ticket: Ticket) -> Call:
        return cls(
            ticket_id=ticket.id,
            code=ticket.code,
            department=ticket.department,
            room=ticket.room or "",
            at=ticket.last_called_at or ticket.issued_at,
            priority=ticket.priority,
        )


class BoardApi(Protocol):
    """What the board reads from the server (server_sync.staff.StaffClient); calls block."""

    def departments(self) -> list[Department]: ...

    def queue(self, code: str) -> Queue: ...


@dataclass(frozen=True)
class BoardLoad:
    """The result of a load job: the departments and the queues of the shown ones."""

    departments: list[Department]
    queues: list[Queue]

    @classmethod
    def fetch(cls, api: BoardApi, only: Sequence[str]) -> BoardLoad:
        departments = api.departments()
        codes = [d.code for d in departments if not only or d.code in only]
        return cls(departments, [api.queue(code) for code in codes])

    @property
    def cursor(self) -> int:
        """Where the feed takes over: no queue read here is older than that position."""
        return min((q.cursor for q in self.queues), default=0)


@dataclass
class BoardState:
    """The board of the whole hall (`only` empty) or of some departments."""

    only: list[str] = field(default_factory=list)
    history: int = 6  # how many calls are shown, the newest included
    departments: list[Department] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # newest first
    online: bool | None = None

    def __post_init__(self) -> None:
        self.only = [code.upper() for code in self.only]

    def loaded(self, load: BoardLoad) -> None:
        """The recent calls from the queues (nothing is announced), and the counts."""
        self.departments = list(load.departments)
        called = [t for q in load.queues for t in q.called if t.last_called_at is not None]
        called.sort(key=lambda t: t.last_called_at or t.issued_at, reverse=True)
        self.calls = [Call.of(t) for t in called[: self.history]]

    def feed(self, events: Sequence[FeedEvent]) -> list[Call]:
        """The calls and recalls among the events, each put on top; they are to be announced."""
        shown: list[Call] = []
        for event in events:
            ticket = event.ticket
            if event.type not in CALL_EVENTS or ticket is None:
                continue
            if self.only and ticket.department not in self.only:
                continue
            call = Call.of(ticket)
            self.calls = [c for c in self.calls if c.ticket_id != call.ticket_id]
            self.calls.insert(0, call)
            del self.calls[self.history :]
            shown.append(call)
        return shown

    def set_online(self, online: bool) -> bool:
        """Whether to load again: the server answers after it was lost."""
        was, self.online = self.online, online
        return online and was is False

    def shown_codes(self) -> list[str]:
        codes = [d.code for d in self.departments]
        return [c for c in codes if c in self.only] if self.only else codes

    def counted(self) -> list[Department]:
        """The departments in the side panel: those shown, and of the whole hall only those
        with patients today (when any has)."""
        codes = self.shown_codes()
        shown = [d for d in self.departments if d.code in codes]
        busy = [d for d in shown if d.waiting or d.serving or d.issued_today]
        return busy if busy and not self.only else shown

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def room_text(self, call: Call, language: str) -> str:
        """The room's name ("Phòng khám 101", "Quầy 2"), as the board shows it and says it;
        its code when the department does not name it."""
        department = self.department(call.department)
        if department is not None:
            return department.room_name(call.room, language)
        return call.room
