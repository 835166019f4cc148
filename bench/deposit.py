"""The deposit request with ``publish()`` in the host's transaction, over the same request
without it: in-process (Flask's test client) and over HTTP (a local server, one keep-alive
connection). Each request inserts a thesis and commits; the second kind also publishes it.
Medians of alternating requests, after a warm-up.

For scale, in-process, two more requests that only add a row of the host's own: one more
ORM object (a note on the thesis, as a host's audit log would add), and one bare INSERT of a
row of the outbox's size through the session's connection (``text()``, no index but the
primary key). They say what any extra row costs this request, before ``publish()`` validates
the item and serializes it."""

from __future__ import annotations

import functools
import logging
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import requests
import sqlalchemy as sa
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

    class Note(db.Model):
        __tablename__ = "bench_notes"
        id = db.Column(db.Integer, primary_key=True)
        thesis_key = db.Column(db.String(64), nullable=False)
        text = db.Column(db.Text, nullable=False)

    insert_row = sa.text("INSERT INTO bench_notes (thesis_key, text) VALUES (:key, :text)")
    filler = "x" * 450  # about the size of a thesis's stored payload

    def deposit(extra: str) -> str:
        key = f"thesis:{uuid.uuid4().hex}"
        n = int(time.monotonic_ns() % 1000)
        db.session.add(Thesis(key=key, title=f"Benchmark thesis {n}", author="user-1"))
        if extra == "orcid":
            orcid.publish("user-1", key, thesis(n))
        elif extra == "note":
            db.session.add(Note(thesis_key=key, text=filler))
        elif extra == "insert":
            db.session.execute(insert_row, {"key": key, "text": filler})
        db.session.commit()
        return "deposited"

    for extra in ("plain", "orcid", "note", "insert"):
        app.add_url_rule(f"/{extra}", extra, functools.partial(deposit, extra), methods=["POST"])
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _medians(call: Callable[[str], None], paths: Sequence[str], rounds: int,
             warmup: int) -> dict[str, float]:
    """The median seconds of each path, the paths taken in turn (reversed every other round)."""
    times: dict[str, list[float]] = {path: [] for path in paths}
    for i in range(warmup + rounds):
        for path in paths if i % 2 else paths[::-1]:
            t0 = time.perf_counter()
            call(path)
            if i >= warmup:
                times[path].append(time.perf_counter() - t0)
    return {path: statistics.median(seconds) for path, seconds in times.items()}


def deposit_ratios(database_url: str, emulator_url: str, rounds: int = 400,
                   warmup: int = 50) -> list[tuple[str, float, float, float]]:
    """``(where, ratio, plain seconds, with-publish seconds)`` in-process and over HTTP, then
    the two in-process references (one more ORM row, one bare INSERT) over the plain request."""
    app = _host(database_url, emulator_url)
    client = app.test_client()

    def in_process(path: str) -> None:
        assert client.post(path).status_code == 200

    median = _medians(in_process, ("/plain", "/orcid", "/note", "/insert"), rounds, warmup)
    plain = median["/plain"]
    out = [("in-process", median["/orcid"] / plain, plain, median["/orcid"])]
    references = [("  ref: one more ORM row", median["/note"] / plain, plain, median["/note"]),
                  ("  ref: one bare INSERT", median["/insert"] / plain, plain,
                   median["/insert"])]

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", free_port(), app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    with requests.Session() as http:
        def over_http(path: str) -> None:
            assert http.post(base + path, timeout=10).status_code == 200

        median = _medians(over_http, ("/plain", "/orcid"), rounds, warmup)
    server.shutdown()
    out.append(("over HTTP", median["/orcid"] / median["/plain"], median["/plain"],
                median["/orcid"]))
    return out + references
