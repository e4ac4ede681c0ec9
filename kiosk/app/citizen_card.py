"""The citizen ID card's QR code (CCCD / thẻ căn cước) → the patient's priority group, if any.

Every chip card since 2021 (and the 12-digit cards before it, children's cards since 1 July
2024) carries a QR code that a reader decodes to one line of `|`-separated fields::

    012345678901|123456789|Nguyễn Văn A|01021950|Nam|Số 1, Thôn X, Xã Y, Tỉnh Z|15062021
    personal id | old id   | full name  | birth  | sex | place of residence     | issued

- personal identification number: 12 digits — a province code (001 … 096), a digit for the
  century and sex (0/1: born 1900–1999 male/female, 2/3: 2000–2099, 4/5: 2100–2199), the last
  two digits of the birth year, then six digits. The birth date must agree with it.
- the old 9-digit ID number, or empty; name; date of birth `ddmmyyyy`
  (where only the year is known, `0000yyyy` or `yyyy`; only the month and year, `00mmyyyy`);
  sex (`Nam`/`Nữ`); place of residence; date of issue `ddmmyyyy`. Fields after the seventh
  (some readers add a trailing `|`) are ignored.

What is inferred, and nothing else: the age on the hospital's local date → `elderly_75`
(75 or more) or `child_under_6` (under 6), each only when that group is configured. The card
carries no expiry date and cards issued after 60 never expire, so there is no "expired card"
rule. Someone born on 29 February turns a year older on 1 March in years without that day.
Where the birth date is partly unknown, a priority is given only if it holds for every date
the card allows (75 by the last possible day, under 6 from the first possible day).

Privacy: `read_card` returns the age and the priority only. Nothing of the card is kept,
logged or put in an exception: anything that is not a card is a `NotACard` with a reason
code, never an exception escaping, never the text.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import logging
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

ELDERLY = "elderly_75"
CHILD = "child_under_6"
INFERRED_GROUPS = frozenset({ELDERLY, CHILD})  # the only groups a card can tell
ELDERLY_AGE = 75
CHILD_AGE = 6

# A card's line is ~100–250 characters; a scanner that types more is reading something else.
MAX_LENGTH = 400
FIELDS = 7
MAX_NAME = 100
MAX_ADDRESS = 250
OLDEST_BIRTH_YEAR = 1880

# The provinces' codes (Circular 07/2016/TT-BCA, annex): the first three digits of the id.
PROVINCE_CODES = frozenset(
    f"{code:03d}"
    for code in (
        1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35,
        36, 37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70,
        72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
    )
)  # fmt: skip
# The fourth digit: century of birth (and sex, which we do not read).
CENTURY_OF_DIGIT = {"0": 1900, "1": 1900, "2": 2000, "3": 2000, "4": 2100, "5": 2100}

_ID = re.compile(r"[0-9]{12}")
_OLD_ID = re.compile(r"(?:[0-9]{9})?")
_DATE = re.compile(r"[0-9]{8}|[0-9]{4}")


class NotACardReason(enum.Enum):
    """Why a scanned text is not read as a card (a code: never the text itself)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"
    NOT_FIELDS = "not_fields"  # not seven `|`-separated fields: a product barcode, a part
    BAD_NUMBER = "bad_number"  # the 12-digit or the old 9-digit number
    BAD_NAME = "bad_name"
    BAD_BIRTH_DATE = "bad_birth_date"
    FUTURE_BIRTH = "future_birth"
    BAD_SEX = "bad_sex"
    BAD_ADDRESS = "bad_address"
    BAD_ISSUE_DATE = "bad_issue_date"
    INCONSISTENT = "inconsistent"  # the number disagrees with the birth date
    UNREADABLE = "unreadable"  # anything unforeseen (logged by type, never the text)


@dataclass(frozen=True)
class NotACard:
    reason: NotACardReason

    @property
    def is_card(self) -> bool:
        return False


@dataclass(frozen=True)
class CardReading:
    """What a card tells the kiosk: the age in whole years and the priority group, if any."""

    age: int
    priority: str | None

    @property
    def is_card(self) -> bool:
        return True


ScanResult = CardReading | NotACard


def local_today(tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """The hospital's date now (ages change at the hospital's midnight, not UTC's)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(tz).date()


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from `birth` to `day`.

    A birthday is reached when (month, day) is at or past the birth's; so a person born on
    29 February is still younger on 28 February of a common year and a year older on 1 March.
    """
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def priority_for(
    earliest: dt.date, latest: dt.date, today: dt.date, groups: Collection[str]
) -> tuple[int, str | None]:
    """(age, priority) for a birth somewhere between `earliest` and `latest` (one day when
    the card gives it whole). A priority only when it holds for every possible birth date."""
    youngest = age_on(latest, today)
    oldest = age_on(earliest, today)
    if youngest >= ELDERLY_AGE and ELDERLY in groups:
        return youngest, ELDERLY
    if oldest < CHILD_AGE and CHILD in groups:
        return oldest, CHILD
    return youngest, None


def read_card(text: object, today: dt.date, groups: Collection[str]) -> ScanResult:
    """Read a scanned text as a citizen ID card: a CardReading, or a NotACard with its reason.

    Never raises: a bug in here is logged by its exception's type only (its message could
    quote the card) and answered as UNREADABLE.
    """
    try:
        return _read(text, today, groups)
    except Exception as exc:  # a scan must never crash the kiosk
        log.error("citizen card reader failed on a scan: %s", type(exc).__name__)
        return NotACard(NotACardReason.UNREADABLE)


def _read(text: object, today: dt.date, groups: Collection[str]) -> ScanResult:
    if not isinstance(text, str):
        return NotACard(NotACardReason.UNREADABLE)
    line = text.strip("\r\n\t ")
    if not line:
        return NotACard(NotACardReason.EMPTY)
    if len(line) > MAX_LENGTH:
        return NotACard(NotACardReason.TOO_LONG)
    line = unicodedata.normalize("NFC", line)
    if any(unicodedata.category(c)[0] == "C" for c in line):
        return NotACard(NotACardReason.CONTROL_CHARACTERS)
    fields = [field.strip() for field in line.split("|")]
    if len(fields) < FIELDS or any(fields[FIELDS:]):
        return NotACard(NotACardReason.NOT_FIELDS)
    number, old_number, name, birth, sex, address, issued = fields[:FIELDS]
    if not _ID.fullmatch(number) or number[:3] not in PROVINCE_CODES:
        return NotACard(NotACardReason.BAD_NUMBER)
    if not _OLD_ID.fullmatch(old_number):
        return NotACard(NotACardReason.BAD_NUMBER)
    if not _is_name(name):
        return NotACard(NotACardReason.BAD_NAME)
    span = _birth_span(birth)
    if span is None:
        return NotACard(NotACardReason.BAD_BIRTH_DATE)
    earliest, latest = span
    if earliest > today:
        return NotACard(NotACardReason.FUTURE_BIRTH)
    latest = min(latest, today)
    # "Nam" or "Nữ" ("N?" or "N" from a scanner that cannot type "ữ").
    if not 1 <= len(sex) <= 3 or sex[0] not in "Nn" or any(c.isdigit() for c in sex):
        return NotACard(NotACardReason.BAD_SEX)
    if not address or len(address) > MAX_ADDRESS:
        return NotACard(NotACardReason.BAD_ADDRESS)
    issue_date = _full_date(issued)
    # A day's grace: the card office's clock and ours need not agree on midnight.
    if issue_date is None or issue_date < earliest or issue_date > today + dt.timedelta(days=1):
        return NotACard(NotACardReason.BAD_ISSUE_DATE)
    century = CENTURY_OF_DIGIT.get(number[3])
    if century is None or century + int(number[4:6]) != earliest.year:
        return NotACard(NotACardReason.INCONSISTENT)
    age, priority = priority_for(earliest, latest, today, groups)
    return CardReading(age=age, priority=priority)


def _is_name(name: str) -> bool:
    """Letters, but leniently: a USB scanner typing as a US keyboard loses or replaces the
    Vietnamese letters ("Nguy?n V?n A"); the number and the dates are what is checked."""
    if not name or len(name) > MAX_NAME or not any(c.isalpha() for c in name):
        return False
    return not any(c.isdigit() for c in name)


def _full_date(text: str) -> dt.date | None:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def _birth_span(text: str) -> tuple[dt.date, dt.date] | None:
    """The first and last possible birth date: a whole date, `00mmyyyy`, `0000yyyy`, `yyyy`."""
    if not _DATE.fullmatch(text) or not text.isascii():
        return None
    year = int(text[-4:])
    if year < OLDEST_BIRTH_YEAR or year > dt.MAXYEAR - 1:
        return None
    if len(text) == 4 or text[:4] == "0000":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if text[:2] == "00":
        month = int(text[2:4])
        if not 1 <= month <= 12:
            return None
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, 1), dt.date(year, month, last)
    day = _full_date(text)
    return None if day is None else (day, day)
