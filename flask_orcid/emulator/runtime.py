"""The per-app emulator object: state plus the parts that are not data (signing key, limiter)."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import abort, current_app, session
from joserfc.jwk import RSAKey

from .state import EmulatorState, Limits


class WebhookSender(Protocol):
    """What the app needs from the webhook dispatcher (``webhooks.Dispatcher``)."""

    def notify(self, orcid: str) -> None: ...

    def reset(self) -> None: ...

    def deliveries(self) -> list[dict[str, Any]]: ...


class TokenBucket:
    """ORCID's per-client limit: ``rate`` requests/second, ``burst`` queued before a 503."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}

    def reset(self) -> None:
        with self.lock:
            self.buckets.clear()

    def allow(self, key: str, rate: float, burst: int) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens < 1.0:
                self.buckets[key] = (tokens, now)
                return False
            self.buckets[key] = (tokens - 1.0, now)
            return True


@dataclass
class RequestStats:
    """What reached the emulator, for tests that count calls (never token values)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=500))

    def record(self, method: str, path: str, endpoint: str, status: int) -> None:
        with self.lock:
            self.count += 1
            self.by_endpoint[f"{method} {endpoint}"] += 1
            self.log.append({"method": method, "path": path, "status": status})

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.by_endpoint.clear()
            self.log.clear()

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "count": self.count,
                "by_endpoint": dict(self.by_endpoint),
                "log": list(self.log),
            }


class Emulator:
    """Everything one emulator app needs at request time (``app.extensions["orcid_emulator"]``)."""

    def __init__(self, state: EmulatorState, config: dict[str, Any]):
        self.state = state
        self.default_limits = Limits(
            rate=float(config.get("EMULATOR_RATE", 24.0)),
            burst=int(config.get("EMULATOR_BURST", 40)),
            latency_ms=int(config.get("EMULATOR_LATENCY_MS", 0)),
        )
        self.limits = Limits(**vars(self.default_limits))
        self.bucket = TokenBucket()
        self.stats = RequestStats()
        # A fresh RS256 key per start, like a key rotation on every restart.
        self.kid = "emulator-" + secrets.token_hex(4)
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"}, private=True
        )
        self.webhooks: WebhookSender | None = None  # set by create_app (webhooks.Dispatcher)

    def reset_knobs(self) -> None:
        self.limits = Limits(**vars(self.default_limits))
        self.bucket.reset()
        with self.state.lock:
            self.state.faults.clear()
            self.state.clock_offset = 0.0


def emulator() -> Emulator:
    """The current app's emulator object."""
    em: Emulator = current_app.extensions["orcid_emulator"]
    return em


def state() -> EmulatorState:
    return emulator().state


def csrf_token() -> str:
    """The hidden form token, bound to the emulator's own session cookie."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf(value: str | None) -> None:
    expected = session.get("csrf")
    if not expected or not value or not hmac.compare_digest(expected, value):
        abort(400, description="csrf")
