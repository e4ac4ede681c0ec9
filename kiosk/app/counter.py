"""The nurse's counter as a plain state machine: fed by events, it says what to show and send.

`CounterState` knows the department's queue, the patient called to this room, whether the
server answers and which request is in flight. The window (`kiosk/ui/counter_window.py`) feeds
it the snapshots, the feed's events, the connection's changes and the answers of the server,
renders `state` and runs the `Command`s it returns on its worker through a `CounterApi`
(`server_sync.staff.StaffClient`). No Qt, no HTTP: the tests drive it directly.

The server owns the rules: "call next" carries a request id and is sent again with the same id
after a lost answer, so a second patient is never called; a recall beyond `counter.max_recalls`
makes the ticket absent on the server, whichever counter sends it.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.wire import Department, FeedEvent, Queue, Ticket, TicketStatus

log = logging.getLogger(__name__)


class Action(enum.StrEnum):
    CALL_NEXT = "call_next"
    RECALL = "recall"
    NO_SHOW = "no_show"
    SERVE = "serve"
    TRANSFER = "transfer"
    CALL_SELECTED = "call_selected"


class Failure(enum.Enum):
    """Why a request to the server did not succeed (the window classifies the exception)."""

    UNREACHABLE = "unreachable"  # no answer: offline until the feed's poll is answered
    CONFLICT = "conflict"  # 409: the ticket changed meanwhile
    FORBIDDEN = "forbidden"  # 401/403: this counter's token
    NOT_FOUND = "not_found"  # 404
    REFUSED = "refused"  # any other answer of the server
    BUG = "bug"  # not the server's doing; logged with its traceback by the window


class Notice(enum.Enum):
    """The one-line messages of the counter; the window words them in its language."""

    NOBODY_WAITING = "nobody_waiting"
    CONNECTION_BACK = "connection_back"
    NOT_DONE_OFFLINE = "not_done_offline"
    CHANGED = "changed"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    SENT = "sent"  # code, department
    ABSENT = "absent"  # code, recalls: the server marked it absent after the last recall


@dataclass(frozen=True)
class Message:
    notice: Notice
    code: str = ""
    department: str = ""
    recalls: int = 0


class CounterApi(Protocol):
    """What the counter asks of the server (server_sync.staff.StaffClient); every call blocks."""

    def queue(self, code: str) -> Queue: ...

    def departments(self) -> list[Department]: ...

    def call_next(self, code: str, room: str, request_id: str) -> Ticket | None: ...

    def call(self, ticket_id: str, room: str) -> Ticket: ...

    def recall(self, ticket_id: str) -> Ticket: ...

    def serve(self, ticket_id: str) -> Ticket: ...

    def no_show(self, ticket_id: str) -> Ticket: ...

    def transfer(self, ticket_id: str, department: str) -> Ticket: ...


@dataclass(frozen=True)
class Command:
    """One request for the worker: `run` is the job, its answer goes back to `answered`."""

    action: Action
    department: str  # the counter's department
    room: str
    ticket_id: str = ""
    request_id: str = ""  # call next: the same id on every retry
    target: str = ""  # transfer: the department the patient goes to

    def run(self, api: CounterApi) -> Ticket | None:
        if self.action == Action.CALL_NEXT:
            return api.call_next(self.department, self.room, self.request_id)
        if self.action == Action.CALL_SELECTED:
            return api.call(self.ticket_id, self.room)
        if self.action == Action.RECALL:
            return api.recall(self.ticket_id)
        if self.action == Action.SERVE:
            return api.serve(self.ticket_id)
        if self.action == Action.NO_SHOW:
            return api.no_show(self.ticket_id)
        return api.transfer(self.ticket_id, self.target)


@dataclass(frozen=True)
class Snapshot:
    """The result of a refresh job: the queue and the departments, read together."""

    queue: Queue
    departments: list[Department]

    @classmethod
    def fetch(cls, api: CounterApi, code: str) -> Snapshot:
        return cls(api.queue(code), api.departments())


@dataclass
class Reaction:
    """What the window does after feeding the state one input."""

    message: Message | None = None
    refresh: bool = False  # fetch a fresh snapshot
    send: Command | None = None  # run this command (a call next sent again)
    lost: bool = False  # the server did not answer: tell the feed


def new_request_id() -> str:
    """An idempotency key for one "call next" (kept across its retries)."""
    return uuid.uuid4().hex


@dataclass
class CounterState:
    """One room of one department; `can`, `request`, then `answered` or `failed`."""

    department: str
    room: str
    max_recalls: int = 3
    departments: list[Department] = field(default_factory=list)
    queue: Queue | None = None
    current: Ticket | None = None
    waiting: list[Ticket] = field(default_factory=list)
    today: dict[str, int] = field(default_factory=dict)
    online: bool | None = None  # None until the server first answers
    busy: bool = False  # an action is in flight
    pending_call: str | None = None  # request id of a call next not yet answered

    def __post_init__(self) -> None:
        self.department = self.department.upper()

    # -- what comes in ----------------------------------------------------------------------

    def apply_snapshot(self, snapshot: Snapshot, feed_online: bool | None = None) -> Reaction:
        """A fresh queue: it replaces what was known (the feed says what changed since).
        It also means the server answers, unless the feed has just found it gone."""
        queue = snapshot.queue
        self.queue = queue
        self.departments = list(snapshot.departments)
        self.waiting = list(queue.waiting)
        self.today = dict(queue.today)
        mine = [t for t in queue.called if t.status == TicketStatus.CALLED and t.room == self.room]
        self._set_current(mine[0] if mine else None)
        if self.online is not True and feed_online is not False:
            return self.set_online(True)
        return Reaction()

    def feed(self, events: Sequence[FeedEvent]) -> Reaction:
        """News from the feed: the current ticket follows at once, the rest with a refresh."""
        for event in events:
            current = self.current
            if current is not None and event.ticket is not None and event.ticket.id == current.id:
                self._set_current(event.ticket)
        return Reaction(refresh=True)

    def set_online(self, online: bool) -> Reaction:
        was, self.online = self.online, online
        if not online:
            self.busy = False
            return Reaction()
        if was is False:
            log.info("counter %s/%s: server reachable again", self.department, self.room)
            return Reaction(
                message=Message(Notice.CONNECTION_BACK), refresh=True, send=self._pending()
            )
        return Reaction()

    # -- what goes out ----------------------------------------------------------------------

    def can(self, action: Action, selected: Ticket | None = None) -> bool:
        if self.online is not True or self.busy or self.pending_call is not None:
            return False
        if action == Action.CALL_NEXT:
            return self.current is None and bool(self.waiting)
        if action == Action.CALL_SELECTED:
            return self.current is None and selected is not None
        return self.current is not None

    def request(
        self, action: Action, selected: Ticket | None = None, target: str = ""
    ) -> Command | None:
        """The command for an action the nurse asked for, or None when it is not possible now
        (a transfer needs its `target`)."""
        if not self.can(action, selected):
            log.debug("action %s not possible now", action)
            return None
        if action == Action.CALL_NEXT:
            self.pending_call = new_request_id()
            return self._pending()
        if action == Action.CALL_SELECTED:
            assert selected is not None
            ticket_id = selected.id
        elif action == Action.TRANSFER and not target:
            return None
        else:
            assert self.current is not None
            ticket_id = self.current.id
        self.busy = True
        return Command(action, self.department, self.room, ticket_id=ticket_id, target=target)

    def answered(self, command: Command, ticket: Ticket | None) -> Reaction:
        """The server's answer to a command (None: call next found nobody)."""
        if command.action == Action.CALL_NEXT:
            if self.pending_call != command.request_id:
                return Reaction()  # an answer to a request given up on
            self.pending_call = None
            if ticket is None:
                return Reaction(message=Message(Notice.NOBODY_WAITING), refresh=True)
            log.info("counter %s/%s called %s", self.department, self.room, ticket.code)
            self._called(ticket)
            return Reaction(refresh=True)
        self.busy = False
        assert ticket is not None
        log.info("counter %s/%s: %s %s", self.department, self.room, command.action, ticket.code)
        message = None
        if command.action == Action.TRANSFER:
            self._set_current(None)
            message = Message(Notice.SENT, ticket.code, ticket.department)
        elif command.action == Action.RECALL and ticket.status == TicketStatus.NO_SHOW:
            self._set_current(None)
            message = Message(Notice.ABSENT, ticket.code, recalls=ticket.recalls)
        elif command.action == Action.CALL_SELECTED:
            self._called(ticket)
        else:
            self._set_current(ticket)
        return Reaction(message=message, refresh=True)

    def failed(self, command: Command | None, failure: Failure) -> Reaction:
        """A command (None: a refresh) that got no answer or a refusal."""
        if command is not None and command.action == Action.CALL_NEXT:
            if failure == Failure.UNREACHABLE:
                # Keep the request id: sent again, with the same id, once the server answers.
                log.warning("call next: no answer; will retry with the same id")
                return self._offline(message=None)
            self.pending_call = None
        elif command is not None:
            self.busy = False
        if failure == Failure.UNREACHABLE:
            return self._offline(None if command is None else Message(Notice.NOT_DONE_OFFLINE))
        notice = {
            Failure.CONFLICT: Notice.CHANGED,
            Failure.FORBIDDEN: Notice.NOT_ALLOWED,
            Failure.NOT_FOUND: Notice.NOT_FOUND,
        }.get(failure, Notice.FAILED)
        return Reaction(message=Message(notice), refresh=failure != Failure.BUG)

    # -- inside -----------------------------------------------------------------------------

    def transfer_targets(self) -> list[Department]:
        """Every department a patient can be sent to, in the hospital's order (the window
        shows them nine to a page, one per key 1-9)."""
        return [d for d in self.departments if d.code != self.department]

    def department_name(self, code: str, language: str) -> str:
        department = next((d for d in self.departments if d.code == code), None)
        return department.name(language) if department is not None else code

    def _pending(self) -> Command | None:
        if self.pending_call is None:
            return None
        return Command(Action.CALL_NEXT, self.department, self.room, request_id=self.pending_call)

    def _called(self, ticket: Ticket) -> None:
        self._set_current(ticket)
        self.waiting = [t for t in self.waiting if t.id != ticket.id]

    def _set_current(self, ticket: Ticket | None) -> None:
        self.current = (
            ticket if ticket is not None and ticket.status == TicketStatus.CALLED else None
        )

    def _offline(self, message: Message | None) -> Reaction:
        self.online = False
        self.busy = False
        return Reaction(message=message, lost=True)
