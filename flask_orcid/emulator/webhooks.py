"""Webhooks (API-FACTS §9): registration without a version prefix, callbacks on changes.

ORCID POSTs an empty body to the callback when a watched record changes and retries failures
with a linear delay. Here the first attempt goes out after ``EMULATOR_WEBHOOK_DELAY`` seconds
(0 = at once) from a background thread; retries wait ``EMULATOR_WEBHOOK_RETRY_DELAY`` x failures.
A notification already waiting for a callback absorbs later changes (ORCID batches them too).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from flask import Blueprint, Flask, Response, request

from .formats import Denied, api_error_response, oauth_json
from .rules import ApiError
from .runtime import Emulator, state
from .state import Webhook

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)


class Dispatcher:
    """Sends callback POSTs from one daemon thread."""

    def __init__(self, app: Flask, em: Emulator):
        self.em = em
        self.delay = float(app.config.get("EMULATOR_WEBHOOK_DELAY") or 0.0)
        self.retry_delay = float(app.config.get("EMULATOR_WEBHOOK_RETRY_DELAY") or 1.0)
        self.max_attempts = int(app.config.get("EMULATOR_WEBHOOK_MAX_ATTEMPTS") or 5)
        self.cond = threading.Condition()
        self.queue: list[tuple[float, int, str, str, int, int]] = []
        self.pending: set[tuple[str, str]] = set()
        self.log: deque[dict[str, Any]] = deque(maxlen=500)
        self.generation = 0
        self.seq = itertools.count()
        self.thread: threading.Thread | None = None
        self.session = requests.Session()

    def notify(self, orcid: str) -> None:
        st = self.em.state
        with st.lock:
            urls = sorted({w.url for w in st.webhooks if w.orcid == orcid})
        if not urls:
            return
        with self.cond:
            for url in urls:
                if (orcid, url) in self.pending:
                    continue
                self.pending.add((orcid, url))
                heapq.heappush(self.queue, (time.monotonic() + self.delay, next(self.seq), orcid,
                                            url, 1, self.generation))
            self._ensure_thread()
            self.cond.notify_all()

    def reset(self) -> None:
        with self.cond:
            self.generation += 1
            self.queue.clear()
            self.pending.clear()
            self.log.clear()
            self.cond.notify_all()

    def deliveries(self) -> list[dict[str, Any]]:
        with self.cond:
            return list(self.log)

    def _ensure_thread(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="emulator-webhooks",
                                           daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue or self.queue[0][0] > time.monotonic():
                    timeout = self.queue[0][0] - time.monotonic() if self.queue else None
                    self.cond.wait(timeout)
                due, _seq, orcid, url, attempt, generation = heapq.heappop(self.queue)
                if generation != self.generation:
                    continue
                self.pending.discard((orcid, url))
            status, error = self._send(url)
            ok = status is not None and 200 <= status < 300
            with self.cond:
                if generation != self.generation:
                    continue
                self.log.append({"orcid": orcid, "url": url, "attempt": attempt,
                                 "status": status, "ok": ok, "error": error,
                                 "at": time.time()})
                if not ok and attempt < self.max_attempts and (orcid, url) not in self.pending:
                    self.pending.add((orcid, url))
                    heapq.heappush(self.queue, (time.monotonic() + self.retry_delay * attempt,
                                                next(self.seq), orcid, url, attempt + 1,
                                                generation))
                    self.cond.notify_all()

    def _send(self, url: str) -> tuple[int | None, str | None]:
        try:
            # One connection per callback, closed afterwards, like a periodic batch job.
            response = self.session.post(url, data=b"", timeout=(3.0, 10.0),
                                         headers={"Connection": "close"})
            return response.status_code, None
        except requests.RequestException as exc:
            log.info("webhook callback to %s failed: %s", urlsplit(url).netloc, type(exc).__name__)
            return None, type(exc).__name__


def _callback_from_path(orcid: str, converted: str) -> str:
    """The callback URL as sent (URL-encoded in the path), read from the raw request URI."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    marker = f"/{orcid}/webhook/"
    if raw and marker in raw:
        encoded = raw.split(marker, 1)[1].split("?", 1)[0]
        url = unquote(encoded)
    else:
        url = converted
    if "://" not in url:
        url = f"http://{url}"  # ORCID prepends http:// to a URL without a scheme
    return url


def _webhook_token() -> Any:
    st = state()
    header = request.headers.get("Authorization", "")
    value = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = st.find_token(value) if value else None
    if token is None or st.token_status(token) != "active":
        raise Denied(oauth_json(401, "invalid_token", f"Invalid access token: {value}"))
    if "/webhook" not in token.scopes or token.orcid is not None:
        raise Denied(oauth_json(403, "forbidden", "Access is denied: the /webhook scope is "
                                "required."))
    return token


@bp.route("/<orcid>/webhook/<path:callback>", methods=["PUT", "DELETE"], merge_slashes=False)
def webhook(orcid: str, callback: str) -> Response:
    st = state()
    try:
        with st.lock:
            token = _webhook_token()
            if orcid not in st.researchers:
                raise ApiError(404, 9011, f"404 Not Found: The ORCID record {orcid} was not "
                               "found.")
            url = _callback_from_path(orcid, callback)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ApiError(400, 9001, f"400 Bad Request: Invalid callback URL {url}.")
            existing = next((w for w in st.webhooks if w.orcid == orcid and w.url == url), None)
            if request.method == "PUT":
                if existing is not None:
                    return Response(status=204)
                st.webhooks.append(Webhook(orcid, url, token.client_id, st.now()))
                st.save()
                response = Response(status=201)
                response.headers["Location"] = request.base_url
                return response
            if existing is None:
                raise ApiError(404, 9028, "404 Not Found: The webhook was not found.")
            if existing.client_id != token.client_id:
                raise ApiError(403, 9014, "403 Forbidden: Only the client that registered the "
                               "webhook can remove it.")
            st.webhooks.remove(existing)
            st.save()
            return Response(status=204)
    except Denied as exc:
        return exc.response
    except ApiError as exc:
        return api_error_response(exc)
