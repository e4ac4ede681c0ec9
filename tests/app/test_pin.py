"""The admin PIN without a display: salted hashes, lockout, and writing it into the config."""

from __future__ import annotations

import tomllib

import pytest

from kiosk.app.pin import (
    ITERATIONS,
    PinError,
    PinLockout,
    hash_pin,
    verify_pin,
    with_pin_hash,
)


def test_pin_hash_is_salted_and_verifies() -> None:
    first, second = hash_pin("2468", iterations=1000), hash_pin("2468", iterations=1000)
    assert first != second  # a random salt each time
    algorithm, iterations, salt, digest = first.split("$")
    assert (algorithm, iterations) == ("pbkdf2_sha256", "1000")
    assert salt and digest and "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first)


def test_default_hash_uses_the_full_iteration_count() -> None:
    assert hash_pin("123456").split("$")[1] == str(ITERATIONS)


@pytest.mark.parametrize("stored", ["", "plain", "md5$1$aa$bb", "pbkdf2_sha256$x$aa$bb", "a$b$c"])
def test_malformed_hashes_match_nothing(stored: str) -> None:
    assert not verify_pin("2468", stored)


@pytest.mark.parametrize("pin", ["", "123", "12ab", "1234567890123"])
def test_bad_pins_are_refused(pin: str) -> None:
    with pytest.raises(PinError):
        hash_pin(pin)


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_wrong_pins_lock_for_minutes_then_unlock() -> None:
    clock = Ticking()
    stored = hash_pin("2468", iterations=1000)
    lockout = PinLockout(max_attempts=5, lockout_seconds=300, clock=clock)
    assert [lockout.attempt("0000", stored) for _ in range(4)] == [False] * 4
    assert not lockout.locked()
    assert lockout.attempt("0000", stored) is False
    assert lockout.locked()
    assert lockout.attempt("2468", stored) is None  # not even checked while locked
    clock.now += 299
    assert lockout.locked() and 0 < lockout.remaining_seconds() <= 1
    clock.now += 1
    assert not lockout.locked()
    assert lockout.attempt("2468", stored) is True
    assert lockout.failures == 0


def test_a_right_pin_resets_the_count() -> None:
    stored = hash_pin("2468", iterations=1000)
    lockout = PinLockout(clock=Ticking())
    for _ in range(4):
        lockout.attempt("1111", stored)
    assert lockout.attempt("2468", stored) is True
    for _ in range(4):
        lockout.attempt("1111", stored)
    assert not lockout.locked()


CONFIG = """# Kiosk in the outpatient hall
[hospital]
name = "Bệnh viện Đa khoa tỉnh Hà Giang"  # shown on every screen

[kiosk]
id = "kiosk-hall-1"
admin_pin_hash = "old"
fullscreen = true

[printer]
connection = "usb:04b8:0202"
"""


def test_pin_hash_replaces_the_old_one_and_keeps_every_other_line() -> None:
    text = with_pin_hash(CONFIG, "pbkdf2_sha256$1$a$b")
    assert text.replace('admin_pin_hash = "pbkdf2_sha256$1$a$b"', 'admin_pin_hash = "old"') == (
        CONFIG
    )


def test_pin_hash_is_added_under_an_existing_kiosk_section() -> None:
    source = CONFIG.replace('admin_pin_hash = "old"\n', "")
    data = tomllib.loads(with_pin_hash(source, "pbkdf2_sha256$1$a$b"))
    assert data["kiosk"] == {
        "id": "kiosk-hall-1",
        "admin_pin_hash": "pbkdf2_sha256$1$a$b",
        "fullscreen": True,
    }
    assert data["printer"]["connection"] == "usb:04b8:0202"


def test_pin_hash_adds_a_kiosk_section_when_missing() -> None:
    text = with_pin_hash('[hospital]\nname = "X"', "pbkdf2_sha256$1$a$b")
    assert tomllib.loads(text) == {
        "hospital": {"name": "X"},
        "kiosk": {"admin_pin_hash": "pbkdf2_sha256$1$a$b"},
    }
