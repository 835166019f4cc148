"""One ORCID rate budget for the client id, shared by every process (issue 11, item 8).

ORCID allows 24 requests/s with a burst of 40 per client id. Worker processes that each kept
their own bucket got 503s; processes drawing from the shared budget (a row in the outbox's
database, or Redis) get none. The emulator enforces ORCID's limit over real HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyrate_limiter import InMemoryStateStore, TokenBucket

from flask_orcid.protocol.client import ORCIDClient
from flask_orcid.protocol.ratelimit import RateLimiter, SharedRateLimiter
from flask_orcid.sync.budget import DatabaseStateStore, budget_from_config, budget_table
from tests.outbox_support import NO_POSTGRES, POSTGRES_URL
from tests.plugins.app import db, orcid
from tests.test_ratelimit import FakeClock

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("FLASK_ORCID_TEST_REDIS", "redis://127.0.0.1:6379/15")
CONFIG = {"ORCID_CLIENT_ID": "APP-TEST", "ORCID_RATE_LIMIT": 24.0, "ORCID_RATE_BURST": 40}


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis answering at {REDIS_URL}")
    return client


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.sqlite'}"
    engine = sa.create_engine(url)
    budget_table(sa.MetaData()).create(engine)
    engine.dispose()
    return url


@pytest.fixture
def pg_schema():
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"budget_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'SET search_path TO "{schema}"'))
        budget_table(sa.MetaData()).create(conn)
    try:
        yield {"connect_args": {"options": f"-csearch_path={schema}"}}
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _run_processes(emulator, budget: str, database_url: str, engine_options: dict | None = None,
                   processes: int = 3, calls: int = 30) -> list[dict]:
    """``processes`` processes started together, each reading ``calls`` times through ``budget``;
    what each one saw. The emulator keeps ORCID's limit: 24 requests/s, burst 40."""
    reader = ORCIDClient(emulator.client_id, emulator.client_secret, environment="emulator",
                         emulator_url=emulator.url)
    public = reader.client_credentials()["access_token"]
    emulator.limits(rate=24, burst=40, latency_ms=0)  # and a full bucket
    emulator.reset_requests()
    spec = {"budget": budget, "database_url": database_url, "engine_options": engine_options or {},
            "client_id": emulator.client_id, "client_secret": emulator.client_secret,
            "url": emulator.url, "orcid": emulator.researchers[0]["orcid"], "token": public,
            "calls": calls, "threads": 4, "start_at": time.time() + 1.5}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.budget_process", json.dumps(spec)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    out = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), out
    return [json.loads(o.strip().splitlines()[-1]) for o in out]


def _refused(emulator) -> int:
    return sum(1 for entry in emulator.requests()["log"] if entry["status"] == 503)


def test_processes_with_their_own_buckets_are_refused(emulator, sqlite_url):
    # Why the budget must be shared: three processes, each within the limit on its own.
    seen = _run_processes(emulator, "memory", sqlite_url)
    assert sum(s["refused"] for s in seen) > 0


def test_processes_sharing_the_sqlite_budget_are_never_refused(emulator, sqlite_url):
    seen = _run_processes(emulator, "database", sqlite_url)
    assert [s["refused"] for s in seen] == [0, 0, 0]
    assert sum(s["sent"] for s in seen) == 90
    assert _refused(emulator) == 0


def test_processes_sharing_the_postgres_budget_are_never_refused(emulator, pg_schema):
    seen = _run_processes(emulator, "database", POSTGRES_URL, pg_schema)
    assert [s["refused"] for s in seen] == [0, 0, 0]
    assert _refused(emulator) == 0


def test_processes_sharing_the_redis_budget_are_never_refused(emulator, sqlite_url):
    client = _redis_or_skip()
    key = f"flask-orcid:rate-budget:{emulator.client_id}"
    client.delete(key)
    try:
        seen = _run_processes(emulator, REDIS_URL, sqlite_url)
    finally:
        client.delete(key)
    assert [s["refused"] for s in seen] == [0, 0, 0]
    assert _refused(emulator) == 0


# -------------------------------------------------------------------- the bucket, on a fake clock

def test_two_processes_on_one_database_share_one_burst(sqlite_url):
    # Two limiters (as two processes would have) on the same file: the burst (40 less the
    # worker's margin of 4) is spent once between them, then 24 tokens a second.
    clock = FakeClock()
    engine = sa.create_engine(sqlite_url)
    table = budget_table(sa.MetaData())
    first, second = (SharedRateLimiter(DatabaseStateStore(engine, table, "APP-TEST"), 24.0, 36,
                                       clock=clock, sleep=clock.sleep) for _ in range(2))
    taken = sum(limiter.try_acquire() for _ in range(30) for limiter in (first, second))
    assert taken == 36
    clock.sleep(1.001)  # pyrate-limiter rounds the interval between tokens up to the µs
    assert sum(second.try_acquire() for _ in range(40)) == 24
    engine.dispose()


def test_acquire_waits_for_the_next_token():
    clock = FakeClock()
    limiter = SharedRateLimiter(InMemoryStateStore(), 24.0, 40, clock=clock, sleep=clock.sleep)
    for _ in range(40 + 48):
        limiter.acquire()
    assert clock.now - 1000.0 == pytest.approx(2.0, abs=0.01)
    assert limiter.request_count == 88


class _Down(InMemoryStateStore):
    def check(self, algorithm: TokenBucket, rates, now, weight):  # type: ignore[override]
        raise ConnectionError("the budget's database is down")


def test_an_unreachable_budget_falls_back_to_the_process_bucket(caplog):
    clock = FakeClock()
    local = RateLimiter(24.0, 5, clock=clock, sleep=clock.sleep)
    limiter = SharedRateLimiter(_Down(), 24.0, 5, clock=clock, sleep=clock.sleep, fallback=local)
    assert sum(limiter.try_acquire() for _ in range(10)) == 5
    assert "cannot be reached" in caplog.text


def test_the_budget_follows_the_configuration(tmp_path):
    memory = sa.create_engine("sqlite://")
    assert isinstance(budget_from_config(CONFIG, memory), RateLimiter)  # nothing to share
    assert isinstance(budget_from_config({**CONFIG, "ORCID_RATE_BUDGET": "memory"},
                                         sa.create_engine(f"sqlite:///{tmp_path}/a.db")),
                      RateLimiter)
    shared = budget_from_config(CONFIG, sa.create_engine(f"sqlite:///{tmp_path}/b.db"))
    assert isinstance(shared, SharedRateLimiter)
    assert isinstance(shared.store, DatabaseStateStore)
    with pytest.raises(ValueError):
        budget_from_config({**CONFIG, "ORCID_RATE_BUDGET": "memcached://x"}, memory)


def test_web_requests_and_the_worker_draw_from_one_budget(make_app, emulator, tmp_path):
    # prefill, sign-in and revocation use the app's client: its tokens come from the same row
    # of orcid_rate_budget as the worker's
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}")
    with app.app_context():
        web = orcid.api_client()
        worker = orcid.deliverer(app)
        assert isinstance(web.rate_limiter, SharedRateLimiter)
        assert isinstance(worker.rate_limiter, SharedRateLimiter)
        web.client_credentials()
        table = budget_table(db.metadata)
        state = db.session.execute(sa.select(table.c.state).where(
            table.c.name == emulator.client_id)).scalar_one()
        worker.rate_limiter.acquire()
        after = db.session.execute(sa.select(table.c.state).where(
            table.c.name == emulator.client_id)).scalar_one()
    assert int(after) > int(state) > 0  # both spent from the one row
