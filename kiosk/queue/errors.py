"""Typed errors of the queue engine; the UI and the API turn each into words for people."""

from __future__ import annotations

from collections.abc import Iterable


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says what to check."""


class SeedError(Exception):
    """The seeds file cannot be used; one line naming the entry and the problem."""


class QueueError(Exception):
    """A request the queue cannot honour; the message is for staff and logs."""

    code = "queue_error"


class UnknownDepartment(QueueError):
    code = "unknown_department"

    def __init__(self, department: str, valid: Iterable[str]) -> None:
        self.department = department
        self.valid = sorted(valid)
        super().__init__(
            f"unknown department {department!r}; valid codes: {', '.join(self.valid) or '(none)'}"
        )


class UnknownRoom(QueueError):
    """A room that is not one of the department's (active) rooms."""

    code = "unknown_room"

    def __init__(self, department: str, room: str, valid: Iterable[str]) -> None:
        self.department = department
        self.room = room
        self.valid = sorted(valid)
        super().__init__(
            f"unknown room {room!r} for department {department}; "
            f"valid rooms: {', '.join(self.valid) or '(none: add rooms to the seeds file)'}"
        )


class UnknownTicket(QueueError):
    code = "unknown_ticket"

    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket with id {ticket_id!r}")


class UnknownPriority(QueueError):
    code = "unknown_priority"

    def __init__(self, reason: str, valid: Iterable[str]) -> None:
        self.reason = reason
        self.valid = list(valid)
        super().__init__(f"unknown priority reason {reason!r}; allowed: {', '.join(self.valid)}")


class DepartmentUnavailable(QueueError):
    """The department takes no new tickets now (inactive, paused by staff, or full today)."""

    code = "department_unavailable"

    def __init__(self, department: str, why: str) -> None:
        self.department = department
        self.why = why  # "inactive", "paused" or "full"
        super().__init__(f"department {department} is not taking tickets: {why}")


class InvalidTransition(QueueError):
    code = "invalid_transition"

    def __init__(self, ticket_code: str, status: str, action: str, allowed_from: Iterable[str]):
        self.ticket_code = ticket_code
        self.status = status
        self.action = action
        self.allowed_from = sorted(allowed_from)
        super().__init__(
            f"cannot {action} ticket {ticket_code}: it is {status}; "
            f"{action} is allowed only from {' or '.join(self.allowed_from)}"
        )


class DuplicateNumber(QueueError):
    """Two issuers gave the same number: a numbering.offset misconfiguration. Never merged."""

    code = "duplicate_number"

    def __init__(self, department: str, service_date: str, number: int, holder_origin: str):
        self.department = department
        super().__init__(
            f"number {number} of {department} on {service_date} was already issued by "
            f"{holder_origin}; give each kiosk its own numbering.offset"
        )


class RequestIdReused(QueueError):
    """A "call next" request id sent again for another department: a client bug."""

    code = "request_id_reused"

    def __init__(self, request_id: str, department: str) -> None:
        self.request_id = request_id
        super().__init__(f"request id {request_id} was used for department {department}")


class StorageFull(QueueError):
    """The database's disk is full: nothing new can be committed until space is freed.

    Everything committed before stays intact (the failed transaction is rolled back).
    """

    code = "storage_full"

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"the disk holding the database is full ({where}); nothing was issued. "
            "Free space on it (old logs, ticket previews) and try again; "
            "tickets already issued are safe"
        )


class IssuingOnHold(QueueError):
    """A store that may be behind the server (restored, or new) issues nothing until it has
    moved its counters past the server's high-water marks: no number is ever given twice."""

    code = "issuing_on_hold"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"not issuing: this kiosk's store is {reason}, and it must reach the central server "
            "once to move past the numbers the server holds for it (check the network and "
            "server.url, then run kiosk sync --once); or give it a numbering block never used "
            "before (numbering.offset, registered on the server)"
        )
