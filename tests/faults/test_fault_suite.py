"""The fault suite (issue 11): delivery under crashes, outages and races, judged by the record.

Three ``flask orcid deliver --loop`` worker processes deliver works and degrees for a few
researchers while, in an order drawn from a seeded RNG: workers are killed with SIGKILL (up
to all at once) and restarted, the emulator (ORCID) is killed and restarted with its state
kept, it stays down longer than the old give-up horizon (ORCID_MAX_ATTEMPTS attempts of the
short test backoff), the workers' database connections are terminated (PostgreSQL) or the
database is locked past their busy timeout (SQLite), ORCID applies writes and loses the
answers, and the host edits, retracts, re-publishes and corrects identifiers meanwhile.

At the end the emulator's records must hold exactly what the host wants: 0 lost, 0
duplicated, 0 stale, 0 retracted-but-present; ``flask orcid status`` must tell the truth.
``FLASK_ORCID_FAULT_SEED`` picks the seed (the failure message names it).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.faults.harness import (
    Database,
    EmulatorProcess,
    Ledger,
    Workers,
    connector,
    judge,
)
from tests.outbox_support import (
    FAST,
    NO_POSTGRES,
    POSTGRES_URL,
    connect_user,
    degree,
    item_suffix,
    new_researcher,
    our_items,
    rows,
    thesis,
)
from tests.plugins.app import db, orcid

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL")

SEED = int(os.environ.get("FLASK_ORCID_FAULT_SEED", "1111"))
RESEARCHERS = 5
WORKS = 8
TIMINGS = {
    **FAST,
    "ORCID_RETRY_MAX_SECONDS": 0.3,
    # the old horizon: 3 attempts of at most 0.3 s; the outage below lasts far longer
    "ORCID_MAX_ATTEMPTS": 3,
    "ORCID_WORKER_LEASE_SECONDS": 1.5,
    "ORCID_BREAKER_THRESHOLD": 3,
    "ORCID_BREAKER_BASE_SECONDS": 0.2,
    "ORCID_BREAKER_MAX_SECONDS": 0.8,
    "ORCID_WORKER_BATCH": 5,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """(host config, worker config, Database) for each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'outbox.db'}"
        short = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.3}}}
        yield {"SQLALCHEMY_DATABASE_URI": url}, {"SQLALCHEMY_DATABASE_URI": url, **short}, \
            Database(url, None)
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def options(name: str) -> dict[str, Any]:
        return {"SQLALCHEMY_DATABASE_URI": POSTGRES_URL, "SQLALCHEMY_ENGINE_OPTIONS": {
            "connect_args": {"options": f"-csearch_path={schema}", "application_name": name}}}

    try:
        yield options(f"{schema}_t"), options(f"{schema}_w"), \
            Database(POSTGRES_URL, f"{schema}_w")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


class Run:
    """One seeded run: the host's edits, the faults, and the ledger of what it wants."""

    def __init__(self, app: Any, emulator: EmulatorProcess, workers: Workers, db_faults: Database,
                 keys: list[str], rng: random.Random) -> None:
        self.app = app
        self.emulator = emulator
        self.workers = workers
        self.db_faults = db_faults
        self.keys = keys
        self.rng = rng
        self.ledger = Ledger()
        self.version: Counter[tuple[str, str]] = Counter()
        self.faults: Counter[str] = Counter()
        self.paused_seen = False
        self.researchers: dict[str, dict[str, Any]] = {}
        self.own_works: Counter[str] = Counter()
        self._prefixes: dict[tuple[str, str], str] = {}
        #: (user, key, what) in the order the host did it
        self.host_log: list[tuple[str, str, str]] = []

    # -- the host ------------------------------------------------------------------------------
    def publish_work(self, user: str, n: int, *, new_id: bool = False) -> None:
        key = f"thesis:{n}"
        self.version[(user, key)] += 1
        v = self.version[(user, key)]
        prefix = f"20.500.{7000 + v}" if new_id else self._prefix(user, key)
        title = f"Thesis {n} of {user}, version {v}"
        with self.app.app_context():
            orcid.publish(user, key, thesis(f"{user}-{n}", title, handle_prefix=prefix))
            db.session.commit()
        self.ledger.want(user, key, f"{prefix}/{user}-{n}", title)
        self.host_log.append((user, key, f"publish v{v} {prefix}"))
        self._prefixes[(user, key)] = prefix

    def _prefix(self, user: str, key: str) -> str:
        return self._prefixes.get((user, key), "20.500.12345")

    def retract(self, user: str, n: int) -> None:
        with self.app.app_context():
            orcid.retract(user, f"thesis:{n}")
            db.session.commit()
        self.ledger.drop(user, f"thesis:{n}")
        self.host_log.append((user, f"thesis:{n}", "retract"))

    def sign_in_again(self) -> None:
        """The researcher signs in again (the site revokes the old token) mid-pass."""
        user = self.rng.choice(self.keys)
        with self.app.app_context():  # a narrower grant makes the site ask ORCID again
            orcid.get_account(user).scopes = "/authenticate"
            db.session.commit()
        browser = self.app.test_client()
        with browser.session_transaction() as sess:
            sess["user_id"] = int(user)
        response = connector(self.emulator.handle())(browser, self.researchers[user])
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        self.faults["sign-in again"] += 1

    def researcher_types_a_work(self) -> None:
        """The researcher enters a work with one of our identifiers by hand (not ours)."""
        user = self.rng.choice(self.keys)
        wanted = [w for (u, _), w in self.ledger.wanted.items() if u == user and w]
        if not wanted:
            return
        value = self.rng.choice(wanted)[0]
        orcid_id = self.researchers[user]["orcid"]
        response = requests.post(f"{self.emulator.url}/_emulator/records/{orcid_id}/works",
                                 json={"title": "Typed in by hand", "external_ids": [
                                     {"type": "handle", "value": value}]}, timeout=10)
        assert response.status_code == 201
        self.own_works[user] += 1
        self.faults["researcher's own work"] += 1

    def host_step(self) -> None:
        user = self.rng.choice(self.keys)
        n = self.rng.randrange(WORKS)
        live = self.ledger.wanted.get((user, f"thesis:{n}")) is not None
        action = self.rng.choice(["edit", "correct", "retract"] if live else ["republish"])
        self.faults[f"host {action}"] += 1
        if action == "retract":
            self.retract(user, n)
        else:
            self.publish_work(user, n, new_id=action == "correct")

    # -- the faults ----------------------------------------------------------------------------
    def kill_workers(self) -> None:
        slots = self.rng.sample(range(self.workers.count), self.rng.randint(1, self.workers.count))
        for slot in slots:
            self.workers.kill(slot)
        self.faults["worker SIGKILL"] += len(slots)
        time.sleep(self.rng.uniform(0.0, 0.3))
        for slot in slots:
            self.workers.start(slot)

    def orcid_loses_answers(self) -> None:
        handle = self.emulator.handle()
        method, path = self.rng.choice([("POST", r"/works$"), ("POST", r"/work$"),
                                        ("PUT", item_suffix("work", r"\d+") + "$"),
                                        ("DELETE", item_suffix("work", r"\d+") + "$")])
        then = self.rng.choice([None, "drop"])
        handle.fault(method=method, path=path, action="apply_then_fail", status=500,
                     count=self.rng.randint(1, 2), **({"then": then} if then else {}))
        self.faults["ORCID answer lost"] += 1

    def restart_emulator(self, down: float) -> None:
        self.emulator.kill()
        self.faults["emulator SIGKILL"] += 1
        deadline = time.monotonic() + down
        while time.monotonic() < deadline:
            if not self.paused_seen:
                self.paused_seen = "PAUSED until" in self.status()
            time.sleep(0.1)
        self.emulator.start()

    def cut_database(self) -> None:
        self.db_faults.cut(self.rng)
        self.faults["database cut"] += 1

    def status(self) -> str:
        out = self.app.test_cli_runner().invoke(args=["orcid", "status"])
        return str(out.output)


def _settle(app: Any, workers: Workers, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers.check_alive()
        states = Counter(r.state for r in rows(app))
        if set(states) == {"synced"}:
            return
        time.sleep(0.2)
    stuck = [(r.user_key, r.key, r.state, r.error_message, r.next_attempt_at, r.lease_owner)
             for r in rows(app) if r.state != "synced"]
    raise AssertionError(f"seed {SEED}: not settled: {stuck}")


def _named(verdict: Any) -> set[tuple[str, str]]:
    return {(v[0], v[1]) for group in (verdict.lost, verdict.duplicated, verdict.stale,
                                       verdict.retracted_present) for v in group}


def _history(app: Any, verdict: Any) -> list[Any]:
    """The events of the rows the verdict names (why they went wrong)."""
    Event = orcid.models.Event
    keys = _named(verdict)
    Item = orcid.models.Item
    with app.app_context():
        events = [(e.user_key, e.key, e.operation, e.status, e.outcome, e.put_code,
                   e.worker[-12:], f"{e.created_at:%H:%M:%S.%f}")
                  for e in db.session.scalars(sa.select(Event).order_by(Event.id))
                  if (e.user_key, e.key) in keys]
        items = [(i.user_key, i.key, i.state, i.put_code, i.payload_hash[:8],
                  (i.written_hash or "")[:8], i.earlier_self_ids, i.payload[:160])
                 for i in db.session.scalars(sa.select(Item)) if (i.user_key, i.key) in keys]
        return [events, items]


def test_nothing_lost_duplicated_or_stale_under_faults(make_app, tmp_path, database):
    started = time.monotonic()
    host_config, worker_config, db_faults = database
    rng = random.Random(SEED)
    emulator = EmulatorProcess(tmp_path)
    emulator.start()
    workers: Workers | None = None
    try:
        handle = emulator.handle()
        handle.limits(rate=100000, burst=100000, latency_ms=20)
        orcid_settings = {"ORCID_EMULATOR_URL": emulator.url,
                          "ORCID_CLIENT_ID": handle.client_id,
                          "ORCID_CLIENT_SECRET": handle.client_secret, **TIMINGS}
        app = make_app(**host_config, **orcid_settings)
        researchers = [new_researcher(handle) for _ in range(RESEARCHERS)]
        keys = [connect_user(app, connector(handle), who) for who in researchers]
        workers = Workers({**worker_config, **orcid_settings, "_loop": 0.1, "_concurrency": 2},
                          tmp_path, 3)
        run = Run(app, emulator, workers, db_faults, keys, rng)
        run.researchers = dict(zip(keys, researchers, strict=True))
        for user in keys:
            for n in range(WORKS):
                run.publish_work(user, n)
        with app.app_context():
            for user in keys:
                orcid.publish(user, "degree:1", degree(user))
            db.session.commit()
        workers.start_all()
        steps = [run.kill_workers, run.orcid_loses_answers, run.cut_database, run.host_step,
                 run.host_step, run.sign_in_again, run.researcher_types_a_work]
        for i in range(24):
            time.sleep(rng.uniform(0.05, 0.3))
            rng.choice(steps)()
            if i == 8:
                run.restart_emulator(down=rng.uniform(0.3, 0.8))
            if i == 16:  # more work, then an outage far past the old give-up horizon
                for _ in range(4):
                    run.host_step()
                run.restart_emulator(down=3.0)
                run.faults["outage > old horizon"] += 1
        workers.check_alive()
        handle = emulator.handle()
        handle.clear_faults()
        _settle(app, workers, timeout=40)
        records = {user: our_items(handle, who["orcid"]) for user, who in
                   zip(keys, researchers, strict=True)}
        verdict = judge(run.ledger, records,
                        {u: w["orcid"] for u, w in zip(keys, researchers, strict=True)})
        assert verdict.ok(), (f"seed {SEED}: {verdict} {_history(app, verdict)} "
                              f"{[h for h in run.host_log if (h[0], h[1]) in _named(verdict)]}")
        for user, who in zip(keys, researchers, strict=True):
            roles = [e["role_title"] for e in our_items(handle, who["orcid"], "educations")]
            assert roles == [f"PhD {user}"], (SEED, roles)
            own = [w for w in handle.record(who["orcid"])["works"] if not w["source_client_id"]]
            assert len(own) == run.own_works[user], (SEED, own)  # theirs, untouched
        with app.app_context():
            Account = orcid.models.Account
            assert set(db.session.scalars(sa.select(Account.status))) == {"active"}
        # status tells the truth: every row synced, the live workers ran just now, and it
        # showed the pause while ORCID was down
        status = run.status()
        total = len(rows(app))
        assert f"synced                 {total}" in status or \
            any(line.split() == ["synced", str(total)] for line in status.splitlines()), status
        for state in ("pending", "failed", "parked"):
            assert any(line.split() == [state, "0"] for line in status.splitlines()), status
        # every live worker (a restarted one after its first pass) shows as running fine
        deadline = time.monotonic() + 15
        while True:
            lines = run.status().splitlines()
            live = [[line for line in lines if f":{pid}:" in line] for pid in workers.pids()]
            healthy = all(live) and not any("FAILING" in ln[0] or "PAUSED" in ln[0]
                                            for ln in live)
            if healthy or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert all(live), (SEED, lines, workers.pids())
        assert not any("FAILING" in ln[0] or "PAUSED" in ln[0] for ln in live), (SEED, live)
        assert run.paused_seen, "status never showed the workers paused during the outage"
        live_items = sum(1 for want in run.ledger.wanted.values() if want is not None)
        print(f"\nfault suite ({db_faults.worker_app_name and 'postgresql' or 'sqlite'}, "
              f"seed {SEED}): {total} rows, {live_items} works wanted, faults fired: "
              f"{dict(run.faults)}, {time.monotonic() - started:.1f}s")
    finally:
        if workers is not None:
            workers.kill_all()
        emulator.kill()
