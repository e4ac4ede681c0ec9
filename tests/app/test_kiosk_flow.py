"""The patient's way through the kiosk without Qt, a printer or a database."""

from __future__ import annotations

import pytest

from kiosk.app.backend import PrinterHealth, PrinterNotReady, TicketNotPrinted
from kiosk.app.kiosk_flow import Banner, Idle, IssueRequest, KioskFlow, Outcome, Step, TapGuard
from kiosk.queue.errors import DepartmentUnavailable, StorageFull
from tests.support.kiosk_flow import department


@pytest.fixture
def flow() -> KioskFlow:
    kiosk = KioskFlow(["vi", "en"])
    kiosk.set_departments([department("NOI"), department("NHI")])
    return kiosk


def test_a_tap_asks_for_priority_then_issues_in_the_patients_language(flow: KioskFlow) -> None:
    assert flow.banner() == Banner.NONE and flow.can_issue()
    assert flow.tap("NOI", "priority") == Step.NOTHING  # only from the home page
    flow.language = flow.next_language()
    assert flow.tap("NOI", "home") == Step.PRIORITY
    assert flow.department_name("NOI") == "NOI department"
    assert flow.begin_issue("elderly_75") == IssueRequest("NOI", "elderly_75", "en")
    assert flow.begin_issue(None) is None  # one ticket at a time
    assert not flow.can_issue()
    flow.issued()
    assert flow.chosen is None and flow.can_issue()


def test_without_priority_groups_a_tap_issues_at_once() -> None:
    assert KioskFlow(["vi"], priority_step=False).tap("NOI", "home") == Step.ISSUE


def test_nothing_chosen_issues_nothing(flow: KioskFlow) -> None:
    assert flow.begin_issue(None) is None


@pytest.mark.parametrize(
    ("error", "outcome", "can_issue"),
    [
        (PrinterNotReady(PrinterHealth("paper_out", False)), Outcome.PRINTER, False),
        (StorageFull("/var/lib/kiosk"), Outcome.STORAGE_FULL, False),
        (DepartmentUnavailable("NOI", "paused"), Outcome.UNAVAILABLE, True),
        (TicketNotPrinted("jam"), Outcome.PRINT_FAILED, True),
        (RuntimeError("a bug"), Outcome.ERROR, True),
    ],
)
def test_what_a_failed_issue_means(
    flow: KioskFlow, error: Exception, outcome: Outcome, can_issue: bool
) -> None:
    flow.tap("NOI", "home")
    flow.begin_issue(None)
    assert flow.not_issued(error) == outcome
    assert flow.chosen is None and not flow.busy
    assert flow.can_issue() == can_issue
    assert (flow.banner() == Banner.PRINTER_FAULT) == (not can_issue)


def test_the_banner_says_the_most_important_thing(flow: KioskFlow) -> None:
    flow.transient = "that department stopped"
    assert flow.banner() == Banner.TRANSIENT
    flow.cooling = True
    assert flow.banner() == Banner.COOLING and not flow.can_issue()
    flow.health = PrinterHealth("cover_open", False)
    assert flow.banner() == Banner.PRINTER_FAULT
    assert KioskFlow(["vi"]).banner() == Banner.NO_DEPARTMENTS


def test_idle_goes_to_the_attract_screen_or_home(flow: KioskFlow) -> None:
    assert flow.idle("home") == Idle.ATTRACT
    flow.tap("NOI", "home")
    assert flow.idle("priority") == Idle.HOME and flow.chosen is None
    for page in ("printing", "ticket", "message"):
        assert flow.idle(page) == Idle.NOTHING


def test_idle_leaves_a_ticket_being_issued_alone(flow: KioskFlow) -> None:
    """The number may still be on its way while the priority page shows (a quick issue skips
    the printing page): the idle timeout must not take the patient home meanwhile."""
    flow.tap("NOI", "home")
    assert flow.begin_issue(None) is not None
    assert flow.idle("priority") == Idle.NOTHING and flow.chosen == "NOI"
    flow.issued()
    assert flow.idle("ticket") == Idle.NOTHING


def test_tap_guard_ignores_presses_inside_the_guard_and_the_finger_down_at_a_change() -> None:
    guard = TapGuard()
    guard.page_changed(10.0, 0.5)
    assert not guard.press(10.05) and not guard.move() and not guard.release()
    assert not guard.press(10.45)
    assert not guard.release()  # a press begun inside the guard stays ignored when lifted late
    assert guard.press(10.6) and guard.release()
    assert guard.remaining(10.6) == 0.0
    # The page changes while a finger is down: that finger's lifting does not count, however
    # long after; the next press does.
    assert guard.press(20.0)
    guard.page_changed(20.0, 0.5)
    assert not guard.move()
    assert not guard.release()
    assert guard.press(30.0) and guard.release()
