"""The counter's state in words: what kiosk/app/counter.py's `CounterState` means on the screen,
in the window's language. Functions from the state (and the time) to the texts the widgets of
kiosk/ui/counter_widgets.py show; kiosk/ui/counter_window.py hands them over.

Strings are `text.translate("Counter", <English>)` with the English as a literal, never through
an alias or a variable: `make i18n` (pyside6-lupdate) finds only those, and would drop the
Vietnamese of any other from `vi.ts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.app.counter import Action, CounterState, Message, Notice
from kiosk.ui.counter_widgets import CardTexts, WaitingEntry
from kiosk.ui.staff_common import ScreenText, minutes_since, priority_word


@dataclass(frozen=True)
class Connection:
    """The connection's state: the banner under the header and the word in it."""

    role: str  # the banner's style role ("connecting", "banner")
    banner: str  # empty: no banner
    status: str


def action_names(text: ScreenText) -> dict[Action, str]:
    return {
        Action.CALL_NEXT: text.translate("Counter", "Call next"),
        Action.RECALL: text.translate("Counter", "Recall"),
        Action.NO_SHOW: text.translate("Counter", "Absent"),
        Action.SERVE: text.translate("Counter", "Done"),
        Action.TRANSFER: text.translate("Counter", "Transfer"),
        Action.CALL_SELECTED: text.translate("Counter", "Call the selected patient"),
    }


def connection(text: ScreenText, online: bool | None) -> Connection:
    if online is None:
        return Connection("connecting", text.translate("Counter", "Connecting to the server…"), "")
    if not online:
        return Connection(
            "banner",
            text.translate(
                "Counter",
                "NO CONNECTION to the server. Reconnecting by itself… "
                "The buttons work again when it is back.",
            ),
            text.translate("Counter", "Offline"),
        )
    return Connection("banner", "", text.translate("Counter", "Connected"))


def current_card(text: ScreenText, state: CounterState, now: dt.datetime) -> CardTexts:
    """The current-ticket card: a call on its way, nobody, or the patient called."""
    current = state.current
    if state.pending_call is not None:
        return CardTexts(
            current is not None,
            text.translate("Counter", "Calling the next patient…"),
            "…",
            None,
            "",
            text.translate("Counter", "Waiting for the server's answer."),
        )
    if current is None:
        idle = (
            text.translate("Counter", "Nobody called. Press Call next.")
            if state.waiting
            else text.translate("Counter", "Nobody is waiting.")
        )
        return CardTexts(False, text.translate("Counter", "Now serving"), "—", None, "", idle)
    word = priority_word(text, current.priority)
    called = minutes_since(current.last_called_at, now)
    parts = [text.translate("Counter", "Called {n} min ago").format(n=called)]
    if current.recalls:
        parts.append(
            text.translate("Counter", "recalled {n} of {max}").format(
                n=current.recalls, max=state.max_recalls
            )
        )
    return CardTexts(
        True,
        text.translate("Counter", "Now serving"),
        current.code,
        current.priority,
        text.translate("Counter", "Priority: {what}").format(what=word) if word else "",
        " · ".join(parts),
    )


def waiting_entries(text: ScreenText, state: CounterState, now: dt.datetime) -> list[WaitingEntry]:
    """The line's rows: in the list a short word beside the pictogram; the full reason is the
    tooltip and shows in full on the current-ticket card once called."""
    return [
        WaitingEntry(
            ticket,
            text.translate("Counter", "Priority")
            if ticket.priority
            else text.translate("Counter", "Transferred")
            if ticket.transferred_from
            else "",
            text.translate("Counter", "{n} min").format(n=minutes_since(ticket.issued_at, now)),
            priority_word(text, ticket.priority),
        )
        for ticket in state.waiting
    ]


def today_counts(text: ScreenText, today: dict[str, int]) -> str:
    return text.translate(
        "Counter", "Today: {issued} issued · {served} done · {absent} absent · {moved} moved"
    ).format(
        issued=today.get("issued", 0),
        served=today.get("served", 0),
        absent=today.get("no_show", 0),
        moved=today.get("transferred", 0),
    )


def message_text(text: ScreenText, message: Message, department_name: Callable[[str], str]) -> str:
    """A message of the counter's state in the window's language."""
    if message.notice == Notice.SENT:
        return text.translate("Counter", "{code} sent to {department}.").format(
            code=message.code, department=department_name(message.department)
        )
    if message.notice == Notice.ABSENT:
        return text.translate(
            "Counter", "{code} did not come after {n} recalls: marked absent."
        ).format(code=message.code, n=message.recalls)
    return {
        Notice.NOBODY_WAITING: text.translate("Counter", "Nobody is waiting."),
        Notice.CONNECTION_BACK: text.translate("Counter", "Connection is back."),
        Notice.NOT_DONE_OFFLINE: text.translate(
            "Counter", "Not done: no connection. Try again when it is back."
        ),
        Notice.CHANGED: text.translate("Counter", "Not possible: the ticket has changed. Updated."),
        Notice.NOT_ALLOWED: text.translate(
            "Counter", "This counter is not allowed: ask IT for its token."
        ),
        Notice.NOT_FOUND: text.translate("Counter", "Not found on the server."),
    }.get(message.notice, text.translate("Counter", "The server could not do it. Try again."))
