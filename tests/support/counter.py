"""The counter's wire data as the server would send it: tickets, departments, a queue snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.app.counter import Snapshot
from kiosk.wire import Department, Queue, Ticket

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


def ticket(number: int, status: str = "waiting", **changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": f"t{number}", "department": "NOI", "number": number, "code": f"B{number:03d}",
        "service_date": NOW.date(), "status": status, "issued_at": NOW, "queued_at": NOW,
    }  # fmt: skip
    if status == "called":
        fields.update(room="101", call_count=1, called_at=NOW, last_called_at=NOW)
    fields.update(changes)
    return Ticket.model_validate(fields)


def department(code: str) -> Department:
    return Department(
        code=code, name_vi=f"Khoa {code}", name_en=code, prefix="B", color="#000", rooms=[]
    )


def snapshot(waiting: list[Ticket], called: list[Ticket] = ()) -> Snapshot:  # type: ignore[assignment]
    queue = Queue(department="NOI", waiting=waiting, called=list(called), today={"issued": 3})
    return Snapshot(queue, [department("NOI"), department("NGOAI"), department("NHI")])
