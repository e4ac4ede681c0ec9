"""A scanner's keystrokes told from a person's by timing; what a scan does to the kiosk's flow."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.app.citizen_card import CardReading, NotACard, NotACardReason
from kiosk.app.kiosk_flow import Idle, KioskFlow, Scan, Step
from kiosk.app.scanner import MAX_KEY_GAP, KeystrokeScanner
from tests.citizen_cards import Card
from tests.support.kiosk_flow import department

CARD = Card(dt.date(1945, 5, 6)).text


def typed(scanner: KeystrokeScanner, text: str, start: float, gap: float) -> float:
    at = start
    for char in text:
        scanner.key(char, at)
        at += gap
    return at - gap


def test_keys_a_few_milliseconds_apart_then_enter_are_a_scan() -> None:
    scanner = KeystrokeScanner()
    last = typed(scanner, CARD, 100.0, 0.004)
    assert scanner.collecting
    assert scanner.enter(last + 0.004) == CARD
    assert not scanner.collecting


def test_a_person_typing_is_not_a_scan() -> None:
    scanner = KeystrokeScanner()
    last = typed(scanner, "012345678901", 100.0, 0.15)
    assert scanner.enter(last + 0.15) is None
    # Even a fast burst of a few keys after slow ones is too short to count.
    last = typed(scanner, "ab", 200.0, 0.01)
    assert scanner.enter(last + 0.01) is None


def test_a_pause_before_enter_or_in_the_middle_restarts() -> None:
    scanner = KeystrokeScanner()
    last = typed(scanner, CARD, 100.0, 0.004)
    assert scanner.enter(last + 0.5) is None  # Enter pressed by a person later
    last = typed(scanner, "garbage", 200.0, 0.2)
    last = typed(scanner, CARD, last + 1.0, 0.002)  # the scan after a person's keys
    assert scanner.enter(last + 0.002) == CARD


def test_the_gap_limit_is_between_people_and_scanners() -> None:
    assert 0.02 <= MAX_KEY_GAP <= 0.08


def test_an_endless_scan_is_bounded() -> None:
    scanner = KeystrokeScanner()
    last = typed(scanner, "x" * 5000, 0.0, 0.001)
    text = scanner.enter(last + 0.001)
    assert text is not None and len(text) <= scanner.max_length


ELDERLY = CardReading(age=81, priority="elderly_75")


@pytest.fixture
def flow() -> KioskFlow:
    kiosk = KioskFlow(["vi", "en"])
    kiosk.set_departments([department("NOI"), department("NHI")])
    return kiosk


def test_a_card_scanned_at_home_is_held_for_the_department_tapped(flow: KioskFlow) -> None:
    assert flow.scan(ELDERLY, "home") == Scan.HELD and flow.scanned == "elderly_75"
    assert flow.tap("NOI", "home") == Step.PRIORITY
    request = flow.begin_issue(flow.scanned)
    assert request is not None and request.priority == "elderly_75"
    flow.issued()
    assert flow.scanned is None


def test_on_the_priority_step_a_card_preselects(flow: KioskFlow) -> None:
    flow.tap("NOI", "home")
    assert flow.scan(ELDERLY, "priority") == Scan.PRESELECTED
    flow.decline_scanned()
    assert flow.scanned is None


@pytest.mark.parametrize("page", ["pin", "admin", "printing"])
def test_scans_on_staff_pages_or_while_printing_are_ignored(flow: KioskFlow, page: str) -> None:
    assert flow.scan(ELDERLY, page) == Scan.IGNORED and flow.scanned is None


def test_not_a_card_and_no_priority_hold_nothing(flow: KioskFlow) -> None:
    assert flow.scan(NotACard(NotACardReason.NOT_FIELDS), "home") == Scan.NOT_A_CARD
    assert flow.scanned is None
    flow.scan(ELDERLY, "home")
    assert flow.scan(CardReading(age=40, priority=None), "home") == Scan.NO_PRIORITY
    assert flow.scanned is None  # the later card replaces the earlier one


def test_home_and_idle_forget_a_scanned_priority(flow: KioskFlow) -> None:
    flow.scan(ELDERLY, "home")
    flow.home()
    assert flow.scanned is None
    flow.scan(ELDERLY, "home")
    assert flow.idle("home") == Idle.ATTRACT and flow.scanned is None
    flow.tap("NOI", "home")
    flow.scan(ELDERLY, "priority")
    assert flow.idle("scanned_priority") == Idle.HOME and flow.scanned is None
