"""The citizen ID card reader: synthetic cards → age and priority; anything else → not a card."""

from __future__ import annotations

import datetime as dt
import logging
import random
import string
import unicodedata
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.app.citizen_card import (
    CHILD,
    ELDERLY,
    INFERRED_GROUPS,
    CardReading,
    NotACard,
    NotACardReason,
    ScanResult,
    age_on,
    local_today,
    read_card,
)
from kiosk.config import DEFAULT_PRIORITY_REASONS
from tests.citizen_cards import ALL_DIACRITICS_NAMES, Card

TODAY = dt.date(2026, 11, 28)
GROUPS = DEFAULT_PRIORITY_REASONS
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def read(text: str, today: dt.date = TODAY, groups: tuple[str, ...] = GROUPS) -> ScanResult:
    return read_card(text, today, groups)


def test_the_reading_keeps_nothing_of_the_card() -> None:
    result = read(Card(dt.date(1940, 3, 2)).text)
    assert result == CardReading(age=86, priority=ELDERLY)
    assert set(vars(result)) == {"age", "priority"}  # no name, number, date or address
    assert frozenset({ELDERLY, CHILD}) == INFERRED_GROUPS


@pytest.mark.parametrize(
    ("birth", "age", "priority"),
    [
        (dt.date(1951, 11, 28), 75, ELDERLY),  # turns 75 today
        (dt.date(1951, 11, 29), 74, None),  # turns 75 tomorrow
        (dt.date(1951, 11, 27), 75, ELDERLY),
        (dt.date(1920, 1, 1), 106, ELDERLY),
        (dt.date(1901, 12, 31), 124, ELDERLY),
        (dt.date(1980, 5, 17), 46, None),
        (dt.date(2020, 11, 28), 6, None),  # a child turning 6 today
        (dt.date(2020, 11, 29), 5, CHILD),  # turns 6 tomorrow
        (dt.date(2024, 7, 1), 2, CHILD),
        (dt.date(2026, 11, 28), 0, CHILD),  # born today (a newborn's card)
        (dt.date(2026, 1, 1), 0, CHILD),
        (dt.date(2010, 2, 3), 16, None),
    ],
)
def test_age_and_priority_on_the_hospitals_date(
    birth: dt.date, age: int, priority: str | None
) -> None:
    assert read(Card(birth).text) == CardReading(age=age, priority=priority)


@pytest.mark.parametrize(
    ("today", "age", "priority"),
    [
        (dt.date(2027, 2, 28), 74, None),  # 2027 has no 29 February: not yet
        (dt.date(2027, 3, 1), 75, ELDERLY),  # … a year older on 1 March
        (dt.date(2028, 2, 28), 75, ELDERLY),
    ],
)
def test_born_on_29_february_turns_older_on_1_march_in_common_years(
    today: dt.date, age: int, priority: str | None
) -> None:
    card = Card(dt.date(1952, 2, 29))
    assert read(card.text, today) == CardReading(age=age, priority=priority)


def test_leap_day_birth_in_a_leap_year_and_a_leap_day_child() -> None:
    assert read(Card(dt.date(1952, 2, 29)).text, dt.date(2028, 2, 29)) == CardReading(76, ELDERLY)
    assert read(Card(dt.date(1953, 2, 28)).text, dt.date(2028, 2, 28)) == CardReading(75, ELDERLY)
    child = Card(dt.date(2020, 2, 29))
    assert read(child.text, dt.date(2026, 2, 28)) == CardReading(5, CHILD)
    assert read(child.text, dt.date(2026, 3, 1)) == CardReading(6, None)
    assert age_on(dt.date(2000, 2, 29), dt.date(2001, 2, 28)) == 0
    assert age_on(dt.date(2000, 2, 29), dt.date(2001, 3, 1)) == 1


def test_age_counts_in_the_hospitals_timezone_not_utc() -> None:
    # 00:30 on 28 November in Hanoi is still 27 November in UTC.
    now = dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC)
    today = local_today(HANOI, now)
    assert today == dt.date(2026, 11, 28)
    assert read(Card(dt.date(1951, 11, 28)).text, today) == CardReading(75, ELDERLY)
    assert local_today(ZoneInfo("UTC"), now) == dt.date(2026, 11, 27)
    with pytest.raises(ValueError, match="aware"):
        local_today(HANOI, dt.datetime(2026, 11, 27, 17, 30))


@pytest.mark.parametrize("groups", [(), ("emergency", "pregnant"), ("child_under_6",)])
def test_only_configured_groups_are_inferred(groups: tuple[str, ...]) -> None:
    old = read(Card(dt.date(1930, 1, 1)).text, groups=groups)
    young = read(Card(dt.date(2023, 1, 1)).text, groups=groups)
    assert old == CardReading(96, None)
    assert young == CardReading(3, CHILD if CHILD in groups else None)


@pytest.mark.parametrize("name", ALL_DIACRITICS_NAMES)
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_names_with_every_vietnamese_diacritic_in_either_normal_form(
    name: str, form: Literal["NFC", "NFD"]
) -> None:
    card = Card(dt.date(1948, 8, 19), name=unicodedata.normalize(form, name))
    assert read(card.text) == CardReading(78, ELDERLY)


@pytest.mark.parametrize(
    "card",
    [
        Card(dt.date(1949, 1, 1), old_id="063512345"),  # with the old 9-digit number
        Card(dt.date(1949, 1, 1), sex="Nam", name="Hoàng A Páo"),
        Card(dt.date(1949, 1, 1), sex="NỮ", province="001"),  # Hà Nội
        Card(dt.date(1949, 1, 1), province="096", address="Ấp 3, Xã Tân Lộc, Huyện Thới Bình"),
        Card(dt.date(1949, 1, 1), name="Giàng Thị Mỷ", sex="Nu"),
        Card(dt.date(2022, 3, 4), issued=dt.date(2024, 7, 1), name="Lò Văn Đức", sex="Nam"),
        # A scanner typing as a US keyboard loses or replaces the Vietnamese letters.
        Card(dt.date(1949, 1, 1), name="Nguy?n Th? H?ng", address="T? 5, Ph??ng Duy?n H?i"),
        Card(dt.date(1949, 1, 1), name="Nguyn Th Hng", sex="N?"),
    ],
)
def test_real_shaped_variants_are_cards(card: Card) -> None:
    assert isinstance(read(card.text), CardReading)


def test_scanner_line_endings_spaces_and_a_trailing_separator_are_tolerated() -> None:
    card = Card(dt.date(1949, 1, 1))
    for text in (card.text + "\r\n", card.text + "\n", card.text + "|", " " + card.text + "\t"):
        assert read(text) == CardReading(77, ELDERLY)


@pytest.mark.parametrize(
    ("birth_text", "today", "expected"),
    [
        ("00001951", dt.date(2026, 12, 30), CardReading(74, None)),  # born some day of 1951
        ("00001951", dt.date(2026, 12, 31), CardReading(75, ELDERLY)),
        ("1950", dt.date(2026, 1, 1), CardReading(75, ELDERLY)),
        ("00111951", dt.date(2026, 11, 29), CardReading(74, None)),  # some day of Nov 1951
        ("00111951", dt.date(2026, 11, 30), CardReading(75, ELDERLY)),
        ("00002021", dt.date(2026, 12, 31), CardReading(5, CHILD)),  # under 6 whatever the day
        ("00002020", dt.date(2026, 6, 1), CardReading(5, None)),  # perhaps already 6
    ],
)
def test_partly_known_birth_dates_give_a_priority_only_when_every_date_allows_it(
    birth_text: str, today: dt.date, expected: CardReading
) -> None:
    base = Card(dt.date(int(birth_text[-4:]), 1, 1))
    fields = base.text.split("|")
    fields[3] = birth_text
    assert read("|".join(fields), today) == expected


def _noise(seed: int, length: int = 200) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.printable.strip() + "|ăđơư") for _ in range(length))


CARD = Card(dt.date(1949, 1, 1))
FIELDS = CARD.text.split("|")


def _with(index: int, value: str) -> str:
    fields = list(FIELDS)
    fields[index] = value
    return "|".join(fields)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", NotACardReason.EMPTY),
        ("\r\n", NotACardReason.EMPTY),
        ("8934563138165", NotACardReason.NOT_FIELDS),  # a product's EAN-13
        ("https://benhvien.example/t/1234", NotACardReason.NOT_FIELDS),
        ("|".join(FIELDS[:3]), NotACardReason.NOT_FIELDS),  # a partial scan
        (CARD.text[: len(CARD.text) // 2], NotACardReason.NOT_FIELDS),
        (CARD.text + "|extra", NotACardReason.NOT_FIELDS),
        (_noise(1), NotACardReason.TOO_LONG if len(_noise(1)) > 400 else None),
        ("x" * 401, NotACardReason.TOO_LONG),
        (CARD.text.replace("|", "\x1b", 1), NotACardReason.CONTROL_CHARACTERS),
        (CARD.text.replace("Nguyễn", "Nguyễn\u202e"), NotACardReason.CONTROL_CHARACTERS),
        (_with(0, "01019490123"), NotACardReason.BAD_NUMBER),  # 11 digits
        (_with(0, "0101949012345"), NotACardReason.BAD_NUMBER),  # 13 digits
        (_with(0, "003149583921"), NotACardReason.BAD_NUMBER),  # no province 003
        (_with(0, "０10149583921"), NotACardReason.BAD_NUMBER),  # a full-width digit
        (_with(1, "12345678"), NotACardReason.BAD_NUMBER),
        (_with(2, ""), NotACardReason.BAD_NAME),
        (_with(2, "Nguyen 2"), NotACardReason.BAD_NAME),
        (_with(2, "A" * 101), NotACardReason.BAD_NAME),
        (_with(3, "31021949"), NotACardReason.BAD_BIRTH_DATE),
        (_with(3, "1949-01-01"), NotACardReason.BAD_BIRTH_DATE),
        (_with(3, "0101194"), NotACardReason.BAD_BIRTH_DATE),
        (_with(3, "01011700"), NotACardReason.BAD_BIRTH_DATE),
        (_with(3, "00131949"), NotACardReason.BAD_BIRTH_DATE),
        (Card(dt.date(2026, 11, 29)).text, NotACardReason.FUTURE_BIRTH),
        (Card(dt.date(2031, 1, 1)).text, NotACardReason.FUTURE_BIRTH),
        (_with(4, "X"), NotACardReason.BAD_SEX),
        (_with(5, ""), NotACardReason.BAD_ADDRESS),
        (_with(5, "x" * 251), NotACardReason.BAD_ADDRESS),
        (_with(6, ""), NotACardReason.BAD_ISSUE_DATE),
        (_with(6, "01011940"), NotACardReason.BAD_ISSUE_DATE),  # before the birth
        (_with(6, "01012030"), NotACardReason.BAD_ISSUE_DATE),  # in the future
        (_with(0, "010249583921"), NotACardReason.INCONSISTENT),  # born 2049 says the number
        (_with(0, "010150583921"), NotACardReason.INCONSISTENT),  # born 1950 says the number
    ],
)
def test_what_is_not_a_card_is_a_typed_answer(text: str, reason: NotACardReason | None) -> None:
    result = read(text)
    assert isinstance(result, NotACard)
    assert not result.is_card
    if reason is not None:
        assert result.reason == reason


@pytest.mark.parametrize("seed", range(50))
def test_two_hundred_characters_of_noise_are_never_a_card(seed: int) -> None:
    assert isinstance(read(_noise(seed)), NotACard)


def test_not_text_at_all() -> None:
    for thing in (None, b"bytes", 42, ["a"]):
        assert read_card(thing, TODAY, GROUPS) == NotACard(NotACardReason.UNREADABLE)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500) | st.lists(st.text(max_size=40), max_size=9).map("|".join))
def test_no_text_makes_the_reader_raise(text: str) -> None:
    result = read(text)
    assert isinstance(result, CardReading | NotACard)


def test_a_bug_inside_is_logged_by_type_never_with_the_card(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import kiosk.app.citizen_card as module

    def broken(text: str) -> bool:
        raise ValueError(f"cannot read {text!r}")

    monkeypatch.setattr(module, "_is_name", broken)
    with caplog.at_level(logging.DEBUG):
        assert read(CARD.text) == NotACard(NotACardReason.UNREADABLE)
    assert "ValueError" in caplog.text
    assert CARD.name not in caplog.text and CARD.number not in caplog.text
