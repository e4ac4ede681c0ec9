"""The wire models: what the server writes is what every client reads; odd items are skipped."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from kiosk.queue.service import TicketInfo
from kiosk.wire import Department, FeedEvent, Queue, Ticket, TicketStatus, read_items
from server_sync.server.schemas import department_out, ticket_out

ISSUED = dt.datetime(2026, 11, 28, 2, 5, 6, 789000, tzinfo=dt.UTC)


def info(**changes: Any) -> TicketInfo:
    fields: dict[str, Any] = {
        "id": "3f2b8c1e-7d4a-4e6b-9c2d-1a2b3c4d5e6f", "department": "NOI", "number": 12,
        "code": "B012", "service_date": dt.date(2026, 11, 28), "priority": "elderly_75",
        "status": "called", "origin": "kiosk-1", "issued_at": ISSUED, "queued_at": ISSUED,
        "called_at": ISSUED, "last_called_at": ISSUED, "finished_at": None, "room": "101",
        "call_count": 3, "transferred_from": None, "cancel_reason": None,
    }  # fmt: skip
    fields.update(changes)
    return TicketInfo(**fields)


def ticket_json(**changes: Any) -> dict[str, Any]:
    return ticket_out(info(**changes)).model_dump(mode="json")


def test_the_server_writes_a_ticket_as_the_event_log_does() -> None:
    ticket = info()
    assert ticket_out(ticket).model_dump(mode="json") == ticket.to_dict()


def test_a_client_reads_back_what_the_server_wrote() -> None:
    read = Ticket.read(ticket_json())
    assert read.issued_at == ISSUED and read.status is TicketStatus.CALLED
    assert read.recalls == 2


def test_a_ticket_with_a_new_field_or_an_offset_timestamp_is_read() -> None:
    data = {**ticket_json(), "new_field": 1, "queued_at": "2026-11-28T09:05:06.789+07:00"}
    assert Ticket.read(data).queued_at == ISSUED


def test_a_department_round_trip(service: Any) -> None:
    status = service.departments()[0]
    wire = department_out(status)
    assert Department.read(wire.model_dump(mode="json")) == wire
    assert wire.name("en") == status.name_en


def test_one_bad_ticket_is_skipped_with_a_log_line_not_the_whole_queue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = ticket_json()
    bad = {**ticket_json(), "issued_at": "yesterday"}
    naive = {**ticket_json(), "queued_at": "2026-11-28T02:05:06"}
    with caplog.at_level(logging.WARNING, logger="kiosk.wire"):
        queue = Queue.read(
            {"department": "NOI", "waiting": [bad, good, "junk"], "called": [naive], "cursor": 7}
        )
    assert [t.code for t in queue.waiting] == ["B012"] and queue.called == []
    assert queue.cursor == 7
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 3


def test_feed_events_that_cannot_be_read_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    events: list[Any] = [
        {"position": 1, "type": "ticket.called", "data": {"ticket": ticket_json()}},
        {"position": 2, "type": "ticket.called", "data": {"ticket": {"id": "x"}}},
        {"position": 3, "type": "device.status", "data": {"printer": "ready"}},
        {"position": 4, "type": "ticket.called", "data": "not a mapping"},
        None,
    ]
    with caplog.at_level(logging.WARNING, logger="kiosk.wire"):
        read = read_items(FeedEvent, events, "the feed")
    assert [(e.position, e.ticket is not None) for e in read] == [(1, True), (3, False)]
    assert read[0].ticket is not None and read[0].ticket.room == "101"
    assert len(caplog.records) == 3


def test_not_a_list_reads_as_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kiosk.wire"):
        assert read_items(Ticket, {"id": "x"}, "tickets") == []
        assert read_items(Ticket, None, "tickets") == []
    assert len(caplog.records) == 1
