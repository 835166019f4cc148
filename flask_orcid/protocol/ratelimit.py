"""Token buckets that keep us inside ORCID's request rate.

ORCID's Member API allows 24 requests per second with a burst of 40 and answers 503 beyond
the burst (API-FACTS §8). Throttling on our side is cheaper than being refused: every HTTP
attempt the client makes first takes a token from a bucket. The limit is per client id, not per
connection, so the bucket must be shared by everything that uses the client id:

- :class:`RateLimiter` is one process's bucket (its threads share it);
- :class:`SharedRateLimiter` keeps the bucket's state in a store every process and host reads:
  the token-bucket arithmetic is pyrate-limiter's (:class:`pyrate_limiter.TokenBucket`, GCRA),
  the store is any :class:`pyrate_limiter.StateStore` (its ``RedisStateStore``, or the database
  store of :mod:`flask_orcid.sync.budget`).

Both satisfy :class:`Limiter`, which is all the transport needs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pyrate_limiter import Decision, Rate, StateStore, TokenBucket

log = logging.getLogger(__name__)


class Limiter(Protocol):
    """What the transport needs of a bucket: a token before every HTTP attempt."""

    def acquire(self) -> None: ...

    def try_acquire(self) -> bool: ...

    @property
    def request_count(self) -> int: ...


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


def token_bucket_rate(rate: float, burst: int) -> Rate:
    """pyrate-limiter's :class:`~pyrate_limiter.Rate` for ``rate`` tokens/s and ``burst``.

    Its limits are whole numbers per interval, so the interval is 1,000 s (in ms) and the limit
    ``rate * 1000``: a fractional rate such as 0.5/s stays exact.
    """
    if not rate or rate <= 0:
        raise ValueError(f"rate must be a positive number of requests per second, not {rate!r}")
    if int(burst) < 1:
        raise ValueError(f"burst must be at least 1, not {burst!r}")
    return Rate(max(1, round(float(rate) * 1000)), 1_000_000, burst=int(burst))


class SharedRateLimiter:
    """A token bucket whose state lives in ``store``, shared by every process that uses it.

    Each token is one atomic step of the store (a Lua script in Redis, one short transaction in
    the database), so processes and hosts never hand out the same token twice. When the store
    cannot be reached the limiter falls back to ``fallback`` (this process's own bucket) and
    logs it once, rather than stopping every ORCID call.

    :param store: where the state lives (a :class:`pyrate_limiter.StateStore`).
    :param clock: wall-clock seconds (shared state needs a clock every host agrees on).
    """

    def __init__(self, store: StateStore, rate: float = 24.0, burst: int = 40, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 fallback: RateLimiter | None = None) -> None:
        self.rate = float(rate)
        self.burst = int(burst)
        self.store = store
        self._rates = [token_bucket_rate(rate, burst)]
        self._algorithm = TokenBucket()
        self._clock = clock
        self._sleep = sleep
        self._fallback = fallback or RateLimiter(rate, burst)
        self._lock = threading.Lock()
        self._count = 0
        self._store_failing = False

    def __repr__(self) -> str:
        return (f"SharedRateLimiter({type(self.store).__name__}, rate={self.rate!r}, "
                f"burst={self.burst!r})")

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._count

    def _step(self) -> float | None:
        """Take a token: 0.0 when taken, else the seconds to wait; None if the store failed."""
        try:
            decision = self.store.check(self._algorithm, self._rates,
                                        int(self._clock() * 1000), 1)
        except Exception:  # the store is down: fall back to this process's bucket
            if not self._store_failing:
                log.warning("the shared ORCID rate budget cannot be reached; this process "
                            "keeps to the rate on its own until it can", exc_info=True)
            self._store_failing = True
            return None
        if self._store_failing:
            log.warning("the shared ORCID rate budget can be reached again")
            self._store_failing = False
        if not isinstance(decision, Decision):  # an asyncio store: not for this limiter
            raise TypeError(f"{type(self.store).__name__} is asynchronous; use a sync store")
        if decision.allowed:
            return 0.0
        wait_ms = decision.retry_after_ms
        return max(0.001, (wait_ms if wait_ms is not None else 1000 / self.rate) / 1000)

    def _counted(self) -> None:
        with self._lock:
            self._count += 1

    def try_acquire(self) -> bool:
        """Take a token if one is available now; never waits."""
        wait = self._step()
        if wait is None:
            taken = self._fallback.try_acquire()
        else:
            taken = wait == 0.0
        if taken:
            self._counted()
        return taken

    def acquire(self) -> None:
        """Take a token, waiting until one is available."""
        while True:
            wait = self._step()
            if wait is None:
                self._fallback.acquire()
                break
            if wait == 0.0:
                break
            self._sleep(wait)
        self._counted()


__all__ = ["Limiter", "RateLimiter", "SharedRateLimiter", "token_bucket_rate"]
