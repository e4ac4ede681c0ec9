"""A USB code scanner working as a keyboard, told apart from a person by the time between keys.

Such a scanner types the decoded text and Enter within a few milliseconds a key; a person, even
a fast typist, takes ~100 ms or more. `KeystrokeScanner` collects keys that follow each other
within `max_gap` seconds and, at Enter, hands out the text if it came that fast and is long
enough; anything slower starts over. No Qt: the window feeds it key texts and times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.app.citizen_card import MAX_LENGTH

# Seconds between two keys of one scan. Scanners in keyboard mode send ~1–10 ms apart (a USB
# keyboard's poll interval); 60 ms leaves room for a busy PC and is still well below people.
MAX_KEY_GAP = 0.06
MIN_SCAN_LENGTH = 4  # shorter "scans" are stray keys


@dataclass
class KeystrokeScanner:
    max_gap: float = MAX_KEY_GAP
    min_length: int = MIN_SCAN_LENGTH
    max_length: int = MAX_LENGTH + 1  # kept beyond it: the reader calls it too long
    _keys: list[str] = field(default_factory=list)
    _last: float | None = None

    @property
    def collecting(self) -> bool:
        """Keys are arriving like a scanner's (the caller keeps them from the screen)."""
        return bool(self._keys)

    def key(self, text: str, at: float) -> None:
        """A key that types `text` (one or more characters), pressed at `at` seconds."""
        if not text:
            return
        if self._last is not None and at - self._last > self.max_gap:
            self._keys.clear()
        self._last = at
        if sum(map(len, self._keys)) < self.max_length:
            self._keys.append(text)

    def enter(self, at: float) -> str | None:
        """Enter at `at`: the scanned text if the keys came like a scanner's, else None."""
        text = "".join(self._keys)
        fast = self._last is not None and at - self._last <= self.max_gap
        self.reset()
        return text if fast and len(text) >= self.min_length else None

    def reset(self) -> None:
        self._keys.clear()
        self._last = None
