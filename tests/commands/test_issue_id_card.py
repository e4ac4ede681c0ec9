"""`kiosk issue CODE --id-qr -`: the card's QR text on standard input → the ticket's priority.

The card's text is never on the command line and never echoed: not on stdout, not in an
error, not in the (verbose) log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.app.citizen_card import local_today
from tests.citizen_cards import Card
from tests.support.cli import KIOSK
from tests.support.database import SEED_FILE

TODAY = local_today(ZoneInfo("Asia/Ho_Chi_Minh"))


def years_ago(years: int, days: int = 40) -> dt.date:
    return TODAY.replace(year=TODAY.year - years, day=1) - dt.timedelta(days=days)


ELDER = Card(years_ago(81), name="Phùng Thị Ngọc Diệp", old_id="063512345")
CHILD = Card(years_ago(3), name="Lò Văn Thượng", sex="Nam")
ADULT = Card(years_ago(45), name="Hà Thị Quỳnh Anh")


def issue(
    env: dict[str, str], *args: str, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [KIOSK, "--verbose", "issue", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "kiosk-hall-1"\n', encoding="utf-8")
    environ = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_CONFIG": str(config)}
    subprocess.run([KIOSK, "seed", str(SEED_FILE)], env=environ, check=True, capture_output=True)
    return environ


def assert_nothing_of(card: Card, *outputs: bytes) -> None:
    text = b"\n".join(outputs).decode("utf-8", "replace")
    leaked = sorted(form for form in card.forms() if form in text)
    assert not leaked, leaked


@pytest.mark.parametrize(
    ("card", "priority"), [(ELDER, "elderly_75"), (CHILD, "child_under_6"), (ADULT, None)]
)
def test_the_card_on_standard_input_gives_the_priority(
    env: dict[str, str], card: Card, priority: str | None
) -> None:
    result = issue(env, "NOI", "--id-qr", "-", stdin=(card.text + "\r\n").encode())
    assert result.returncode == 0, result.stderr
    ticket = json.loads(result.stdout)
    assert ticket["priority"] == priority and ticket["code"] == "B001"
    assert_nothing_of(card, result.stdout, result.stderr)


def test_a_hospital_without_the_group_gets_no_priority(env: dict[str, str], tmp_path: Path) -> None:
    Path(env["KIOSK_CONFIG"]).write_text(
        '[kiosk]\nid = "kiosk-hall-1"\n[queue]\npriority_reasons = ["emergency", "pregnant"]\n',
        encoding="utf-8",
    )
    result = issue(env, "NOI", "--id-qr", "-", stdin=ELDER.text.encode())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["priority"] is None


NOT_CARDS = [
    b"8934563138165\n",  # a product barcode
    ELDER.text[:40].encode(),  # a partial scan
    Card(TODAY + dt.timedelta(days=3)).text.encode(),  # born in the future
    b"\xff\xfe" + ELDER.text.encode("utf-16-le"),  # not UTF-8
    ELDER.text.replace(ELDER.birth_text, "31021950").encode(),  # no such date
    b"",
]


def test_what_is_not_a_card_issues_nothing_and_echoes_nothing(env: dict[str, str]) -> None:
    for stdin in NOT_CARDS:
        result = issue(env, "NOI", "--id-qr", "-", stdin=stdin)
        assert result.returncode == 2, stdin
        assert b"not a citizen ID card" in result.stderr and b"no ticket issued" in result.stderr
        assert result.stdout == b""
        assert_nothing_of(ELDER, result.stdout, result.stderr)
    assert json.loads(issue(env, "NOI").stdout)["number"] == 1  # nothing was issued


def test_the_card_is_refused_on_the_command_line_without_being_echoed(
    env: dict[str, str],
) -> None:
    result = issue(env, "NOI", "--id-qr", ELDER.text)
    assert result.returncode == 2
    assert b"only '-'" in result.stderr
    assert_nothing_of(ELDER, result.stdout, result.stderr)


def test_priority_and_card_together_are_refused(env: dict[str, str]) -> None:
    result = issue(env, "NOI", "--id-qr", "-", "--priority", "pregnant", stdin=ADULT.text.encode())
    assert result.returncode == 2 and b"not both" in result.stderr
