"""Issue 11 defect 1: the ``flask orcid deliver --loop`` worker survives database errors between
passes, and ``flask orcid status`` says when it last ran and that it failed."""

from __future__ import annotations

import os
import time

import pytest

from tests.faults.harness import Database, Workers
from tests.outbox_support import (
    FAST,
    connect_user,
    new_researcher,
    our_items,
    publish,
    sqlite_file,
    thesis,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL")


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_loop_survives_a_locked_database_and_status_tells(make_app, emulator, connect,
                                                              tmp_path):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    url = sqlite_file(tmp_path)
    app = make_app(SQLALCHEMY_DATABASE_URI=url, **FAST)
    who = new_researcher(emulator)
    user = connect_user(app, connect, who)
    runner = app.test_cli_runner()
    assert "no delivery worker has run" in runner.invoke(args=["orcid", "status"]).output
    workers = Workers({"SQLALCHEMY_DATABASE_URI": url, **FAST,
                       "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.2}},
                       "ORCID_EMULATOR_URL": emulator.url, "ORCID_CLIENT_ID": emulator.client_id,
                       "ORCID_CLIENT_SECRET": emulator.client_secret, "_loop": 0.1},
                      tmp_path, 1)
    workers.start_all()
    try:
        pid = workers.pids()[0]

        def line() -> str:
            out = runner.invoke(args=["orcid", "status"]).output
            return next((ln for ln in out.splitlines() if f":{pid}:" in ln), "")

        assert "; ok" in _until(line, 20, "the worker's first pass")
        # a lock held longer than the worker's busy timeout: its passes fail meanwhile
        Database(url, None).cut(type("Fixed", (), {"uniform": lambda self, a, b: 1.0})())
        workers.check_alive()
        shown = _until(lambda: "database is locked" in line() and line(), 10,
                       "status to show the error")
        assert "FAILING since" in shown or "last error" in shown
        publish(app, user, "thesis:1", thesis(1))
        _until(lambda: our_items(emulator, who["orcid"]), 20, "delivery after the lock")
        workers.check_alive()
        assert "ok since" in _until(line, 5, "status")
    finally:
        workers.kill_all()
