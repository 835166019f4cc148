"""Getting one request to ORCID and an answer back: the HTTP layer under :class:`~.client.ORCIDClient`.

It owns what every ORCID call needs, whatever the call:

- one ``requests.Session`` (keep-alive, a pool large enough for worker threads) and a
  timeout on every attempt;
- a token bucket (:class:`~.ratelimit.RateLimiter`) in front of every attempt;
- retries with exponential backoff and full jitter for 429/5xx and transport failures,
  honouring ``Retry-After``, only where the caller says repeating cannot do harm;
- a :class:`CallInfo` for every attempt (``on_response``) and a log line without secrets.

What an error status *means* is :mod:`.responses`' job; this module returns the response.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..errors import ORCIDTimeout, TransportError
from .ratelimit import Limiter, RateLimiter
from .responses import error_code_of, parse_retry_after

__all__ = ["JSON", "ORCID_XML", "CallInfo", "Transport"]

# Calls are logged under the client's name, as they were before the transport had a module
# of its own: logging configurations that name "flask_orcid.protocol.client" keep working.
log = logging.getLogger("flask_orcid.protocol.client")

ORCID_XML = "application/vnd.orcid+xml"
JSON = "application/json"

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CallInfo:
    """One HTTP attempt, for metrics and audit logs: never carries tokens or bodies.

    ``status`` is ``None`` when no response arrived (timeout, connection error).
    """

    method: str
    operation: str
    url_path: str
    status: int | None
    error_code: int | None
    duration_ms: float


@dataclass(frozen=True)
class _Request:
    """One logical request, as the session will send it (every attempt sends the same)."""

    method: str
    url: str
    operation: str
    path: str  # what logs and CallInfo show: never a query string or a secret
    headers: dict[str, str]
    data: bytes | dict[str, str] | None


@dataclass(frozen=True)
class _Attempt:
    """What one attempt gave: a response, or the transport failure that replaced it."""

    response: requests.Response | None
    failure: TransportError | None
    duration_ms: float

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    @property
    def outcome(self) -> str:
        """The status, or the failure's class name, for log lines."""
        return str(self.status) if self.response is not None else type(self.failure).__name__


class Transport:
    """The session, the rate limiter and the retry policy that :class:`ORCIDClient` builds on.

    A base class rather than a member object so that the knobs stay attributes of the
    client (``client.sleep``, ``client.max_retries``, ``client.on_response``), as callers and
    tests set them.
    """

    #: Upper bound of one backoff wait, seconds.
    max_backoff: float = 30.0
    #: A ``Retry-After`` longer than this is not waited for: the error is raised at once
    #: with ``retry_after`` set, so the caller can schedule the work for later.
    max_retry_after: float = 60.0

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float],
        rate: float,
        burst: int,
        max_retries: int,
        backoff: float,
        rate_limiter: Limiter | None,
        session: requests.Session | None,
    ) -> None:
        if timeout is None:
            raise ValueError("ORCIDClient needs a timeout: every ORCID call must be bounded.")
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative.")
        self.timeout = timeout
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.rate_limiter: Limiter = rate_limiter or RateLimiter(rate, burst)
        self.session = session or self._new_session()
        self.on_response: Callable[[CallInfo], None] | None = None
        #: How to wait between retries (tests replace it to record the waits).
        self.sleep: Callable[[float], None] = time.sleep
        self._count = 0
        self._count_lock = threading.Lock()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        # Retries are ours (they know what is safe to repeat); urllib3 must not add its own.
        adapter = HTTPAdapter(pool_connections=10, pool_maxsize=20, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @property
    def request_count(self) -> int:
        """HTTP requests this client actually sent, retries included."""
        with self._count_lock:
            return self._count

    def close(self) -> None:
        self.session.close()

    def _backoff_delay(self, attempt: int) -> float:
        # Full jitter: uniform over [0, min(cap, base * 2**attempt)] spreads retries of many
        # workers instead of having them hit ORCID again in lockstep.
        return random.uniform(0.0, min(self.max_backoff, self.backoff * (2**attempt)))

    def _send(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        retry: bool,
        token: str | None = None,
        body: bytes | None = None,
        form: dict[str, str] | None = None,
        accept: str = ORCID_XML,
        log_path: str | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying where ``retry`` allows; return the final response.

        Raises :class:`ORCIDTimeout` / :class:`TransportError` when no response came, and
        returns at once (no retry) when ORCID asks us to wait longer than
        :attr:`max_retry_after`. Error statuses are returned for the caller to map.
        """
        request = _prepare(method, url, operation, token, body, form, accept, log_path)
        attempt = 0
        while True:
            result = self._attempt(request, attempt)
            wait = self._wait_before_retry(result, retry, attempt)
            if wait is None:
                if result.response is not None:
                    return result.response
                assert result.failure is not None  # an attempt has one or the other
                log.info("ORCID %s %s failed: %s", method, request.path, result.failure)
                raise result.failure
            log.warning(
                "ORCID %s %s -> %s; retry %d of %d in %.2f s",
                method,
                request.path,
                result.outcome,
                attempt + 1,
                self.max_retries,
                wait,
            )
            self.sleep(wait)
            attempt += 1

    def _attempt(self, request: _Request, attempt: int) -> _Attempt:
        """One HTTP attempt through the rate limiter, counted, reported and logged."""
        self.rate_limiter.acquire()
        with self._count_lock:
            self._count += 1
        started = time.monotonic()
        response: requests.Response | None = None
        failure: TransportError | None = None
        try:
            response = self.session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.data,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            failure = ORCIDTimeout(
                f"ORCID did not answer {request.method} {request.path} "
                f"within {self.timeout} seconds."
            )
        except requests.RequestException as exc:
            failure = TransportError(
                f"Could not reach ORCID for {request.method} {request.path}: {type(exc).__name__}."
            )
        result = _Attempt(response, failure, (time.monotonic() - started) * 1000.0)
        self._report(request, result, attempt)
        return result

    def _report(self, request: _Request, result: _Attempt, attempt: int) -> None:
        error_code = error_code_of(result.response)
        self._notify(
            CallInfo(
                method=request.method,
                operation=request.operation,
                url_path=request.path,
                status=result.status,
                error_code=error_code,
                duration_ms=round(result.duration_ms, 1),
            )
        )
        # The path holds the iD and put-code, never a query string or a secret; token
        # calls log only /oauth/token, never their form body.
        log.debug(
            "ORCID %s %s -> %s%s in %.0f ms (attempt %d)",
            request.method,
            request.path,
            result.outcome,
            f" (error code {error_code})" if error_code else "",
            result.duration_ms,
            attempt + 1,
        )

    def _wait_before_retry(self, result: _Attempt, retry: bool, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` when this one is final."""
        retry_after: float | None = None
        if result.response is not None:
            if result.response.status_code not in _RETRY_STATUSES:
                return None
            retry_after = parse_retry_after(result.response.headers.get("Retry-After"))
            if retry_after is not None and retry_after > self.max_retry_after:
                return None  # too long to wait here: the caller gets retry_after
        if not retry or attempt >= self.max_retries:
            return None
        delay = self._backoff_delay(attempt)
        return delay if retry_after is None else max(delay, retry_after)

    def _notify(self, info: CallInfo) -> None:
        if self.on_response is None:
            return
        try:
            self.on_response(info)
        except Exception:  # a metrics hook must never break an ORCID call
            log.exception("on_response callback failed")


def _prepare(
    method: str,
    url: str,
    operation: str,
    token: str | None,
    body: bytes | None,
    form: dict[str, str] | None,
    accept: str,
    log_path: str | None,
) -> _Request:
    headers = {"Accept": accept}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data: bytes | dict[str, str] | None = None
    if body is not None:
        headers["Content-Type"] = ORCID_XML
        data = body
    elif form is not None:
        data = form  # requests sends it form-encoded
    return _Request(method, url, operation, log_path or urlsplit(url).path, headers, data)
