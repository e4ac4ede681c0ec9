"""The board's state without Qt and without a server: what is shown and what is announced."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.app.board import BoardLoad, BoardState, Call
from kiosk.wire import Department, FeedEvent, Queue, Ticket

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


def called(number: int, department: str = "NOI", minute: int = 0, **changes: Any) -> Ticket:
    at = NOW + dt.timedelta(minutes=minute)
    fields: dict[str, Any] = {
        "id": f"{department}{number}", "department": department, "code": f"B{number:03d}",
        "service_date": NOW.date(), "status": "called", "issued_at": NOW, "queued_at": NOW,
        "room": "101", "call_count": 1, "called_at": at, "last_called_at": at,
    }  # fmt: skip
    fields.update(changes)
    return Ticket.model_validate(fields)


def department(code: str, waiting: int = 0) -> Department:
    return Department(
        code=code, name_vi=f"Khoa {code}", name_en=code, prefix="B", color="#000", rooms=["101"],
        waiting=waiting, room_names_vi={"101": "Phòng khám 101"},
    )  # fmt: skip


def load(*queues: Queue) -> BoardLoad:
    return BoardLoad([department("NOI", 3), department("NHI"), department("MAT", 1)], list(queues))


def event(ticket: Ticket | None, kind: str = "ticket.called") -> FeedEvent:
    return FeedEvent(
        type=kind, department=None if ticket is None else ticket.department, ticket=ticket
    )


def test_loading_shows_the_latest_calls_without_announcing_them() -> None:
    state = BoardState(history=2)
    noi = Queue(
        department="NOI", waiting=[], called=[called(1, minute=1), called(2, minute=5)], cursor=9
    )
    mat = Queue(department="MAT", waiting=[], called=[called(1, "MAT", minute=3)], cursor=7)
    state.loaded(load(noi, mat))
    assert [c.ticket_id for c in state.calls] == ["NOI2", "MAT1"]
    assert load(noi, mat).cursor == 7


def test_each_call_and_recall_goes_on_top_once_and_is_announced() -> None:
    state = BoardState(history=3)
    state.loaded(load())
    first = state.feed([event(called(1)), event(called(2)), event(None, "device.status")])
    assert [c.code for c in first] == ["B001", "B002"]
    again = state.feed([event(called(1, call_count=2), "ticket.recalled")])
    assert [c.code for c in again] == ["B001"]
    assert [c.code for c in state.calls] == ["B001", "B002"]  # moved up, not doubled
    state.feed([event(called(n)) for n in (3, 4, 5)])
    assert [c.code for c in state.calls] == ["B005", "B004", "B003"]  # only `history` kept
    assert state.feed([event(called(6), "ticket.served")]) == []


def test_a_board_of_some_departments_ignores_the_others() -> None:
    state = BoardState(only=["nhi"])
    state.loaded(load())
    assert state.shown_codes() == ["NHI"]
    assert state.feed([event(called(1, "NOI"))]) == []
    assert [c.department for c in state.feed([event(called(1, "NHI"))])] == ["NHI"]
    assert [d.code for d in state.counted()] == ["NHI"]  # even with nobody waiting


def test_the_whole_hall_counts_only_departments_with_patients_today() -> None:
    state = BoardState()
    state.loaded(load())
    assert [d.code for d in state.counted()] == ["NOI", "MAT"]


def test_rooms_are_shown_and_spoken_by_the_same_name() -> None:
    state = BoardState()
    state.loaded(load())
    call = Call.of(called(1))
    assert state.room_text(call, "vi") == "Phòng khám 101"
    assert state.room_text(Call.of(called(1, "XYZ")), "vi") == "101"


def test_the_board_loads_again_when_the_server_is_back() -> None:
    state = BoardState()
    assert not state.set_online(True)  # the first answer: loaded already
    assert not state.set_online(False)
    assert state.set_online(True)
