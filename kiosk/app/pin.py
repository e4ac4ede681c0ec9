"""The admin PIN: salted hashes, wrong-PIN lockout and writing the hash into the config file.

No Qt here: the `kiosk set-pin` command and the tests use it without a screen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 310_000
PIN_PATTERN = re.compile(r"^[0-9]{4,12}$")

MAX_ATTEMPTS = 5
LOCKOUT_SECONDS = 300.0


class PinError(ValueError):
    """A PIN that cannot be used (wrong length, not digits); the message is for staff."""


def check_pin_format(pin: str) -> str:
    if not PIN_PATTERN.match(pin):
        raise PinError("the PIN must be 4 to 12 digits")
    return pin


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """`pbkdf2_sha256$ITERATIONS$SALT$HASH` with a random 16-byte salt (base64url, no padding)."""
    check_pin_format(pin)
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches `stored`; a malformed or empty hash matches nothing."""
    try:
        algorithm, iterations_text, salt_text, digest_text = stored.split("$")
        iterations = int(iterations_text)
        salt = _unb64(salt_text)
        expected = _unb64(digest_text)
    except ValueError:
        return False
    if algorithm != ALGORITHM or not 1 <= iterations <= 10_000_000 or not expected:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(candidate, expected)


@dataclass
class PinLockout:
    """Counts wrong PINs; after `max_attempts` in a row, refuses every PIN for a while."""

    max_attempts: int = MAX_ATTEMPTS
    lockout_seconds: float = LOCKOUT_SECONDS
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    _locked_until: float | None = field(default=None, repr=False)

    def locked(self) -> bool:
        if self._locked_until is None:
            return False
        if self.clock() >= self._locked_until:
            self._locked_until = None
            self.failures = 0
            return False
        return True

    def remaining_seconds(self) -> float:
        if not self.locked() or self._locked_until is None:
            return 0.0
        return max(0.0, self._locked_until - self.clock())

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.max_attempts:
            self._locked_until = self.clock() + self.lockout_seconds

    def record_success(self) -> None:
        self.failures = 0
        self._locked_until = None

    def attempt(self, pin: str, stored: str) -> bool | None:
        """None while locked (the PIN is not even checked), else whether it was right."""
        if self.locked():
            return None
        if stored and verify_pin(pin, stored):
            self.record_success()
            return True
        self.record_failure()
        return False


def with_pin_hash(toml_text: str, pin_hash: str) -> str:
    """The config text with `[kiosk] admin_pin_hash` set; comments and every other key kept."""
    import tomlkit  # only here: the kiosk's screens load this module at start-up
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(toml_text)
    except TOMLKitError as exc:
        raise PinError(f"the config file is not valid TOML ({exc})") from None
    kiosk = document.get("kiosk")
    if kiosk is None:
        kiosk = tomlkit.table()
        document["kiosk"] = kiosk
    elif not isinstance(kiosk, dict):
        raise PinError("`kiosk` in the config file is not a table")
    kiosk["admin_pin_hash"] = pin_hash
    text = tomlkit.dumps(document)
    parsed = tomllib.loads(text)  # never write a file that would not load
    if parsed.get("kiosk", {}).get("admin_pin_hash") != pin_hash:
        raise PinError("could not place admin_pin_hash under [kiosk] in the config file")
    return text
