"""What is printed for an issued ticket: names, priority label, local time, status URL."""

from __future__ import annotations

import datetime as dt

from kiosk.app.issuing import ticket_content
from kiosk.config import Config
from kiosk.queue.service import IssuedTicket, Position, TicketInfo


def test_ticket_content_from_an_issued_ticket() -> None:
    issued_at = dt.datetime(2026, 11, 28, 2, 5, tzinfo=dt.UTC)
    info = TicketInfo(
        id="3f2b8c1e-7d4a-4e6b-9c2d-1a2b3c4d5e6f", department="NOI", number=12, code="B012",
        service_date=dt.date(2026, 11, 28), priority="elderly_75", status="waiting",
        origin="kiosk-1", issued_at=issued_at, queued_at=issued_at, called_at=None,
        last_called_at=None, finished_at=None, room=None, call_count=0, transferred_from=None,
        cancel_reason=None,
    )  # fmt: skip
    issued = IssuedTicket(
        ticket=info, position=Position(3, 9), department_name_vi="Khám Nội",
        department_name_en="Internal Medicine", directions_vi="Phòng 101",
        directions_en="Room 101",
    )  # fmt: skip
    config = Config()
    vi = ticket_content(issued, config)
    assert vi.department_name == "Khám Nội"
    assert vi.priority_label == "Ưu tiên: Người từ 75 tuổi"
    assert vi.issued_at.hour == 9  # 02:05 UTC is 09:05 in Hanoi
    assert vi.status_url == config.status_url(info.id)
    assert (vi.ahead, vi.estimated_wait_minutes) == (3, 9)
    en = ticket_content(issued, config, "en")
    assert en.department_name == "Internal Medicine"
    assert en.directions == "Room 101"
    assert en.priority_label == "Priority: Aged 75 or over"
