"""Issue 11, defects 2-7 and the review findings: each against the emulator's record.

(Defect 1, the ``--loop`` worker and ``status``, runs a real worker process: see
tests/faults/.)
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask_orcid.errors import InvalidTokenError
from flask_orcid.protocol.records import WorkSummary
from flask_orcid.protocol.responses import BulkResult
from flask_orcid.sync import outbox
from flask_orcid.sync import reconcile as reconcile_module
from flask_orcid.sync.claim import claim
from flask_orcid.sync.clients import client_from_config
from flask_orcid.sync.converge import Convergence
from flask_orcid.sync.policy import Settings
from flask_orcid.sync.reconcile import process_sync_requests, request_sync, sync_records
from flask_orcid.sync.results import PassResult, RunContext
from tests import outbox_support as shared
from tests.outbox_support import (
    FAST,
    connect_user,
    deliver,
    item_suffix,
    new_researcher,
    our_items,
    publish,
    read_connected_records,
    retract,
    row,
    rows,
    self_value,
    sqlite_file,
    thesis,
)
from tests.plugins.app import db, orcid

# the outbox tests' shared fixtures: an app on an SQLite file with a fast backoff, a new
# researcher at the emulator, and the host user who connected their iD
app, researcher, user = shared.app, shared.researcher, shared.user


def _settle(app, tries: int = 40, **kwargs) -> None:
    """Delivery passes (waiting out the short test backoff) until nothing is left to do."""
    for _ in range(tries):
        deliver(app, **kwargs)
        if {r.state for r in rows(app)} <= {"synced", "parked", "removed_by_researcher"}:
            return
        time.sleep(0.1)


def _titles(emulator, orcid_id: str) -> list[tuple[str, str]]:
    return sorted((self_value(w), w["title"]) for w in our_items(emulator, orcid_id))


# -- defect 2: signing in again while a sync reads the record ---------------------------------

def test_signing_in_again_during_a_sync_keeps_the_new_connection(app, emulator, connect, user,
                                                                 researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    client = client_from_config(app.config, worker=True)
    read_works = client.read_works

    def sign_in_then_read(orcid_id, token):
        with app.app_context():  # a narrower grant makes the site ask ORCID again
            orcid.get_account(user).scopes = "/authenticate"
            db.session.commit()
        browser = app.test_client()
        with browser.session_transaction() as sess:
            sess["user_id"] = int(user)
        assert connect(browser, researcher).status_code == 302
        return read_works(orcid_id, token)  # the old token: ORCID answers 401

    client.read_works = sign_in_then_read
    with app.app_context():
        summaries = sync_records(app, db, orcid.models, client)
        assert orcid.get_account(user).status == "active"
    assert summaries[0].error  # that read failed ...
    assert row(app, user, "thesis:1").state == "synced"  # ... and nothing was parked
    publish(app, user, "thesis:1", thesis(1, "Edited after signing in again"))
    deliver(app)
    assert _titles(emulator, researcher["orcid"]) == [
        ("20.500.12345/1", "Edited after signing in again")]


# -- defect 3: a DELETE whose answer was lost, then the key published again -------------------

@pytest.mark.parametrize("applied", [True, False], ids=["delete-applied", "delete-not-applied"])
def test_republishing_after_a_lost_delete_answer_puts_the_item_back_once(
        make_app, emulator, connect, tmp_path, applied):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    # a backoff no pass waits for: the failed DELETE stays unconfirmed until the host acts
    app = make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path),
                   **{**FAST, "ORCID_RETRY_BASE_SECONDS": 30, "ORCID_RETRY_MAX_SECONDS": 60})
    researcher = new_researcher(emulator)
    user = connect_user(app, connect, researcher)
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    retract(app, user, "thesis:1")
    emulator.fault(method="DELETE", path=item_suffix("work", r"\d+") + "$",
                   action="apply_then_fail" if applied else "status", status=500, count=1)
    deliver(app)
    assert row(app, user, "thesis:1").state == "failed"
    assert len(our_items(emulator, researcher["orcid"])) == (0 if applied else 1)
    publish(app, user, "thesis:1", thesis(1, "Published again"))
    _settle(app)
    assert _titles(emulator, researcher["orcid"]) == [("20.500.12345/1", "Published again")]
    final = row(app, user, "thesis:1")
    assert final.state == "synced" and final.put_code == our_items(
        emulator, researcher["orcid"])[0]["put_code"]


# -- defect 4: the researcher's own works are not ours -----------------------------------------

def test_a_researchers_own_work_with_our_identifier_is_never_taken_for_ours(
        app, emulator, user, researcher):
    handle = "20.500.12345/1"
    own = requests.post(f"{emulator.url}/_emulator/records/{researcher['orcid']}/works",
                        json={"title": "Typed in by the researcher", "external_ids": [
                            {"type": "handle", "value": handle, "relationship": "self"}]},
                        timeout=10)
    assert own.status_code == 201
    publish(app, user, "thesis:1", thesis(1))
    emulator.fault(method="POST", path=r"/work$", action="status", status=503, count=1)
    deliver(app)
    assert row(app, user, "thesis:1").state == "failed"
    assert app.test_cli_runner().invoke(args=["orcid", "sync"]).exit_code == 0
    _settle(app)
    assert row(app, user, "thesis:1").state == "synced"
    assert _titles(emulator, researcher["orcid"]) == [(handle, "Thesis number 1")]
    record = emulator.record(researcher["orcid"])["works"]
    assert [w["title"] for w in record if w["source_client_id"] is None] == [
        "Typed in by the researcher"]


def test_a_summary_without_put_code_or_source_is_skipped_by_reconcile():
    class Reader:
        def read_works(self, orcid_id, token):
            return [WorkSummary(put_code=None, title="x", type="other",
                                source_client_id="APP-OURS"),
                    WorkSummary(put_code=7, title="y", type="other", source_client_id=None),
                    WorkSummary(put_code=8, title="z", type="other",
                                source_client_id="APP-OURS")]

    ours, _ = reconcile_module._read_ours(Reader(), "0000-0000-0000-0000", "t", ["work"],
                                          "APP-OURS")
    assert ours == {"work": {8}}


# -- defect 5: a persistent error that is not ORCID's -------------------------------------------

def test_an_undecryptable_token_backs_off_and_a_one_shot_deliver_returns(app, emulator, user):
    publish(app, user, "thesis:1", thesis(1))
    with app.app_context():
        Account = orcid.models.Account
        db.session.execute(sa.update(Account.__table__).values(access_token="not-a-ciphertext"))
        db.session.commit()
        deliverer = orcid.deliverer(app)
    emulator.reset_requests()
    done: list = []
    worker = threading.Thread(target=lambda: done.append(deliverer.run_once()), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():
        deliverer.stop()
        worker.join(10)
        pytest.fail("a one-shot deliver kept claiming the same row")
    assert done[0].claimed <= 2
    failed = row(app, user, "thesis:1")
    assert failed.state == "failed" and failed.next_attempt_at is not None
    assert failed.lease_owner is None and failed.error_message


# -- defect 6: a POST whose answer was lost, then the identifier corrected ---------------------

def test_a_lost_post_then_a_corrected_identifier_leaves_one_copy(app, emulator, user,
                                                                 researcher):
    publish(app, user, "thesis:1", thesis(1, "Typo in the handle", handle_prefix="20.500.1234"))
    emulator.fault(method="POST", path=r"/work$", action="apply_then_fail", status=500, count=1)
    deliver(app)
    assert len(our_items(emulator, researcher["orcid"])) == 1  # landed, answer lost
    publish(app, user, "thesis:1", thesis(1, "Handle corrected"))
    _settle(app)
    assert _titles(emulator, researcher["orcid"]) == [("20.500.12345/1", "Handle corrected")]
    assert row(app, user, "thesis:1").state == "synced"
    retract(app, user, "thesis:1")
    _settle(app)
    assert our_items(emulator, researcher["orcid"]) == []


# -- defect 7: the circuit breaker ---------------------------------------------------------------

def test_an_outage_pauses_the_worker_and_status_says_so(make_app, emulator, connect, tmp_path):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    app = make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path),
                   **{**FAST, "ORCID_BREAKER_THRESHOLD": 3, "ORCID_BREAKER_BASE_SECONDS": 2.0,
                      "ORCID_BREAKER_MAX_SECONDS": 4.0,
                      # one call in flight at a time: with eight, calls already sent when the
                      # third failure opens the breaker would make the count below a race
                      "ORCID_WORKER_CONCURRENCY": 1})
    users = []
    for n in range(8):
        who = new_researcher(emulator)
        users.append((connect_user(app, connect, who), who))
        publish(app, users[-1][0], "thesis:1", thesis(n))
    emulator.fault(method="POST", path=r"/work$", action="status", status=503, count=100)
    emulator.reset_requests()
    result = deliver(app)
    posts = [e for e in emulator.requests()["log"] if e["method"] == "POST"
             and e["path"].endswith("/work")]
    assert len(posts) == 3 and result.failed == 3  # paused after 3, not one per row
    status = app.test_cli_runner().invoke(args=["orcid", "status"]).output
    assert "PAUSED until" in status and "ORCID is not answering" in status
    assert not any(r.state == "parked" for r in rows(app))
    emulator.clear_faults()
    _settle(app)  # (each deliver() is a new worker, with its own breaker)
    for _key, who in users:
        assert len(our_items(emulator, who["orcid"])) == 1
    for _ in range(40):  # the paused worker's pause ends when status said it would
        status = app.test_cli_runner().invoke(args=["orcid", "status"]).output
        if "PAUSED" not in status:
            break
        time.sleep(0.1)
    assert "PAUSED" not in status
    assert any(line.split() == ["synced", "8"] for line in status.splitlines()), status


# -- review findings -----------------------------------------------------------------------------

def test_a_sync_request_stays_when_orcid_could_not_be_read(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    RecordSync = orcid.models.RecordSync
    with app.app_context():
        request_sync(db.session, orcid.models, researcher["orcid"])
        db.session.commit()
        client = client_from_config(app.config, worker=True)
        emulator.fault(method="GET", path=r"/works$", action="status", status=503, count=1)
        process_sync_requests(app, db, orcid.models, client)
        assert db.session.get(RecordSync, researcher["orcid"]).sync_requested_at is not None
        db.session.rollback()
        process_sync_requests(app, db, orcid.models, client)
        assert db.session.get(RecordSync, researcher["orcid"]).sync_requested_at is None


def _convergence(app, session, client, token, user):
    with app.app_context():
        account = orcid.get_account(user)
        db.session.expunge(account)
    ctx = RunContext(models=orcid.models, settings=Settings(), owner="test",
                     client_id=app.config["ORCID_CLIENT_ID"], sender=app)
    return Convergence(ctx, session, client, token, account, PassResult())


def test_a_bulk_slot_answering_401_stops_the_next_chunk(app, emulator, user):
    for n in range(150):
        publish(app, user, f"thesis:{n}", thesis(n))
    calls = []

    class Refusing:
        def add_works(self, orcid_id, token, works):
            calls.append(len(works))
            return [BulkResult(index=i, error=InvalidTokenError("refused", status=401))
                    for i in range(len(works))]

    read_connected_records(app)
    with app.app_context(), Session(db.engine, expire_on_commit=False) as session:
        claimed, _ = claim(session, orcid.models, "t#1", limit=150, lease_seconds=60)
        assert len(claimed) == 150
        _convergence(app, session, Refusing(), "t#1", user).post_bulk(claimed)
    assert calls == [100]


def test_bulk_results_are_not_written_for_rows_whose_lease_was_lost(app, emulator, user,
                                                                     researcher):
    for n in range(3):
        publish(app, user, f"thesis:{n}", thesis(n))
    Item = orcid.models.Item
    read_connected_records(app)
    with app.app_context():
        client = client_from_config(app.config, worker=True)
        real = client.add_works

        def lease_lapses(*args):
            with db.engine.begin() as conn:  # another worker took thesis:0 meanwhile
                conn.execute(sa.update(Item).where(Item.key == "thesis:0")
                             .values(lease_owner="other#1"))
            return real(*args)

        client.add_works = lease_lapses
        with Session(db.engine, expire_on_commit=False) as session:
            claimed, _ = claim(session, orcid.models, "t#1", limit=10, lease_seconds=60)
            convergence = _convergence(app, session, client, "t#1", user)
            convergence.execute(claimed)
            assert convergence.result.synced == 2
        Event = orcid.models.Event
        events = db.session.scalars(sa.select(Event.key).where(Event.outcome == "synced")).all()
    assert sorted(events) == ["thesis:1", "thesis:2"]
    stolen = row(app, user, "thesis:0")
    assert stolen.lease_owner == "other#1" and stolen.state == "pending"


# -- found by the fault suite: the host's write racing a worker's result -----------------------

def _host_session_racing_a_worker(app, user):
    """A host request's session that read the row before a worker delivered it meanwhile."""
    session = Session(db.engine)
    Item = orcid.models.Item
    # the request's read (kept, as publish keeps the row it read until its commit)
    session.info["read"] = session.scalars(sa.select(Item).where(Item.user_key == user)).all()
    deliver(app)  # a worker delivers the version it read
    return session


def test_a_publish_racing_a_workers_result_still_sends_the_new_version(app, emulator, user,
                                                                       researcher):
    publish(app, user, "thesis:1", thesis(1))
    with app.app_context():
        with _host_session_racing_a_worker(app, user) as session:
            outbox.publish(session, orcid.models, user, "thesis:1",
                           thesis(1, "Corrected", handle_prefix="20.500.999"))
            session.commit()
    assert row(app, user, "thesis:1").state == "pending"
    _settle(app)
    assert _titles(emulator, researcher["orcid"]) == [("20.500.999/1", "Corrected")]


def test_a_retraction_racing_a_workers_first_post_still_deletes(app, emulator, user,
                                                                 researcher):
    publish(app, user, "thesis:1", thesis(1))
    with app.app_context():
        with _host_session_racing_a_worker(app, user) as session:
            outbox.retract(session, orcid.models, user, "thesis:1")
            session.commit()
    _settle(app)
    assert our_items(emulator, researcher["orcid"]) == []
    assert row(app, user, "thesis:1").state == "synced"
