"""The outbox on PostgreSQL (psycopg 3): delivery, ``FOR UPDATE SKIP LOCKED`` claiming, and
several worker processes over the same rows.

Runs when ``FLASK_ORCID_TEST_POSTGRES`` names a server (``.ci/run`` sets it when one answers
on 127.0.0.1:5432); every test works in a schema of its own, dropped afterwards, so parallel
runs don't clash.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask_orcid.sync import outbox
from tests.outbox_support import (
    FAST,
    NO_POSTGRES,
    POSTGRES_URL,
    connect_user,
    deliver,
    new_researcher,
    our_items,
    publish,
    read_connected_records,
    retract,
    row,
    rows,
    self_value,
    thesis,
)
from tests.plugins.app import db, orcid

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_schema():
    schema = f"outbox_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _pg_config(schema: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": POSTGRES_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    }


@pytest.fixture
def app(make_app, emulator, pg_schema):
    emulator.limits(rate=100000, burst=100000, latency_ms=0)
    return make_app(**_pg_config(pg_schema), **FAST)


def test_delivery_round_trip_on_postgres(app, emulator, connect):
    who = new_researcher(emulator)
    user = connect_user(app, connect, who)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    for n in range(3):
        publish(app, user, f"thesis:{n}", thesis(n))
    deliver(app)
    assert len(our_items(emulator, who["orcid"])) == 3
    publish(app, user, "thesis:0", thesis(0, "Renamed"))
    retract(app, user, "thesis:1")
    deliver(app)
    titles = sorted(w["title"] for w in our_items(emulator, who["orcid"]))
    assert titles == ["Renamed", "Thesis number 2"]
    emulator.delete_item(who["orcid"], "work", row(app, user, "thesis:2").put_code)
    app.test_cli_runner().invoke(args=["orcid", "sync"])
    assert row(app, user, "thesis:2").state == "removed_by_researcher"


def test_skip_locked_claims_are_disjoint_across_threads(app, emulator, connect):
    keys = []
    for _ in range(3):
        who = new_researcher(emulator)
        keys.append(connect_user(app, connect, who))
    for n in range(60):
        publish(app, keys[n % 3], f"thesis:{n}", thesis(n))
    read_connected_records(app)
    claimed: list[list[int]] = []
    lock = threading.Lock()

    def claim(i: int) -> None:
        with app.app_context():
            deliverer = orcid.deliverer(app, owner=f"t{i}")
            deliverer.settings.batch_size = 7
            with Session(db.engine) as session:
                while True:
                    got, _ = deliverer.claim(session, f"t{i}#{uuid.uuid4().hex[:6]}")
                    if not got:
                        return
                    with lock:
                        claimed.append([r.id for r in got])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == 60 and len(set(ids)) == 60


def test_a_double_submission_of_a_new_key_fails_on_the_unique_constraint(app):
    """Two transactions publish the same new key at once: the second waits for the first and
    then fails, as two plain inserts would; one row stays."""
    with app.app_context():
        models, engine = orcid.models, db.engine
        first = Session(engine)
        outbox.publish(first, models, "double", "thesis:1", thesis(1))
        errors: list[BaseException] = []

        def second() -> None:
            with Session(engine) as session:
                try:
                    outbox.publish(session, models, "double", "thesis:1", thesis(1, "Other"))
                    session.commit()
                except sa.exc.IntegrityError as exc:
                    errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        with engine.connect() as probe:
            deadline = time.monotonic() + 10
            while not probe.execute(sa.text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                assert time.monotonic() < deadline, "the second publish never waited"
                time.sleep(0.01)
        first.commit()
        first.close()
        thread.join(10)
        assert len(errors) == 1
        with Session(engine) as session:
            titles = [json.loads(r.payload)["title"] for r in session.execute(
                sa.select(models.Item).where(models.Item.user_key == "double")).scalars()]
        assert titles == ["Thesis number 1"]


def _worker(config: dict, owner: str) -> subprocess.Popen:
    config = {**config, "_owner": owner}
    return subprocess.Popen([sys.executable, "-m", "tests.outbox_worker", json.dumps(config)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("processes", [2, 4])
def test_worker_processes_never_deliver_a_row_twice(make_app, emulator, connect, pg_schema,
                                                    processes):
    emulator.limits(rate=100000, burst=100000, latency_ms=0)
    config = {**_pg_config(pg_schema), **FAST, "ORCID_WORKER_BATCH": 10,
              "ORCID_CLIENT_ID": emulator.client_id,
              "ORCID_CLIENT_SECRET": emulator.client_secret, "ORCID_EMULATOR_URL": emulator.url}
    app = make_app(**config)
    researchers = [new_researcher(emulator) for _ in range(5)]
    keys = [connect_user(app, connect, who) for who in researchers]
    with app.app_context():
        for n in range(500):
            orcid.publish(keys[n % 5], f"thesis:{n}", thesis(n))
        db.session.commit()
    emulator.limits(rate=100000, burst=100000, latency_ms=15)  # so the workers overlap
    emulator.reset_requests()
    config.pop("SQLALCHEMY_ENGINE_OPTIONS")
    config["SQLALCHEMY_ENGINE_OPTIONS"] = _pg_config(pg_schema)["SQLALCHEMY_ENGINE_OPTIONS"]
    workers = [_worker(config, f"proc{i}") for i in range(processes)]
    summaries = []
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    emulator.limits(rate=100000, burst=100000, latency_ms=0)
    # every row synced, by exactly one worker, with exactly one successful write
    assert {r.state for r in rows(app)} == {"synced"}
    assert sum(s["synced"] for s in summaries) == 500
    assert sum(1 for s in summaries if s["claimed"]) >= 2, summaries  # they really shared
    with app.app_context():
        Event = orcid.models.Event
        writes = Counter(db.session.scalars(
            sa.select(Event.item_id).where(Event.outcome == "synced")).all())
        duplicates = db.session.scalar(
            sa.select(sa.func.count()).where(Event.outcome == "duplicate"))
    assert len(writes) == 500 and set(writes.values()) == {1}
    assert duplicates == 0
    # and ORCID holds each work exactly once
    for who in researchers:
        values = [self_value(w) for w in our_items(emulator, who["orcid"])]
        assert len(values) == 100 and len(set(values)) == 100
    assert not any(e["status"] == 409 for e in emulator.requests()["log"])
