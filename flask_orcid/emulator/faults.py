"""Rate limit, added latency, scripted faults and request counting, as request hooks.

The limit is ORCID's (API-FACTS §8): a token bucket per client, 24 requests/second with a burst
of 40; beyond the burst the answer is 503. Faults let tests provoke what the real registry does
rarely: an error status, a hang past the client's timeout, a dropped connection, or a write that
is applied but whose response is lost (the crash window a client must survive).
"""

from __future__ import annotations

import logging
import re
import socket
import time

from flask import Flask, Response, g, request

from .formats import error_response
from .runtime import emulator
from .state import Fault

log = logging.getLogger(__name__)

_API_PATH = re.compile(r"^/v\d|^/[\dX-]{19}/")  # not /<iD>: that is the human page


def is_api_path(path: str) -> bool:
    return bool(_API_PATH.match(path))


def _client_key() -> str:
    """The bucket key: the token's client, or the caller's address when anonymous."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = emulator().state.find_token(header[7:].strip())
        if token is not None:
            return token.client_id
    return f"anon:{request.remote_addr}"


def _take_fault() -> Fault | None:
    st = emulator().state
    with st.lock:
        for fault in st.faults:
            if fault.count <= 0:
                continue
            if fault.method and fault.method.upper() != request.method:
                continue
            if not re.search(fault.path, request.path):
                continue
            fault.count -= 1
            fault.hits += 1
            return fault
    return None


def _failure(status: int, retry_after: int | None = None) -> Response:
    if status == 503:
        response = Response(
            "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            status=503, mimetype="text/html",
        )
    else:
        response = error_response(status, 9008 if status >= 500 else 9001,
                                  f"Emulated failure: HTTP {status}.")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def drop_connection() -> Response:
    """Close the socket under the request so the client sees no response at all.

    Werkzeug's development server exposes the connection as ``werkzeug.socket``. After the
    shutdown, writing the placeholder response fails inside the server, which treats that as a
    connection dropped by the peer and carries on quietly.
    """
    g.emulator_dropped = True
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already gone
            pass
        return Response(status=500)
    # Another server: the closest we can get is a gateway error.
    return Response("connection dropped (emulated)", status=502, mimetype="text/plain")


def install(app: Flask) -> None:
    @app.before_request
    def _before() -> Response | None:
        g.emulator_started = time.monotonic()
        path = request.path
        if path.startswith("/_emulator/"):
            return None
        em = emulator()
        api = is_api_path(path)
        if api:
            if em.limits.latency_ms:
                time.sleep(em.limits.latency_ms / 1000.0)
            if not em.bucket.allow(_client_key(), em.limits.rate, em.limits.burst):
                return _failure(503)
        fault = _take_fault()
        if fault is None:
            return None
        log.info("emulated fault %s on %s %s", fault.action, request.method, path)
        if fault.action == "status":
            return _failure(fault.status or 500, fault.retry_after)
        if fault.action == "hang":
            time.sleep(fault.hang_seconds if fault.hang_seconds is not None else 40.0)
            return _failure(fault.status or 504, fault.retry_after)
        if fault.action == "drop":
            return drop_connection()
        g.emulator_apply_then_fail = fault
        return None

    @app.after_request
    def _after(response: Response) -> Response:
        fault = g.pop("emulator_apply_then_fail", None)
        if fault is not None:
            if fault.then == "drop":
                response = drop_connection()
            else:
                response = _failure(fault.status or 500, fault.retry_after)
        if not request.path.startswith("/_emulator/"):
            rule = request.url_rule.rule if request.url_rule is not None else request.path
            status = 0 if g.get("emulator_dropped") else response.status_code
            emulator().stats.record(request.method, request.path, rule, status)
        return response
