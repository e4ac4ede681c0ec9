"""The one reconnect policy of every client: exponential backoff with full jitter.

The kiosk's sync worker, the counter and the board all wait `Backoff.next_delay()` after a
failure and call `reset()` when the server answers; a `Retry-After` from the server is honoured
by the caller as a lower bound. No HTTP and no Qt here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """AWS "full jitter": uniform(0, min(cap, base * 2**attempt))."""
    return rng.uniform(0.0, min(cap, base * (2 ** min(attempt, 32))))


@dataclass
class Backoff:
    """Counts failures in a row; each delay is full jitter over base * 2**(failures - 1)."""

    base: float = 0.5
    cap: float = 10.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        """Record one more failure and return how long to wait before the next try."""
        self.failures += 1
        return full_jitter(self.failures - 1, self.base, self.cap, self.rng)

    def reset(self) -> None:
        self.failures = 0
