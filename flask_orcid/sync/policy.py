"""The worker's retry policy: its settings, which failures are transient, and the backoff."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import APIError, ORCIDError, RateLimitedError, ServerError, TransportError, XMLError
from ..protocol.vocabulary import MAX_BULK

__all__ = ["Settings", "backoff_delay", "error_fields", "is_outage", "is_transient"]


@dataclass
class Settings:
    """The worker's knobs, read from ``ORCID_*`` configuration."""

    max_attempts: int = 8
    lease_seconds: float = 300.0
    retry_base: float = 30.0
    retry_max: float = 3600.0
    batch_size: int = MAX_BULK
    #: transient failures in a row that pause the whole worker (the circuit breaker)
    breaker_threshold: int = 5
    breaker_base: float = 5.0
    breaker_max: float = 300.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            max_attempts=int(config.get("ORCID_MAX_ATTEMPTS", 8)),
            lease_seconds=float(config.get("ORCID_WORKER_LEASE_SECONDS", 300)),
            retry_base=float(config.get("ORCID_RETRY_BASE_SECONDS", 30)),
            retry_max=float(config.get("ORCID_RETRY_MAX_SECONDS", 3600)),
            batch_size=min(MAX_BULK, int(config.get("ORCID_WORKER_BATCH", MAX_BULK))),
            breaker_threshold=int(config.get("ORCID_BREAKER_THRESHOLD", 5)),
            breaker_base=float(config.get("ORCID_BREAKER_BASE_SECONDS", 5)),
            breaker_max=float(config.get("ORCID_BREAKER_MAX_SECONDS", 300)),
        )


def backoff_delay(attempts: int, settings: Settings, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: exponential, capped, with ±50 % jitter."""
    uniform = rng.uniform if rng is not None else random.uniform
    base = min(settings.retry_max, settings.retry_base * (2 ** max(0, attempts - 1)))
    delay = base * uniform(0.5, 1.5)
    if retry_after:
        delay = max(delay, float(retry_after))
    return min(delay, max(settings.retry_max, float(retry_after or 0)))


def error_fields(exc: BaseException) -> dict[str, Any]:
    """Status, ORCID code and the message we show people for an exception."""
    if isinstance(exc, APIError):
        message = exc.user_message or exc.developer_message or str(exc)
        return {"error_status": exc.status, "error_code": exc.error_code,
                "error_message": (message or type(exc).__name__)[:2000]}
    return {"error_status": None, "error_code": None,
            "error_message": (str(exc) or type(exc).__name__)[:2000]}


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later: ORCID down, slow, overloaded or unreachable."""
    if isinstance(exc, (ServerError, RateLimitedError, TransportError, XMLError)):
        return True
    if isinstance(exc, APIError) and exc.status is not None and exc.status >= 500:
        return True
    return not isinstance(exc, ORCIDError)  # unexpected: retry rather than lose the row


def is_outage(exc: BaseException) -> bool:
    """ORCID itself is down, overloaded or unreachable (what the circuit breaker counts)."""
    if isinstance(exc, (ServerError, RateLimitedError, TransportError)):
        return True
    return isinstance(exc, APIError) and exc.status is not None and exc.status >= 500
