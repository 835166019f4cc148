"""Cheap, cached checks made before a page claims something (issue 14, items 5 and 7).

- :func:`verify_connection`: does ORCID still accept the stored token? ORCID's advice is to use
  the token you hold to check an existing permission; one ``GET /person`` through the app's API
  client (so from its shared rate budget), trusted ``ORCID_TOKEN_CHECK_SECONDS``. A 401 marks
  the connection as needing a new sign-in, exactly as the delivery worker would.
- :func:`orcid_reachable`: does ORCID's sign-in page answer? Checked before ``/connect`` sends the
  browser there, trusted ``ORCID_REACHABILITY_SECONDS`` (0 turns the check off).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

import requests
from flask import current_app

from .errors import InvalidTokenError, ORCIDError
from .state import get_state
from .sync import connections

__all__ = ["CheckCache", "orcid_reachable", "verify_connection"]

log = logging.getLogger(__name__)

#: A connection whose token ORCID accepted / refused / could not be asked about.
ACCEPTED, REFUSED, UNKNOWN = "accepted", "refused", "unknown"


class CheckCache:
    """Answers with an expiry, shared by the threads of one app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._answers.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._answers.pop(key, None)
                return None
            return entry[1]

    def put(self, key: str, value: Any, seconds: float) -> None:
        with self._lock:
            if len(self._answers) > 10_000:  # bounded: drop everything stale
                now = time.monotonic()
                self._answers = {k: v for k, v in self._answers.items() if v[0] >= now}
            self._answers[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


def _cache() -> CheckCache:
    cache = current_app.extensions.get("orcid_checks")
    if cache is None:
        cache = current_app.extensions.setdefault("orcid_checks", CheckCache())
    return cache


def _token_key(account: Any) -> str:
    # the token itself never becomes a key (keys may be logged or inspected)
    digest = hashlib.sha256(str(account.access_token).encode()).hexdigest()[:32]
    return f"token:{account.user_key}:{digest}"


def verify_connection(account: Any) -> str:
    """``"accepted"``, ``"refused"`` or ``"unknown"`` (ORCID could not be asked) for ``account``.

    Only an active connection is checked; an inactive one is ``"refused"`` without a call.
    """
    ext = get_state().extension
    if account is None or not ext.has_full_connection(account):
        return REFUSED
    key = _token_key(account)
    cached = _cache().get(key)
    if cached is not None:
        return str(cached)
    seconds = float(current_app.config["ORCID_TOKEN_CHECK_SECONDS"])
    try:
        ext.api_client().read_person(account.orcid, account.access_token)
    except InvalidTokenError:
        connections.token_rejected(ext.db.session, ext._models(), account.user_key,
                                   account.access_token)
        _cache().put(key, REFUSED, seconds)
        return REFUSED
    except ORCIDError as exc:
        log.info("could not check the ORCID connection of %s: %s", account.orcid,
                 type(exc).__name__)
        return UNKNOWN
    _cache().put(key, ACCEPTED, seconds)
    return ACCEPTED


def orcid_reachable() -> bool:
    """Whether ORCID's sign-in page answers (any answer below 500 counts)."""
    cfg = current_app.config
    seconds = float(cfg["ORCID_REACHABILITY_SECONDS"])
    if seconds <= 0:  # the check is turned off
        return True
    url = get_state().endpoints.authorize_url
    cached = _cache().get(f"reachable:{url}")
    if cached is not None:
        return bool(cached)
    timeout = (min(float(cfg["ORCID_CONNECT_TIMEOUT"]), 3.0), 3.0)
    try:
        with requests.get(url, timeout=timeout, allow_redirects=False, stream=True) as response:
            reachable = response.status_code < 500
    except requests.RequestException as exc:
        log.warning("ORCID's sign-in page did not answer: %s", type(exc).__name__)
        reachable = False
    # a failure is re-checked sooner: the researcher is waiting to try again
    _cache().put(f"reachable:{url}", reachable, seconds if reachable else min(seconds, 10.0))
    return reachable
