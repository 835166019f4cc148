"""A thread-safe token bucket that keeps us inside ORCID's request rate.

ORCID's Member API allows 24 requests per second with a burst of 40 and answers 503 beyond
the burst (API-FACTS §8). Throttling on our side is cheaper than being refused: every HTTP
attempt the client makes first takes a token from the bucket. One bucket may be shared by
several clients and threads, since the limit is per client id, not per connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket: up to ``burst`` requests at once, then ``rate`` requests per second.

    :param rate: tokens added per second.
    :param burst: the bucket's size, which is also how many tokens it starts with.
    :param clock: a monotonic clock in seconds (injectable so tests need not wait).
    :param sleep: how to wait (injectable for the same reason).
    """

    def __init__(
        self,
        rate: float = 24.0,
        burst: int = 40,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate or rate <= 0:
            raise ValueError(f"rate must be a positive number of requests per second, not {rate!r}")
        if int(burst) < 1:
            raise ValueError(f"burst must be at least 1, not {burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()
        self._count = 0

    # Float refills land a hair under a whole token (0.9999999999); counting that as a token
    # avoids a wait too small for the clock to register.
    _EPSILON = 1e-9

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate!r}, burst={self.burst!r})"

    @property
    def request_count(self) -> int:
        """How many tokens were handed out, i.e. HTTP requests sent through this bucket."""
        with self._lock:
            return self._count

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now

    def try_acquire(self) -> bool:
        """Take a token if one is available now; never waits."""
        with self._lock:
            self._refill()
            if self._tokens >= 1.0 - self._EPSILON:
                self._tokens = max(0.0, self._tokens - 1.0)
                self._count += 1
                return True
            return False

    def acquire(self) -> None:
        """Take a token, waiting until one is available.

        The wait happens outside the lock so other threads can refill and take tokens
        meanwhile; a thread that loses the race simply computes a new wait.
        """
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= 1.0 - self._EPSILON:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    self._count += 1
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)


__all__ = ["RateLimiter"]
