"""Delivery as Celery tasks (issue 11, item 11), with a real Celery worker process and beat
against the Redis broker on this machine: a deposit's commit wakes a task that delivers it, and
the periodic task delivers what no wake-up announced. The outbox stays the source of truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.celery_host import build
from tests.outbox_support import (
    FAST,
    connect_user,
    new_researcher,
    our_items,
    publish,
    row,
    sqlite_file,
    thesis,
)
from tests.plugins.app import db

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("FLASK_ORCID_TEST_CELERY_BROKER", "redis://127.0.0.1:6379/14")

pytest.importorskip("celery")


@pytest.fixture(autouse=True)
def _broker():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis broker at {BROKER}")


def _spec(emulator, tmp_path, interval: float, delivery: str) -> dict:
    return {"broker": BROKER, "queue": f"orcid-test-{uuid.uuid4().hex[:10]}",
            "interval": interval,
            "config": {"SQLALCHEMY_DATABASE_URI": sqlite_file(tmp_path),
                       "ORCID_EMULATOR_URL": emulator.url, "ORCID_CLIENT_ID": emulator.client_id,
                       "ORCID_CLIENT_SECRET": emulator.client_secret, "ORCID_DELIVERY": delivery,
                       "ORCID_TOKEN_KEYS": "mZ2-zh0bnBfeSBLDJnLVRcsGRqHrB2u6Nv4c9kl5uJg=",
                       "SECRET_KEY": "test-secret-key-not-for-production", **FAST}}


def _start_worker(spec: dict, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "FLASK_ORCID_CELERY_TEST": json.dumps(spec)}
    with open(tmp_path / "worker.log", "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.celery_host", "worker", "-B",
             "-s", str(tmp_path / "beat-schedule"), "--pool", "solo", "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait_for(predicate, seconds: float = 40.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_deposit_commit_wakes_a_celery_task_that_delivers_it(emulator, connect,
                                                               tmp_path):
    # beat's first pass would come after 10 minutes: only the wake-up can deliver in time
    spec = _spec(emulator, tmp_path, interval=600.0, delivery="celery")
    _celery, app, _task = build(spec)
    with app.app_context():
        db.create_all()
    researcher = new_researcher(emulator)
    user = connect_user(app, connect, researcher)
    worker = _start_worker(spec, tmp_path)
    try:
        publish(app, user, "thesis:1", thesis(1))
        assert _wait_for(lambda: len(our_items(emulator, researcher["orcid"])) == 1), \
            (tmp_path / "worker.log").read_text()
    finally:
        _stop(worker)
    assert row(app, user, "thesis:1").state == "synced"
    assert [i["title"] for i in our_items(emulator, researcher["orcid"])] == ["Thesis number 1"]


def test_the_periodic_celery_task_delivers_what_no_wake_up_announced(make_app, emulator,
                                                                     connect, tmp_path):
    # ORCID_DELIVERY "off" on the web side: no wake-up is sent, beat's pass finds the row
    spec = _spec(emulator, tmp_path, interval=1.0, delivery="off")
    _celery, app, _task = build(spec)
    with app.app_context():
        db.create_all()
    researcher = new_researcher(emulator)
    user = connect_user(app, connect, researcher)
    publish(app, user, "thesis:2", thesis(2))
    worker = _start_worker(spec, tmp_path)
    try:
        assert _wait_for(lambda: len(our_items(emulator, researcher["orcid"])) == 1), \
            (tmp_path / "worker.log").read_text()
    finally:
        _stop(worker)
    assert row(app, user, "thesis:2").state == "synced"


def test_a_broker_that_is_down_never_fails_the_deposit(emulator, connect, tmp_path):
    spec = _spec(emulator, tmp_path, interval=600.0, delivery="celery")
    spec["broker"] = "redis://127.0.0.1:1/0"  # nothing listens there
    _celery, app, _task = build(spec)
    with app.app_context():
        db.create_all()
    researcher = new_researcher(emulator)
    user = connect_user(app, connect, researcher)
    publish(app, user, "thesis:3", thesis(3))  # commits; the wake-up fails on its own thread
    assert row(app, user, "thesis:3").state == "pending"  # the outbox keeps it for beat
