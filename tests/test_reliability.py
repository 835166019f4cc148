"""Reliability against the emulator's scripted faults: nothing lost, nothing duplicated.

Every assertion about the outcome reads the emulator's records (what ORCID would hold); our
tables only say why an item is not there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_orcid.protocol.client import ORCIDClient
from tests.outbox_support import (
    FAST,
    connect_user,
    degree,
    deliver,
    new_researcher,
    our_items,
    rows,
    self_value,
    sqlite_file,
    thesis,
)
from tests.plugins.app import db, orcid

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = {"synced", "parked", "removed_by_researcher"}


def _deliver_until_settled(app, deadline: float, **kwargs) -> None:
    """Delivery passes until every row is synced, parked or removed (or the deadline)."""
    while time.monotonic() < deadline:
        deliver(app, **kwargs)
        if {r.state for r in rows(app)} <= TERMINAL:
            return
        time.sleep(0.1)
    stuck = [(r.user_key, r.key, r.state, r.attempts, r.error_status, r.error_message,
              r.next_attempt_at, r.lease_owner, r.lease_expires_at)
             for r in rows(app) if r.state not in TERMINAL]
    raise AssertionError(f"not settled: {Counter(r.state for r in rows(app))} {stuck}")


def test_fault_matrix_300_items_30_researchers(make_app, emulator, connect, tmp_path):
    emulator.limits(rate=100000, burst=100000, latency_ms=0)
    app = make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path),
                   **{**FAST, "ORCID_READ_TIMEOUT": 0.5, "ORCID_MAX_ATTEMPTS": 10})
    researchers = [new_researcher(emulator, "Matrix", f"Researcher {i}") for i in range(30)]
    keys = [connect_user(app, connect, who) for who in researchers]
    by_key = dict(zip(keys, researchers, strict=True))

    # 409s: for three researchers two works are already on the record from this client
    # (a previous POST whose answer was lost)
    client = ORCIDClient(emulator.client_id, emulator.client_secret, environment="emulator",
                         emulator_url=emulator.url)
    with app.app_context():
        for user in keys[:3]:
            account = orcid.get_account(user)
            for n in (0, 1):
                client.add_work(account.orcid, account.access_token, thesis(f"{user}-{n}"))

    # 300 items: nine works and one degree per researcher
    with app.app_context():
        for user in keys:
            for n in range(9):
                orcid.publish(user, f"thesis:{n}", thesis(f"{user}-{n}"))
            orcid.publish(user, "degree:1", degree(user))
        db.session.commit()

    # a revoked token
    revoked = keys[3]
    emulator.user_revoke(by_key[revoked]["orcid"])

    faults = [
        dict(method="POST", path=r"/works$", action="status", status=500, count=3),
        dict(method="POST", path=r"/works$", action="status", status=503, retry_after=1,
             count=2),
        dict(method="POST", path=r"/works$", action="hang", hang_seconds=1.0, count=2),
        dict(method="POST", path=r"/works$", action="drop", count=2),
        dict(method="POST", path=r"/works$", action="apply_then_fail", status=500, count=2),
        dict(method="POST", path=r"/works$", action="apply_then_fail", then="drop", count=2),
        dict(method="POST", path=r"/education$", action="status", status=502, count=2),
        dict(method="POST", path=r"/education$", action="apply_then_fail", status=500,
             count=3),
    ]
    for spec in faults:
        emulator.fault(**spec)
    _deliver_until_settled(app, time.monotonic() + 25, concurrency=3)

    # second round: the researcher deletes items, the host edits and withdraws some,
    # with faults on PUT and DELETE
    deleter = keys[4]
    with app.app_context():
        for n in (0, 1):
            put_code = orcid.item_state(deleter, f"thesis:{n}").put_code
            emulator.delete_item(by_key[deleter]["orcid"], "work", put_code)
        for user in keys[4:14]:
            orcid.publish(user, "thesis:0", thesis(f"{user}-0", "Revised after review"))
            orcid.publish(user, "thesis:1", thesis(f"{user}-1", "Revised after review"))
        for user in keys[14:20]:
            orcid.retract(user, "thesis:8")
        db.session.commit()
    for spec in [
        dict(method="PUT", path=r"/(work)/\d+$", action="status", status=503, count=3),
        dict(method="PUT", path=r"/(work)/\d+$", action="apply_then_fail", status=500, count=2),
        dict(method="DELETE", path=r"/(work)/\d+$", action="apply_then_fail", then="drop",
             count=2),
        dict(method="DELETE", path=r"/(work)/\d+$", action="status", status=500, count=2),
    ]:
        emulator.fault(**spec)
    _deliver_until_settled(app, time.monotonic() + 20, concurrency=3)
    unused = [(f["method"], f["path"], f["action"], f["count"])
              for f in emulator._get("/_emulator/faults") if f["count"] > 0]
    assert unused == [], unused  # every fault fired
    emulator.clear_faults()
    app.test_cli_runner().invoke(args=["orcid", "sync"])

    # -- what ORCID holds ---------------------------------------------------------------------
    final = {(r.user_key, r.key): r for r in rows(app)}
    assert len(final) == 300
    lost = []
    for user in keys:
        who = by_key[user]
        works = our_items(emulator, who["orcid"])
        values = Counter(self_value(w) for w in works)
        assert all(n == 1 for n in values.values()), (user, values)  # never a second copy
        educations = our_items(emulator, who["orcid"], "educations")
        roles = Counter(e["role_title"] for e in educations)
        assert all(n == 1 for n in roles.values()), (user, roles)
        for n in range(9):
            item = final[(user, f"thesis:{n}")]
            on_record = values.get(f"20.500.12345/{user}-{n}", 0)
            if item.retracted:
                assert on_record == 0 and item.state == "synced", item
            elif item.state == "synced":
                match = next(w for w in works if self_value(w) == f"20.500.12345/{user}-{n}")
                assert match["title"] == item.item().title and match["put_code"] == item.put_code
            else:
                # visibly not synced, with the reason shown to people
                assert item.state in ("parked", "removed_by_researcher"), item
                assert item.error_message, item
                if item.state == "removed_by_researcher":
                    assert on_record == 0
                lost.append((user, item.key, item.state, item.park_reason))
        deg = final[(user, "degree:1")]
        if deg.state == "synced":
            assert roles.get(f"PhD {user}") == 1
        else:
            assert deg.error_message
            lost.append((user, "degree:1", deg.state, deg.park_reason))
    # the only items not on their record are the revoked researcher's and the two the
    # researcher deleted; the transient faults all healed
    reasons = Counter((state, reason) for _, _, state, reason in lost)
    assert reasons == {("parked", "auth"): 10, ("removed_by_researcher", None): 2}, lost
    assert {u for u, *_ in lost} == {revoked, deleter}
    revised = [w for user in keys[5:14] for w in our_items(emulator, by_key[user]["orcid"])
               if w["title"] == "Revised after review"]
    assert len(revised) == 18


def _worker(config: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.outbox_worker", json.dumps(config)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


@pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL")
def test_a_killed_worker_leaves_no_duplicate_and_the_next_one_finishes(
        make_app, emulator, connect, tmp_path):
    emulator.limits(rate=100000, burst=100000, latency_ms=0)
    config = {"SQLALCHEMY_DATABASE_URI": sqlite_file(tmp_path), **FAST,
              "ORCID_WORKER_LEASE_SECONDS": 1.0, "ORCID_READ_TIMEOUT": 5.0,
              "ORCID_WORKER_BATCH": 20, "ORCID_CLIENT_ID": emulator.client_id,
              "ORCID_CLIENT_SECRET": emulator.client_secret, "ORCID_EMULATOR_URL": emulator.url}
    app = make_app(**config)
    researchers = [new_researcher(emulator) for _ in range(3)]
    keys = [connect_user(app, connect, who) for who in researchers]
    with app.app_context():
        for n in range(120):
            orcid.publish(keys[n % 3], f"thesis:{n}", thesis(n))
        db.session.commit()
    # ORCID applies each write after 1 s: a worker killed while waiting leaves a POST
    # that lands after its death (the crash window between ORCID's 201 and our commit)
    emulator.limits(rate=100000, burst=100000, latency_ms=1000)
    first = _worker(config)
    Item = orcid.models.Item
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.app_context():
            synced = db.session.scalar(
                sa.select(sa.func.count()).where(Item.state == "synced"))
            leased = db.session.scalar(
                sa.select(sa.func.count()).where(Item.lease_owner.is_not(None)))
            db.session.rollback()
        if synced >= 20 and leased:
            break
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the next request's 1 s
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    time.sleep(0.8)  # the killed worker's last POST lands now
    emulator.limits(rate=100000, burst=100000, latency_ms=0)
    left = [r for r in rows(app) if r.state != "synced"]
    assert left, "the first worker finished before it was killed"
    time.sleep(1.0)  # its leases expire
    second = _worker(config)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err[-2000:]
    assert {r.state for r in rows(app)} == {"synced"}
    total = 0
    for who in researchers:
        values = Counter(self_value(w) for w in our_items(emulator, who["orcid"]))
        assert set(values.values()) == {1}, values
        total += len(values)
    assert total == 120
    with app.app_context():
        Event = orcid.models.Event
        adopted = db.session.scalar(
            sa.select(sa.func.count()).where(Event.outcome == "duplicate"))
    assert adopted >= 1  # the crash window really happened, and was healed by adoption
