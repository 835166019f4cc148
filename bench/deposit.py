"""The deposit request with ``publish()`` in the host's transaction, over the same request
without it: in-process (Flask's test client) and over HTTP (a local server, one keep-alive
connection). Each request inserts a thesis and commits; the second kind also publishes it.
Medians of alternating requests, after a warm-up."""

from __future__ import annotations

import logging
import statistics
import threading
import time
import uuid
from collections.abc import Callable

import requests
from common import free_port, make_app, thesis
from werkzeug.serving import make_server


def _host(database_url: str, emulator_url: str):  # type: ignore[no-untyped-def]
    app, db, orcid = make_app(database_url, emulator_url)

    class Thesis(db.Model):
        __tablename__ = "bench_theses"
        id = db.Column(db.Integer, primary_key=True)
        key = db.Column(db.String(64), nullable=False, unique=True)
        title = db.Column(db.String(255), nullable=False)
        author = db.Column(db.String(64), nullable=False)

    def deposit(publish: bool) -> str:
        key = f"thesis:{uuid.uuid4().hex}"
        n = int(time.monotonic_ns() % 1000)
        db.session.add(Thesis(key=key, title=f"Benchmark thesis {n}", author="user-1"))
        if publish:
            orcid.publish("user-1", key, thesis(n))
        db.session.commit()
        return "deposited"

    app.add_url_rule("/plain", "plain", lambda: deposit(False), methods=["POST"])
    app.add_url_rule("/orcid", "orcid", lambda: deposit(True), methods=["POST"])
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _medians(call: Callable[[str], None], rounds: int, warmup: int) -> tuple[float, float]:
    times: dict[str, list[float]] = {"/plain": [], "/orcid": []}
    for i in range(warmup + rounds):
        for path in ("/plain", "/orcid") if i % 2 else ("/orcid", "/plain"):
            t0 = time.perf_counter()
            call(path)
            if i >= warmup:
                times[path].append(time.perf_counter() - t0)
    return statistics.median(times["/plain"]), statistics.median(times["/orcid"])


def deposit_ratios(database_url: str, emulator_url: str, rounds: int = 400,
                   warmup: int = 50) -> list[tuple[str, float, float, float]]:
    """``(where, ratio, plain seconds, with-publish seconds)`` in-process and over HTTP."""
    app = _host(database_url, emulator_url)
    client = app.test_client()

    def in_process(path: str) -> None:
        assert client.post(path).status_code == 200

    plain, with_publish = _medians(in_process, rounds, warmup)
    out = [("in-process", with_publish / plain, plain, with_publish)]

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", free_port(), app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    with requests.Session() as http:
        def over_http(path: str) -> None:
            assert http.post(base + path, timeout=10).status_code == 200

        plain, with_publish = _medians(over_http, rounds, warmup)
    server.shutdown()
    out.append(("over HTTP", with_publish / plain, plain, with_publish))
    return out
