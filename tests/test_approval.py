"""The researcher decides before anything is sent (issue 15, item 3): with ``ORCID_APPROVAL =
"required"`` nothing reaches ORCID until they approve; a declined item never reaches it through
any path that sends (a pass, bulk POSTs, resend, retry, reconnection and adoption, sync,
Celery); the decision outlives edits and new versions; the review page previews exactly what
will be written, escaped. Assertions read the emulator's record."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask_orcid import Contributor, ExternalId, item_declined
from flask_orcid.sync import approval, connections
from flask_orcid.sync import outbox as ob
from flask_orcid.sync.approval import Decision
from flask_orcid.sync.claim import claim
from flask_orcid.sync.clock import utcnow
from tests import outbox_support as shared
from tests.outbox_support import (
    FAST,
    degree,
    deliver,
    our_items,
    publish,
    retract,
    row,
    sqlite_file,
    thesis,
)
from tests.plugins.app import db, orcid

researcher, user = shared.researcher, shared.user


@pytest.fixture
def approval_mode():
    """The site's ORCID_APPROVAL for the ``app`` fixture (tests override it)."""
    return "required"


@pytest.fixture
def app(make_app, emulator, tmp_path, approval_mode):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    return make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path), ORCID_APPROVAL=approval_mode,
                    **FAST)


def _titles(emulator, who) -> list[str]:
    return sorted(w["title"] for w in our_items(emulator, who["orcid"]))


def _writes(emulator, who) -> list[tuple[str, str]]:
    """Every write our client made to the researcher's record, as (method, path)."""
    return [(e["method"], e["path"]) for e in emulator.requests()["log"]
            if e["method"] in ("POST", "PUT") and who["orcid"] in e["path"]]


def _full_pass_since(app, when) -> bool:
    """A delivery pass began after ``when`` and finished (the worker's heartbeat says so)."""
    Heartbeat = orcid.models.WorkerHeartbeat
    with app.app_context():
        return bool(db.session.scalar(sa.select(sa.func.count()).where(
            Heartbeat.pass_started_at > when,
            Heartbeat.pass_ended_at >= Heartbeat.pass_started_at)))


def _decide(app, user_key, kind, key, how):
    with app.app_context():
        answer = (orcid.approve if how == "approve" else orcid.decline)(user_key, kind, key)
        db.session.commit()
    return answer


def _signed_in(app, user_key):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user_key)
    return client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# -- required: nothing until approved -------------------------------------------------------

def test_required_mode_sends_nothing_until_the_researcher_approves(app, emulator, user,
                                                                   researcher):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "degree:1", degree(1))
    emulator.reset_requests()
    deliver(app)
    assert _writes(emulator, researcher) == []
    assert our_items(emulator, researcher["orcid"]) == []
    assert our_items(emulator, researcher["orcid"], "educations") == []
    assert row(app, user, "thesis:1").state == "awaiting_approval"
    with app.app_context():
        assert [r.key for r in orcid.pending_approval(user)] == ["thesis:1", "degree:1"]

    # the researcher approves the thesis on the review page (a CSRF-checked POST)
    client = _signed_in(app, user)
    page = client.get("/orcid/review").get_data(as_text=True)
    assert "Thesis number 1" in page and "PhD 1" in page
    response = client.post("/orcid/review/decide", data={
        "kind": "work", "key": "thesis:1", "decision": "approve", "csrf_token": _csrf(page),
        "next": "/deposit"})
    assert response.status_code == 302 and response.headers["Location"] == "/deposit"
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 1"]
    assert our_items(emulator, researcher["orcid"], "educations") == []

    assert _decide(app, user, "education", "degree:1", "approve") is Decision.DONE
    deliver(app)
    [education] = our_items(emulator, researcher["orcid"], "educations")
    assert education["role_title"] == "PhD 1"
    with app.app_context():
        assert orcid.pending_approval(user) == []


def test_consent_given_on_the_hosts_page_skips_the_wait_but_never_lifts_a_decline(
        app, emulator, user, researcher):
    with app.app_context():
        orcid.publish(user, "thesis:1", thesis(1), approved=True)
        orcid.publish(user, "thesis:2", thesis(2))
        db.session.commit()
    assert _decide(app, user, "work", "thesis:2", "decline") is Decision.DONE
    with app.app_context():  # the host publishes again with consent: the decline stands
        orcid.publish(user, "thesis:2", thesis(2, "Thesis number 2, revised"), approved=True)
        db.session.commit()
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 1"]
    assert row(app, user, "thesis:2").state == "declined"


def test_a_new_version_of_an_approved_item_needs_no_second_approval(app, emulator, user,
                                                                    researcher):
    publish(app, user, "thesis:1", thesis(1))
    _decide(app, user, "work", "thesis:1", "approve")
    publish(app, user, "thesis:1", thesis(1, "Thesis number 1, corrected"))
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 1, corrected"]
    # once on the record, updates go as they always did
    publish(app, user, "thesis:1", thesis(1, "Thesis number 1, final"))
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 1, final"]


# -- declined: never sent, by any path -------------------------------------------------------

@pytest.mark.parametrize("approval_mode", ["optional"])
def test_optional_mode_sends_everything_the_researcher_did_not_decline(app, emulator, user,
                                                                      researcher):
    for n in (1, 2, 3):
        publish(app, user, f"thesis:{n}", thesis(n))
    assert row(app, user, "thesis:1").state == "pending"  # no wait
    assert _decide(app, user, "work", "thesis:2", "decline") is Decision.DONE
    emulator.reset_requests()
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 1", "Thesis number 3"]
    # the two new works went as one bulk POST; the declined one was not in it
    assert [m for m, p in _writes(emulator, researcher)] == ["POST"]
    # too late for the delivered ones: the page says how to take them off instead
    assert _decide(app, user, "work", "thesis:1", "decline") is Decision.ALREADY_SENT
    client = _signed_in(app, user)
    page = client.get("/orcid/review").get_data(as_text=True)
    response = client.post("/orcid/review/decide", data={
        "kind": "work", "key": "thesis:1", "decision": "decline", "csrf_token": _csrf(page)},
        follow_redirects=True)
    assert "delete it in your ORCID record" in response.get_data(as_text=True)
    assert row(app, user, "thesis:1").state == "synced"


@pytest.mark.parametrize("approval_mode", ["optional"])
def test_a_declined_item_never_reaches_orcid_through_any_path(app, emulator, user, researcher,
                                                              connect):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "degree:1", degree(1))
    publish(app, user, "thesis:2", thesis(2))
    assert _decide(app, user, "work", "thesis:1", "decline") is Decision.DONE
    assert _decide(app, user, "education", "degree:1", "decline") is Decision.DONE
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 2"]

    with app.app_context():
        models = orcid.models
        # the researcher's "send it again" only re-sends removed items
        assert orcid.resend(user, "thesis:1") is False
        # an admin's retry of failed and parked items
        ob.retry(db.session, models, parked=True)
        # ORCID refused the token: due rows are parked until a reconnection resumes them
        connections.park_for_auth(db.session, models, user)
        # the record was merged into another: the rows move with it
        connections.record_moved(db.session, models, user, researcher["orcid"], None)
        db.session.commit()
        states = {r.key: r.state for r in orcid.items_for(user)}
    assert states["thesis:1"] == "declined" and states["degree:1"] == "declined"

    # disconnect and connect again: the record is read, our items adopted, the site
    # publishes again (as the sample does on every connection)
    with app.app_context():
        orcid.disconnect(user)
    assert connect(_signed_in(app, user), researcher).status_code in (302, 303)
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "degree:1", degree(1))
    publish(app, user, "thesis:2", thesis(2))
    deliver(app)
    # a full synchronization, then another pass
    assert app.test_cli_runner().invoke(args=["orcid", "sync"]).exit_code == 0
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 2"]
    assert our_items(emulator, researcher["orcid"], "educations") == []
    assert row(app, user, "thesis:1").state == "declined"


@pytest.mark.parametrize("approval_mode", ["optional"])
def test_the_decision_survives_edits_and_new_versions_until_the_researcher_changes_it(
        app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    _decide(app, user, "work", "thesis:1", "decline")
    publish(app, user, "thesis:1", thesis(1, "Thesis number 1, edited"))  # an edit
    retract(app, user, "thesis:1")  # withdrawn...
    publish(app, user, "thesis:1", thesis(1, "Thesis number 1, version 2"))  # ...and back
    deliver(app)
    assert our_items(emulator, researcher["orcid"]) == []
    found = row(app, user, "thesis:1")
    assert found.state == "declined" and found.approval == "declined"
    assert json.loads(found.payload)["title"] == "Thesis number 1, version 2"
    # the researcher changes their mind: the latest version goes
    assert _decide(app, user, "work", "thesis:1", "approve") is Decision.DONE
    deliver(app)
    assert _titles(emulator, researcher) == ["Thesis number 1, version 2"]


@pytest.mark.parametrize("approval_mode", ["optional"])
def test_a_decline_follows_the_key_when_the_site_changes_its_kind(app, emulator, user,
                                                                 researcher):
    publish(app, user, "item:1", degree(1))
    _decide(app, user, "education", "item:1", "decline")
    publish(app, user, "item:1", dataclasses.replace(degree(1), section="qualification"))
    deliver(app)
    assert "qualifications" in emulator.record(researcher["orcid"])
    assert our_items(emulator, researcher["orcid"], "qualifications") == []
    assert row(app, user, "item:1").state == "declined"


def test_the_required_wait_survives_edits_too(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "thesis:1", thesis(1, "Thesis number 1, edited"))
    retract(app, user, "thesis:1")
    publish(app, user, "thesis:1", thesis(1, "Thesis number 1, version 2"))
    deliver(app)
    assert our_items(emulator, researcher["orcid"]) == []
    assert row(app, user, "thesis:1").state == "awaiting_approval"


def test_a_decline_never_races_a_worker_that_holds_the_row(app, emulator, user):
    publish(app, user, "thesis:1", thesis(1))
    _decide(app, user, "work", "thesis:1", "approve")
    shared.read_connected_records(app)
    with app.app_context(), Session(db.engine) as session:
        rows, _ = claim(session, orcid.models, "worker#1", limit=10, lease_seconds=60)
    assert [r.key for r in rows] == ["thesis:1"]
    assert _decide(app, user, "work", "thesis:1", "decline") is Decision.BEING_SENT
    assert row(app, user, "thesis:1").state == "pending"


def test_reconnecting_adopts_an_item_already_on_the_record_without_asking_again(
        app, emulator, user, researcher, connect):
    """The degree went to the record; the researcher disconnects (the site forgets that
    connection's rows) and connects again: the site's new row finds the degree on the record
    and updates it instead of waiting for an approval of something already there."""
    plain = dataclasses.replace(degree(1), external_ids=[])
    publish(app, user, "degree:1", plain)
    _decide(app, user, "education", "degree:1", "approve")
    deliver(app)
    [before] = our_items(emulator, researcher["orcid"], "educations")
    with app.app_context():
        orcid.disconnect(user)
    assert connect(_signed_in(app, user), researcher).status_code in (302, 303)
    publish(app, user, "degree:1", plain)
    assert row(app, user, "degree:1").state == "awaiting_approval"
    emulator.reset_requests()
    deliver(app)
    [after] = our_items(emulator, researcher["orcid"], "educations")
    assert after["put_code"] == before["put_code"]
    assert [m for m, _ in _writes(emulator, researcher)] == ["PUT"]  # adopted, never posted
    assert row(app, user, "degree:1").state == "synced"


# -- signals, status, pages ------------------------------------------------------------------

def test_signals_follow_the_commit(app, user):
    publish(app, user, "thesis:1", thesis(1))
    heard = []

    def listen(sender, **kw):
        heard.append(kw)

    item_declined.connect(listen)
    try:
        with app.app_context():
            orcid.decline(user, "work", "thesis:1")
            db.session.rollback()  # the decision was not kept: nothing to announce
            assert heard == []
            orcid.decline(user, "work", "thesis:1")
            assert heard == []
            db.session.commit()
    finally:
        item_declined.disconnect(listen)
    assert heard == [{"user_key": user, "key": "thesis:1", "kind": "work"}]


def test_status_and_the_admin_page_say_what_waits_and_what_was_declined(app, user,
                                                                        monkeypatch):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "thesis:2", thesis(2))
    _decide(app, user, "work", "thesis:2", "decline")
    out = app.test_cli_runner().invoke(args=["orcid", "status"]).output
    assert re.search(r"awaiting_approval\s+1 .*waiting for the researcher's approval", out)
    assert re.search(r"declined\s+1 .*declined by the researcher", out)
    assert "ORCID_APPROVAL = required" in out
    monkeypatch.setattr(orcid, "_admin_checker", lambda: True)
    html = app.test_client().get("/orcid/admin").get_data(as_text=True)
    assert "Waiting for the researcher&#39;s approval" in html
    assert "Declined by the researcher (never sent)" in html
    assert 'data-state="awaiting_approval">1<' in html and 'data-state="declined">1<' in html


HOSTILE = '<script>alert("x")</script>'


def test_the_preview_shows_what_will_be_written_escaped(app, user, emulator):
    work = dataclasses.replace(
        thesis(1, f"Ceramics {HOSTILE}"),
        subtitle="<b>bold</b>",
        external_ids=[ExternalId("doi", "10.5072/etd.1", "self"),
                      ExternalId("handle", "20.500.12345/1", "self"),
                      ExternalId("uri", "javascript:alert(2)", "self")],
        contributors=[Contributor(credit_name="Ada <img src=x onerror=alert(3)>",
                                  orcid="0000-0002-1825-0097", sequence="first",
                                  role="author"),
                      Contributor(credit_name="Carla Lopez", sequence="additional",
                                  role="http://credit.niso.org/contributor-roles/supervision/")])
    publish(app, user, "thesis:1", work)
    client = _signed_in(app, user)
    html = client.get("/orcid/review").get_data(as_text=True)
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html
    assert 'href="javascript' not in html
    assert 'href="https://doi.org/10.5072/etd.1"' in html
    assert 'href="https://hdl.handle.net/20.500.12345/1"' in html
    assert "Dissertation or Thesis" in html and "Supervision" in html and "Author" in html
    assert f'href="{emulator.url}/0000-0002-1825-0097"' in html  # the authenticated iD
    # in Spanish
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    html = client.get("/orcid/review").get_data(as_text=True)
    assert "Tesis" in html and "Supervisión" in html and "Aprobar" in html


def test_the_review_page_needs_a_signed_in_user_and_a_csrf_token(app, user):
    publish(app, user, "thesis:1", thesis(1))
    assert app.test_client().get("/orcid/review").status_code in (401, 403)
    client = _signed_in(app, user)
    client.get("/orcid/review")
    refused = client.post("/orcid/review/decide", data={
        "kind": "work", "key": "thesis:1", "decision": "decline"})
    assert refused.status_code == 400
    assert row(app, user, "thesis:1").state == "awaiting_approval"
    page = client.get("/orcid/review").get_data(as_text=True)
    # another researcher's item is not found; a foreign "next" is not followed
    other = client.post("/orcid/review/decide", data={
        "kind": "work", "key": "thesis:9", "decision": "decline", "csrf_token": _csrf(page)})
    assert other.status_code == 404
    done = client.post("/orcid/review/decide", data={
        "kind": "work", "key": "thesis:1", "decision": "decline", "csrf_token": _csrf(page),
        "next": "https://evil.example/"})
    assert done.headers["Location"] == "/orcid/review"


def test_an_unknown_approval_mode_is_refused_at_start(make_app):
    from flask_orcid import ConfigurationError

    with pytest.raises(ConfigurationError, match="ORCID_APPROVAL"):
        make_app(ORCID_APPROVAL="maybe", ORCID_EMULATOR_URL="http://127.0.0.1:9",
                 ORCID_CLIENT_ID="APP-X", ORCID_CLIENT_SECRET="s")


def test_rows_waiting_or_declined_are_never_claimed(app, user):
    """(tests/test_claim_scale.py checks the claim's plan with thousands of such rows.)"""
    for n in range(1, 4):
        publish(app, user, f"thesis:{n}", thesis(n))
    _decide(app, user, "work", "thesis:2", "decline")
    _decide(app, user, "work", "thesis:3", "approve")
    shared.read_connected_records(app)
    with app.app_context(), Session(db.engine) as session:
        rows, _ = claim(session, orcid.models, "worker#1", limit=10, lease_seconds=60)
        assert [r.key for r in rows] == ["thesis:3"]
        assert approval.held_state(row(app, user, "thesis:1"), "required") == "awaiting_approval"


def test_a_celery_worker_sends_the_approved_item_and_never_the_declined_one(emulator, connect,
                                                                             tmp_path):
    """The Celery path (a real worker process with beat, against the Redis broker): the
    periodic pass delivers what was approved; the declined item never goes."""
    pytest.importorskip("celery")
    redis = pytest.importorskip("redis")
    from tests.celery_host import build
    from tests.test_celery import BROKER, _spec, _start_worker, _stop, _wait_for

    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis broker at {BROKER}")
    spec = _spec(emulator, tmp_path, interval=1.0, delivery="off")
    spec["config"]["ORCID_APPROVAL"] = "required"
    _celery, app, _task = build(spec)
    with app.app_context():
        db.create_all()
    who = shared.new_researcher(emulator)
    user_key = shared.connect_user(app, connect, who)
    for n in (1, 2, 3):
        publish(app, user_key, f"thesis:{n}", thesis(n))
    _decide(app, user_key, "work", "thesis:1", "approve")
    _decide(app, user_key, "work", "thesis:2", "decline")
    worker = _start_worker(spec, tmp_path)
    try:
        assert _wait_for(lambda: row(app, user_key, "thesis:1").state == "synced"), \
            (tmp_path / "worker.log").read_text()
        # one more whole periodic pass (its heartbeat says it ran): still nothing else
        after = utcnow()
        assert _wait_for(lambda: _full_pass_since(app, after)), \
            (tmp_path / "worker.log").read_text()
    finally:
        _stop(worker)
    assert _titles(emulator, who) == ["Thesis number 1"]
    assert row(app, user_key, "thesis:2").state == "declined"
    assert row(app, user_key, "thesis:3").state == "awaiting_approval"


@pytest.mark.skipif(not shared.POSTGRES_URL, reason=shared.NO_POSTGRES)
def test_postgres_claims_skip_waiting_and_declined_rows_through_the_partial_index(make_app):
    """On PostgreSQL (``FOR UPDATE SKIP LOCKED``): thousands of rows waiting for approval or
    declined are neither claimed nor walked: the claim's plan reads ``ix_orcid_outbox_todo``."""
    import uuid
    from datetime import datetime

    schema = f"approval_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(shared.POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        app = make_app(SQLALCHEMY_DATABASE_URI=shared.POSTGRES_URL, SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": f"-csearch_path={schema}"}},
            ORCID_CLIENT_ID="APP-TEST", ORCID_CLIENT_SECRET="s",
            ORCID_EMULATOR_URL="http://127.0.0.1:9")
        now = datetime(2026, 1, 1)
        states = ["awaiting_approval", "declined"] * 3000 + ["pending"] * 3
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.insert(orcid.models.Account.__table__), [{
                "user_key": "u", "orcid": "0000-0002-0000-0001", "environment": "emulator",
                "scopes": "/activities/update", "access_token": "x", "status": "active",
                "created_at": now, "updated_at": now}])
            conn.execute(sa.insert(orcid.models.Item.__table__), [{
                "user_key": "u", "kind": "work", "key": f"thesis:{i}", "payload": "{}",
                "payload_hash": "h", "retracted": False, "attempts": 0, "state": state,
                "created_at": now, "updated_at": now} for i, state in enumerate(states)])
            conn.execute(sa.text("ANALYZE orcid_outbox_items"))
        selects: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "FOR UPDATE" in statement:
                selects.append((statement, parameters))

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", capture)
            try:
                with Session(db.engine) as session:
                    rows, user_key = claim(session, orcid.models, "pg#1", limit=100,
                                           lease_seconds=60)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", capture)
            assert user_key == "u" and [r.key for r in rows] == [
                "thesis:6000", "thesis:6001", "thesis:6002"]
            statement, parameters = selects[0]  # the claim's pick of the first due row
            with db.engine.connect() as conn:
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                    "EXPLAIN " + statement, parameters))
        assert "ix_orcid_outbox_todo" in plan, plan
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
