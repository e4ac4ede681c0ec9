"""The counter's state machine without Qt and without a server: events in, what to show out."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.app.counter import (
    Action,
    Command,
    CounterState,
    Failure,
    Notice,
)
from kiosk.wire import FeedEvent, Ticket
from tests.support.counter import snapshot, ticket


@pytest.fixture
def state() -> CounterState:
    counter = CounterState("noi", "101", max_recalls=3)
    counter.apply_snapshot(snapshot([ticket(1), ticket(2)]))
    return counter


def test_a_snapshot_brings_the_counter_online_with_its_line() -> None:
    counter = CounterState("noi", "101")
    assert counter.department == "NOI" and counter.online is None
    assert not counter.can(Action.CALL_NEXT)
    counter.apply_snapshot(
        snapshot([ticket(1)], [ticket(9, "called"), ticket(8, "called", room="102")])
    )
    assert counter.online is True and [t.code for t in counter.waiting] == ["B001"]
    assert counter.current is not None and counter.current.code == "B009"  # this room's call
    assert counter.can(Action.RECALL) and not counter.can(Action.CALL_NEXT)


def test_a_snapshot_does_not_override_a_feed_that_lost_the_server() -> None:
    counter = CounterState("NOI", "101")
    counter.apply_snapshot(snapshot([ticket(1)]), feed_online=False)
    assert counter.online is None


def test_call_next_then_its_answer(state: CounterState) -> None:
    command = state.request(Action.CALL_NEXT)
    assert command is not None and command.request_id and command.action == Action.CALL_NEXT
    assert state.pending_call == command.request_id
    assert not state.can(Action.CALL_NEXT)  # one request at a time
    reaction = state.answered(command, ticket(1, "called"))
    assert reaction.refresh and reaction.message is None
    assert state.current is not None and state.current.code == "B001"
    assert [t.code for t in state.waiting] == ["B002"] and state.pending_call is None


def test_call_next_with_nobody_waiting_says_so(state: CounterState) -> None:
    command = state.request(Action.CALL_NEXT)
    assert command is not None
    reaction = state.answered(command, None)
    assert reaction.message is not None and reaction.message.notice == Notice.NOBODY_WAITING


def test_a_lost_call_next_is_sent_again_with_the_same_id_when_the_server_is_back(
    state: CounterState,
) -> None:
    command = state.request(Action.CALL_NEXT)
    assert command is not None
    lost = state.failed(command, Failure.UNREACHABLE)
    assert lost.lost and lost.message is None and state.online is False
    assert state.pending_call == command.request_id
    assert not any(state.can(action) for action in Action)
    back = state.set_online(True)
    assert back.send == command and back.refresh
    assert back.message is not None and back.message.notice == Notice.CONNECTION_BACK


def test_an_answer_to_a_call_given_up_on_is_ignored(state: CounterState) -> None:
    old = Command(Action.CALL_NEXT, "NOI", "101", request_id="old")
    assert state.answered(old, ticket(1, "called")) == state.answered(old, None)
    assert state.current is None


def test_actions_on_the_current_ticket(state: CounterState) -> None:
    state.answered(state.request(Action.CALL_NEXT) or pytest.fail(), ticket(1, "called"))
    recall = state.request(Action.RECALL)
    assert recall == Command(Action.RECALL, "NOI", "101", ticket_id="t1")
    assert state.busy and not state.can(Action.SERVE)
    state.answered(recall, ticket(1, "called", call_count=2))
    assert state.current is not None and state.current.recalls == 1 and not state.busy
    serve = state.request(Action.SERVE)
    assert serve is not None
    state.answered(serve, ticket(1, "served"))
    assert state.current is None


def test_the_server_marks_absent_after_the_last_recall(state: CounterState) -> None:
    state.answered(state.request(Action.CALL_NEXT) or pytest.fail(), ticket(1, "called"))
    recall = state.request(Action.RECALL)
    assert recall is not None
    reaction = state.answered(recall, ticket(1, "no_show", call_count=4))
    assert state.current is None
    assert reaction.message is not None
    assert (reaction.message.notice, reaction.message.code, reaction.message.recalls) == (
        Notice.ABSENT,
        "B001",
        3,
    )


def test_transfer_needs_a_target_and_says_where_the_patient_went(state: CounterState) -> None:
    state.answered(state.request(Action.CALL_NEXT) or pytest.fail(), ticket(1, "called"))
    assert state.request(Action.TRANSFER) is None and not state.busy
    assert [d.code for d in state.transfer_targets()] == ["NGOAI", "NHI"]
    command = state.request(Action.TRANSFER, target="NGOAI")
    assert command is not None and command.target == "NGOAI"
    reaction = state.answered(command, ticket(1, "waiting", department="NGOAI"))
    assert state.current is None and reaction.message is not None
    assert (reaction.message.notice, reaction.message.department) == (Notice.SENT, "NGOAI")
    assert state.department_name("NGOAI", "vi") == "Khoa NGOAI"


def test_a_ticket_called_out_of_order(state: CounterState) -> None:
    assert not state.can(Action.CALL_SELECTED)
    command = state.request(Action.CALL_SELECTED, selected=state.waiting[1])
    assert command is not None and command.ticket_id == "t2"
    state.answered(command, ticket(2, "called"))
    assert [t.code for t in state.waiting] == ["B001"]


@pytest.mark.parametrize(
    ("failure", "notice", "refresh"),
    [
        (Failure.CONFLICT, Notice.CHANGED, True),
        (Failure.FORBIDDEN, Notice.NOT_ALLOWED, True),
        (Failure.NOT_FOUND, Notice.NOT_FOUND, True),
        (Failure.REFUSED, Notice.FAILED, True),
        (Failure.BUG, Notice.FAILED, False),
    ],
)
def test_refusals_are_words_for_the_nurse(
    state: CounterState, failure: Failure, notice: Notice, refresh: bool
) -> None:
    state.answered(state.request(Action.CALL_NEXT) or pytest.fail(), ticket(1, "called"))
    command = state.request(Action.SERVE)
    reaction = state.failed(command, failure)
    assert reaction.message is not None and reaction.message.notice == notice
    assert reaction.refresh == refresh and not state.busy and state.online is True


def test_an_action_without_answer_locks_the_counter_until_the_feed_is_back(
    state: CounterState,
) -> None:
    state.answered(state.request(Action.CALL_NEXT) or pytest.fail(), ticket(1, "called"))
    reaction = state.failed(state.request(Action.SERVE), Failure.UNREACHABLE)
    assert reaction.lost and state.online is False and not state.busy
    assert reaction.message is not None and reaction.message.notice == Notice.NOT_DONE_OFFLINE
    assert state.failed(None, Failure.UNREACHABLE).message is None  # a refresh says nothing


def test_the_feed_moves_the_current_ticket_and_asks_for_a_refresh(state: CounterState) -> None:
    state.answered(state.request(Action.CALL_NEXT) or pytest.fail(), ticket(1, "called"))
    recalled = ticket(1, "called", call_count=3)
    reaction = state.feed([FeedEvent(type="ticket.recalled", ticket=recalled)])
    assert reaction.refresh and state.current == recalled
    state.feed([FeedEvent(type="ticket.served", ticket=ticket(1, "served"))])
    assert state.current is None


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: str) -> Ticket:
            self.calls.append((name, args))
            return ticket(1, "called")

        return call


@pytest.mark.parametrize(
    ("command", "call"),
    [
        (
            Command(Action.CALL_NEXT, "NOI", "101", request_id="r1"),
            ("call_next", ("NOI", "101", "r1")),
        ),
        (Command(Action.CALL_SELECTED, "NOI", "101", ticket_id="t2"), ("call", ("t2", "101"))),
        (Command(Action.RECALL, "NOI", "101", ticket_id="t1"), ("recall", ("t1",))),
        (Command(Action.SERVE, "NOI", "101", ticket_id="t1"), ("serve", ("t1",))),
        (Command(Action.NO_SHOW, "NOI", "101", ticket_id="t1"), ("no_show", ("t1",))),
        (
            Command(Action.TRANSFER, "NOI", "101", ticket_id="t1", target="NHI"),
            ("transfer", ("t1", "NHI")),
        ),
    ],
)
def test_each_command_is_one_request(command: Command, call: tuple[str, tuple[str, ...]]) -> None:
    api = FakeApi()
    command.run(api)
    assert api.calls == [call]
