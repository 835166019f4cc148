"""Issue 11 defect 1: the ``flask orcid deliver --loop`` worker survives database errors between
passes, and ``flask orcid status`` says when it last ran and that it failed."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import sqlalchemy as sa

from tests.faults.harness import Database, Workers
from tests.outbox_support import (
    FAST,
    NO_POSTGRES,
    POSTGRES_URL,
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


@pytest.mark.parametrize("fault", [
    ("before", "FROM orcid_outbox_items"),      # the claim
    ("before", "orcid_pending_revocations"),    # the revocations retried after each pass
    ("after", "orcid_pending_revocations"),     # ... ended while idle: the rollback fails
    ("before", "orcid_worker_heartbeats"),      # the heartbeat that tells status how it went
    ("after", "orcid_worker_heartbeats"),
    ("before", "UPDATE orcid_outbox_items"),    # writing back what ORCID answered
], ids="-".join)
def test_the_loop_survives_its_connection_terminated_at_any_statement(
        make_app, emulator, connect, tmp_path, fault):
    # A PostgreSQL restart or failover ends the worker's connection wherever it is: before a
    # statement, or while it sits idle in a transaction, so that the rollback is what fails.
    # The loop must live on and deliver what is published afterwards.
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    schema = f"loop_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    options = {"SQLALCHEMY_DATABASE_URI": POSTGRES_URL, "SQLALCHEMY_ENGINE_OPTIONS": {
        "connect_args": {"options": f"-csearch_path={schema}"}}}
    workers = None
    try:
        app = make_app(**options, **FAST)
        who = new_researcher(emulator)
        user = connect_user(app, connect, who)
        publish(app, user, "thesis:1", thesis(1))
        workers = Workers({**options, **FAST, "ORCID_EMULATOR_URL": emulator.url,
                           "ORCID_CLIENT_ID": emulator.client_id,
                           "ORCID_CLIENT_SECRET": emulator.client_secret, "_loop": 0.1,
                           "_terminate": [fault]}, tmp_path, 1)
        workers.start_all()
        _until(lambda: our_items(emulator, who["orcid"]), 30, "the first delivery")
        publish(app, user, "thesis:2", thesis(2))
        _until(lambda: len(our_items(emulator, who["orcid"])) == 2, 30,
               "delivery after the connection was terminated")
        workers.check_alive()
        log = next(tmp_path.glob("worker-0-*.log")).read_text()
        assert f"terminated the connection {fault[0]}" in log  # the fault did happen
    finally:
        if workers is not None:
            workers.kill_all()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
