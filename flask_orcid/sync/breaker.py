"""The worker's circuit breaker: stop calling ORCID while it is down.

Each transient failure of a call to ORCID (5xx, 503, 429, a timeout, a refused connection)
counts; any answer that is not one of those resets the count. After ``threshold`` failures in a
row the breaker opens: the worker claims nothing until ``open_until`` (``base`` seconds,
doubling with each opening in a row, at most ``cap``), instead of spending an attempt per row.
When the pause ends one claim goes through; a failure opens the breaker again at once (with a
longer pause), a success closes it. Rows are never given up for a transient failure: they back
off to ``ORCID_RETRY_MAX_SECONDS`` and wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["CircuitBreaker"]


class CircuitBreaker:
    """Consecutive transient failures → a pause of the whole worker (thread-safe).

    :param on_change: called with the pause's end (``time.time()`` seconds) when the breaker
        opens, and with ``None`` when it closes (the worker records it for ``status``).
    """

    def __init__(self, threshold: int = 5, base: float = 5.0, cap: float = 300.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[float | None, str | None], None] | None = None) -> None:
        self.threshold = max(1, int(threshold))
        self.base = max(0.0, float(base))
        self.cap = max(self.base, float(cap))
        self.clock = clock
        self.on_change = on_change
        self.failures = 0
        self.openings = 0
        self.open_until = 0.0
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        """True while the worker must not call ORCID."""
        with self._lock:
            return self.clock() < self.open_until

    def remaining(self) -> float:
        """Seconds left in the current pause (0 when closed)."""
        with self._lock:
            return max(0.0, self.open_until - self.clock())

    def failure(self, error: str) -> None:
        """A call failed in a way that says ORCID is down or overloaded."""
        with self._lock:
            self.failures += 1
            self.last_error = error[:500]
            now = self.clock()
            if self.failures < self.threshold or now < self.open_until:
                return
            self.openings += 1
            pause = min(self.cap, self.base * 2 ** (self.openings - 1))
            self.open_until = now + pause
            ends = time.time() + pause
        if self.on_change is not None:
            self.on_change(ends, self.last_error)

    def success(self) -> None:
        """ORCID answered (anything but a transient failure): close the breaker."""
        with self._lock:
            was_open = self.openings > 0
            self.failures = 0
            self.openings = 0
            self.open_until = 0.0
            self.last_error = None
        if was_open and self.on_change is not None:
            self.on_change(None, None)
