"""The token bucket keeps the client inside ORCID's 24 req/s, burst 40 (API-FACTS §8)."""

from __future__ import annotations

import threading
import time

import pytest

from flask_orcid.protocol.ratelimit import RateLimiter


class FakeClock:
    """A clock that only moves when someone sleeps: the limiter's waits cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the limiter must never spin with zero waits"
        with self.lock:
            self.now += seconds


def test_burst_is_available_at_once_then_rate_per_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=24.0, burst=40, clock=clock, sleep=clock.sleep)

    for _ in range(40):
        limiter.acquire()
    assert clock.now == 1000.0, "the first `burst` requests must not wait"

    extra = 48
    for _ in range(extra):
        limiter.acquire()
    # 48 more tokens at 24/s take two seconds of (fake) time, no more, no less.
    assert clock.now - 1000.0 == pytest.approx(extra / 24.0, rel=1e-6)
    assert limiter.request_count == 40 + extra


def test_tokens_per_interval_never_exceed_rate_plus_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=5, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(200):
        limiter.acquire()
        stamps.append(clock())
    # In any window of one second at most rate + burst tokens were handed out.
    for start in stamps:
        in_window = sum(1 for s in stamps if start <= s < start + 1.0)
        assert in_window <= 10 + 5
    # And in the steady state the limiter really delivers the rate.
    duration = stamps[-1] - stamps[0]
    assert (200 - 5) / duration == pytest.approx(10.0, rel=0.01)


def test_idle_time_refills_only_up_to_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
    clock.sleep(3600)  # an idle hour does not bank 7200 tokens
    granted = 0
    while limiter.try_acquire():
        granted += 1
    assert granted == 3


def test_try_acquire_does_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)
    assert limiter.try_acquire() is True
    assert limiter.try_acquire() is False
    assert clock.now == 1000.0
    assert limiter.request_count == 1


def test_threads_share_one_bucket() -> None:
    # Real clock, but high rate and a lower bound only: a slow machine cannot make this fail,
    # a limiter that lets threads through unthrottled can.
    limiter = RateLimiter(rate=400.0, burst=10)
    per_thread = 30
    threads = [
        threading.Thread(target=lambda: [limiter.acquire() for _ in range(per_thread)])
        for _ in range(4)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    elapsed = time.monotonic() - started
    assert limiter.request_count == 4 * per_thread
    assert elapsed >= (4 * per_thread - 10) / 400.0 * 0.9


@pytest.mark.parametrize(("rate", "burst"), [(0, 10), (-1.0, 10), (5.0, 0)])
def test_nonsense_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate|burst"):
        RateLimiter(rate=rate, burst=burst)
