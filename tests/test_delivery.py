"""The delivery worker against the emulator: what ends up on the researcher's ORCID record.

Assertions read the emulator's record (what ORCID holds), not only our tables.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import sqlalchemy as sa

from flask_orcid.signals import item_failed, item_removed_by_researcher, item_synced
from flask_orcid.sync import policy
from flask_orcid.sync.clients import client_from_config
from flask_orcid.sync.clock import utcnow
from tests import outbox_support as shared
from tests.outbox_support import (
    FAST,
    connect_user,
    degree,
    deliver,
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


def _endpoint_counts(emulator):
    """API calls since the last reset, as {"POST works": n, ...} (last path segment kept)."""
    counts: dict[str, int] = {}
    for entry in emulator.requests()["log"]:
        path = entry["path"]
        if path.startswith("/_emulator") or path.startswith("/oauth"):
            continue
        parts = path.strip("/").split("/")
        section = next((p for p in reversed(parts) if not p.isdigit()), "")
        name = f"{entry['method']} {section}"
        counts[name] = counts.get(name, 0) + 1
    return counts


def test_new_works_go_as_one_bulk_post_and_affiliations_one_by_one(app, emulator, user,
                                                                   researcher):
    for n in range(3):
        publish(app, user, f"thesis:{n}", thesis(n))
    publish(app, user, "degree:1", degree(1))
    emulator.reset_requests()
    result = deliver(app)
    assert result.synced == 4 and result.failed == 0 and result.parked == 0
    works = our_items(emulator, researcher["orcid"])
    assert sorted(self_value(w) for w in works) == [f"20.500.12345/{n}" for n in range(3)]
    educations = our_items(emulator, researcher["orcid"], "educations")
    assert [e["role_title"] for e in educations] == ["PhD 1"]
    calls = _endpoint_counts(emulator)
    # the first pass after connecting reads each section once (to adopt what is ours already)
    assert calls == {"GET works": 1, "GET educations": 1, "POST works": 1, "POST education": 1}
    # the put-codes are stored, and a second pass has nothing to do
    stored = {r.key: r.put_code for r in rows(app)}
    assert stored["thesis:0"] in {w["put_code"] for w in works}
    emulator.reset_requests()
    assert deliver(app).claimed == 0
    assert _endpoint_counts(emulator) == {}


def test_changed_item_is_updated_in_place_and_unchanged_costs_nothing(app, emulator, user,
                                                                       researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    put_code = row(app, user, "thesis:1").put_code
    publish(app, user, "thesis:1", thesis(1))  # unchanged
    emulator.reset_requests()
    deliver(app)
    assert _endpoint_counts(emulator) == {}
    publish(app, user, "thesis:1", thesis(1, "Revised title"))
    deliver(app)
    works = our_items(emulator, researcher["orcid"])
    assert [(w["put_code"], w["title"]) for w in works] == [(put_code, "Revised title")]
    assert any(k.startswith("PUT") for k in _endpoint_counts(emulator))
    assert row(app, user, "thesis:1").state == "synced"


def test_retracted_item_is_deleted_and_a_missing_one_counts_as_done(app, emulator, user,
                                                                     researcher):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "thesis:2", thesis(2))
    deliver(app)
    retract(app, user, "thesis:1")
    # the researcher already deleted thesis:2 themselves; our DELETE then answers 404
    gone = row(app, user, "thesis:2").put_code
    emulator.delete_item(researcher["orcid"], "work", gone)
    retract(app, user, "thesis:2")
    result = deliver(app)
    assert result.synced == 2 and result.parked == 0
    assert our_items(emulator, researcher["orcid"]) == []
    for key in ("thesis:1", "thesis:2"):
        done = row(app, user, key)
        assert done.retracted and done.state == "synced" and done.put_code is None
    with app.app_context():
        assert orcid.items_for(user) == []


def test_an_item_the_researcher_deleted_is_never_posted_again_unless_resent(
        app, emulator, user, researcher):
    removed = []
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    emulator.delete_item(researcher["orcid"], "work", row(app, user, "thesis:1").put_code)
    publish(app, user, "thesis:1", thesis(1, "Edited after the researcher deleted it"))
    with item_removed_by_researcher.connected_to(lambda s, **kw: removed.append(kw["key"])):
        deliver(app)
    assert row(app, user, "thesis:1").state == "removed_by_researcher"
    assert "thesis:1" in removed
    assert our_items(emulator, researcher["orcid"]) == []
    # more edits and passes: still not re-posted
    publish(app, user, "thesis:1", thesis(1, "Edited again"))
    emulator.reset_requests()
    deliver(app)
    assert our_items(emulator, researcher["orcid"]) == []
    assert _endpoint_counts(emulator) == {}
    # the researcher asks for it back from their page
    with app.app_context():
        assert orcid.resend(user, "thesis:1")
        db.session.commit()
    deliver(app)
    works = our_items(emulator, researcher["orcid"])
    assert [w["title"] for w in works] == ["Edited again"]


def test_a_post_applied_but_unanswered_is_adopted_not_duplicated(app, emulator, user,
                                                                 researcher):
    publish(app, user, "thesis:1", thesis(1, "Crash window"))
    emulator.fault(method="POST", path=r"/work$", action="apply_then_fail", status=500, count=1)
    first = deliver(app)
    # the item landed on ORCID, we saw a 500 and rescheduled the row
    assert len(our_items(emulator, researcher["orcid"])) == 1
    assert first.failed == 1 or first.synced == 1
    time.sleep(0.2)
    deliver(app)
    works = our_items(emulator, researcher["orcid"])
    assert len(works) == 1
    final = row(app, user, "thesis:1")
    assert final.state == "synced" and final.put_code == works[0]["put_code"]
    with app.app_context():
        Event = orcid.models.Event
        outcomes = db.session.scalars(sa.select(Event.outcome).order_by(Event.id)).all()
    assert "duplicate" in outcomes


def test_bulk_post_applied_but_dropped_is_adopted_slot_by_slot(app, emulator, user, researcher):
    for n in range(4):
        publish(app, user, f"thesis:{n}", thesis(n))
    emulator.fault(method="POST", path=r"/works$", action="apply_then_fail", then="drop",
                   count=1)
    deliver(app)
    time.sleep(0.2)
    deliver(app)
    works = our_items(emulator, researcher["orcid"])
    assert sorted(self_value(w) for w in works) == [f"20.500.12345/{n}" for n in range(4)]
    assert {r.state for r in rows(app)} == {"synced"}
    assert {r.put_code for r in rows(app)} == {w["put_code"] for w in works}


def test_revoked_connection_parks_rows_until_the_researcher_reconnects(
        app, emulator, connect, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    emulator.user_revoke(researcher["orcid"])
    publish(app, user, "thesis:1", thesis(1, "Changed while revoked"))
    publish(app, user, "thesis:2", thesis(2))
    result = deliver(app)
    assert result.parked >= 1
    with app.app_context():
        assert orcid.get_account(user).status == "invalid"
    parked = [r for r in rows(app) if r.key in ("thesis:1", "thesis:2")]
    assert {(r.state, r.park_reason) for r in parked} == {("parked", "auth")}
    assert all("connects again" in r.error_message for r in parked)
    # published while the connection is dead: parked with the same reason, not left pending
    publish(app, user, "thesis:3", thesis(3))
    deliver(app)
    assert row(app, user, "thesis:3").park_reason == "auth"
    # the researcher connects again: the rows resume by themselves
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    assert connect(client, researcher).status_code == 302
    deliver(app)
    works = our_items(emulator, researcher["orcid"])
    assert sorted(w["title"] for w in works) == ["Changed while revoked", "Thesis number 2",
                                                 "Thesis number 3"]


def test_orcid_refusing_an_item_parks_it_with_orcids_message(app, emulator, user, researcher):
    bad = degree(1)
    bad.organization.disambiguated_id = "https://ror.org/000000000"  # unknown to the registry
    publish(app, user, "degree:1", bad)
    failures = []
    with item_failed.connected_to(lambda s, **kw: failures.append(kw)):
        deliver(app)
    parked = row(app, user, "degree:1")
    assert parked.state == "parked" and parked.park_reason == "rejected"
    assert parked.error_status == 400 and parked.error_code == 9045
    assert parked.error_message
    assert any(f["key"] == "degree:1" and f["parked"] for f in failures)


def test_transient_errors_back_off_then_succeed(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    emulator.fault(method="POST", path=r"/work$", action="status", status=500, count=2)
    deliver(app)
    # deliver() runs until nothing is due; the two 500s were retried with backoff
    for _ in range(20):
        if row(app, user, "thesis:1").state == "synced":
            break
        time.sleep(0.1)
        deliver(app)
    assert row(app, user, "thesis:1").state == "synced"
    assert len(our_items(emulator, researcher["orcid"])) == 1
    with app.app_context():
        Event = orcid.models.Event
        statuses = db.session.scalars(sa.select(Event.status).order_by(Event.id)).all()
    assert statuses[:2] == [500, 500]


def test_retry_after_is_honoured_and_transient_failures_never_give_up(make_app, emulator,
                                                                      tmp_path, connect):
    """Issue 11 defect 7: past ORCID_MAX_ATTEMPTS a transient failure still backs off (to
    ORCID_RETRY_MAX_SECONDS) and keeps going; nobody has to run ``retry --parked``."""
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    app = make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path),
                   **{**FAST, "ORCID_MAX_ATTEMPTS": 2, "ORCID_BREAKER_THRESHOLD": 100})
    who = new_researcher(emulator)
    user = connect_user(app, connect, who)
    publish(app, user, "thesis:1", thesis(1))
    emulator.fault(method="POST", path=r"/work$", action="status", status=503,
                   retry_after=30, count=1)
    before = time.time()
    deliver(app)
    failed = row(app, user, "thesis:1")
    assert failed.state == "failed" and failed.attempts == 1
    from datetime import UTC, datetime

    wait = (failed.next_attempt_at.replace(tzinfo=UTC)
            - datetime.fromtimestamp(before, UTC)).total_seconds()
    assert wait >= 29
    # an admin retries at once; then ORCID keeps failing far past ORCID_MAX_ATTEMPTS
    emulator.fault(method="POST", path=r"/work$", action="status", status=502, count=6)
    emulator.fault(method="POST", path=r"/work$", action="drop", count=2)
    runner = app.test_cli_runner()
    runner.invoke(args=["orcid", "retry"])
    for _ in range(100):
        deliver(app)
        current = row(app, user, "thesis:1")
        assert current.state in ("failed", "synced"), (current.state, current.error_message)
        if current.state == "synced":
            break
        assert current.next_attempt_at <= utcnow() + timedelta(seconds=0.6)  # the cap
        time.sleep(0.05)
    assert row(app, user, "thesis:1").state == "synced"
    assert [w["title"] for w in our_items(emulator, who["orcid"])] == ["Thesis number 1"]


def test_publishing_before_connecting_is_delivered_after_connecting(app, emulator, connect,
                                                                    researcher):
    from tests.plugins.app import User

    with app.app_context():
        person = User(email=researcher["email"])
        db.session.add(person)
        db.session.commit()
        key = str(person.id)
    publish(app, key, "thesis:1", thesis(1))
    assert deliver(app).claimed == 0
    assert row(app, key, "thesis:1").state == "pending"
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(key)
    connect(client, researcher)
    deliver(app)
    assert [w["title"] for w in our_items(emulator, researcher["orcid"])] == ["Thesis number 1"]


def test_disconnect_removes_the_outbox_rows_and_leaves_the_record(app, emulator, user,
                                                                  researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    with app.app_context():
        orcid.disconnect(user)
    assert rows(app) == []
    with app.app_context():
        Event = orcid.models.Event
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert len(our_items(emulator, researcher["orcid"])) == 1


def test_events_record_every_attempt_without_tokens(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    emulator.fault(method="POST", path=r"/work$", action="status", status=500, count=1)
    deliver(app)
    time.sleep(0.1)
    deliver(app)
    with app.app_context():
        Event = orcid.models.Event
        events = db.session.scalars(sa.select(Event).order_by(Event.id)).all()
        token = orcid.get_account(user).access_token
        dump = " ".join(str(vars(e)) for e in events)
    assert [(e.operation, e.status) for e in events][:2] == [("POST", 500), ("POST", 201)]
    assert all(e.duration_ms is not None for e in events)
    assert token not in dump


def test_synced_signal_and_items_page_link_to_the_record(app, emulator, user, researcher):
    synced = []
    publish(app, user, "thesis:1", thesis(1))
    with item_synced.connected_to(lambda s, **kw: synced.append((kw["key"], kw["put_code"]))):
        deliver(app)
    assert synced and synced[-1][0] == "thesis:1"
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert "On your record" in page
    assert f'{emulator.url}/{researcher["orcid"]}' in page
    # and the "Your ORCID connection" page carries the same list
    page = client.get("/orcid/").get_data(as_text=True)
    assert "Thesis number 1" in page and "On your record" in page


def test_a_change_waiting_to_be_sent_is_on_the_record_update_pending(app, emulator, user):
    """Issue 14, item 5: an older version is on the record, so never "Not sent"."""
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    publish(app, user, "thesis:1", thesis(1, "A corrected title"))
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert "On your record, update pending" in page and "Waiting to be sent" not in page
    deliver(app)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert "update pending" not in page and "On your record" in page


def test_claims_never_overlap_and_expired_leases_come_back(app, emulator, user):
    for n in range(5):
        publish(app, user, f"thesis:{n}", thesis(n))
    read_connected_records(app)
    with app.app_context():
        first = orcid.deliverer(app, owner="w1")
        second = orcid.deliverer(app, owner="w2")
        from sqlalchemy.orm import Session

        with Session(db.engine) as s1, Session(db.engine) as s2:
            got1, _ = first.claim(s1, "w1#1")
            got2, _ = second.claim(s2, "w2#1")
            assert len(got1) == 5 and got2 == []
            # w1 dies; once its lease expires another worker takes the rows
            Item = orcid.models.Item
            s1.execute(sa.update(Item).values(
                lease_expires_at=utcnow() - timedelta(seconds=1)))
            s1.commit()
            got2, _ = second.claim(s2, "w2#2")
            assert len(got2) == 5


def test_background_delivery_thread(make_app, emulator, tmp_path, connect):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    app = make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path), ORCID_DELIVERY="thread",
                   ORCID_DELIVERY_INTERVAL=30, **FAST)
    who = new_researcher(emulator)
    user = connect_user(app, connect, who)
    app.test_client().get("/")  # the first request starts the deliverer
    try:
        with app.app_context():
            assert app.extensions["orcid"].background.running
            orcid.publish(user, "thesis:1", thesis(1))
            db.session.commit()  # the commit wakes it: no 30 s wait
        for _ in range(50):
            if our_items(emulator, who["orcid"]):
                break
            time.sleep(0.1)
        assert len(our_items(emulator, who["orcid"])) == 1
    finally:
        with app.app_context():
            orcid.stop_delivery(app)


def test_backoff_grows_and_honours_retry_after():
    settings = policy.Settings(retry_base=10, retry_max=1000)
    import random

    rng = random.Random(1)
    delays = [policy.backoff_delay(n, settings, rng=rng) for n in (1, 2, 3, 4)]
    assert 5 <= delays[0] <= 15 and 40 <= delays[3] <= 120
    assert policy.backoff_delay(1, settings, retry_after=300, rng=rng) >= 300
    assert policy.backoff_delay(30, settings, rng=rng) <= 1000


def test_deliver_command_reports_what_it_did(app, emulator, user, researcher):
    for n in range(3):
        publish(app, user, f"thesis:{n}", thesis(n))
    emulator.fault(method="POST", path=r"/works$", action="status", status=500, count=1)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["orcid", "deliver", "--concurrency", "2"])
    assert out.exit_code == 0, out.output
    # one pass handles what is due now; the failed bulk waits for its backoff
    assert "3 item(s) handled: 0 done, 3 to retry later" in out.output
    assert "HTTP 500" in runner.invoke(args=["orcid", "status"]).output
    time.sleep(0.6)
    emulator.limits(rate=10000, burst=10000, latency_ms=1300)  # a long pass shows progress
    app.config["ORCID_READ_TIMEOUT"] = 5.0
    out = runner.invoke(args=["orcid", "deliver"])
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    assert "3 item(s) handled: 3 done" in out.output and "1 request(s) to ORCID" in out.output
    assert re.search(r"delivering: .* requests, \d+s", out.stderr)
    assert len(our_items(emulator, researcher["orcid"])) == 3
    out = app.test_cli_runner().invoke(args=["orcid", "deliver", "--concurrency", "0"])
    assert out.exit_code != 0 and "--concurrency" in out.output


def test_a_duplicate_without_a_put_code_in_the_message_is_found_by_listing(
        app, emulator, user, researcher):
    """Older ORCID messages for 9021 do not name the put-code (API-FACTS §7)."""
    from flask_orcid import DuplicateError

    publish(app, user, "thesis:1", thesis(1, "Listed"))
    emulator.fault(method="POST", path=r"/work$", action="apply_then_fail", status=500, count=1)
    deliver(app)  # applied on ORCID, answer lost

    def client_without_put_codes(rate_limiter):
        client = client_from_config(app.config, worker=True, rate_limiter=rate_limiter)
        add_item = client.add_item

        def add_item_old_message(*args, **kwargs):
            try:
                return add_item(*args, **kwargs)
            except DuplicateError as exc:
                raise DuplicateError(str(exc), status=409, error_code=9021,
                                     existing_put_code=None) from None

        client.add_item = add_item_old_message
        return client

    time.sleep(0.6)
    emulator.reset_requests()
    deliver(app, client_factory=client_without_put_codes)
    works = our_items(emulator, researcher["orcid"])
    assert len(works) == 1 and row(app, user, "thesis:1").put_code == works[0]["put_code"]
    assert row(app, user, "thesis:1").state == "synced"
    assert _endpoint_counts(emulator) == {"POST work": 1, "GET works": 1, "PUT work": 1}


def test_a_connection_without_the_update_scope_parks_without_looping(make_app, emulator,
                                                                      tmp_path, connect):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    database = sqlite_file(tmp_path)
    narrow = make_app(SQLALCHEMY_DATABASE_URI=database, ORCID_SCOPES="/authenticate", **FAST)
    who = new_researcher(emulator)
    user = connect_user(narrow, connect, who)
    publish(narrow, user, "thesis:1", thesis(1))
    deliver(narrow)
    parked = row(narrow, user, "thesis:1")
    assert (parked.state, parked.park_reason, parked.error_status) == ("parked", "scope", 403)
    emulator.reset_requests()
    deliver(narrow)
    assert _endpoint_counts(emulator) == {}  # parked stays parked: no request per pass
    # the researcher connects again through a site asking for the update scope
    full = make_app(SQLALCHEMY_DATABASE_URI=database, **FAST)
    client = full.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    assert connect(client, who).status_code == 302
    deliver(full)
    assert [w["title"] for w in our_items(emulator, who["orcid"])] == ["Thesis number 1"]


def test_two_keys_with_the_same_identifier_never_fight_over_one_item(app, emulator, user,
                                                                      researcher):
    publish(app, user, "thesis:1", thesis(1, "The original"))
    deliver(app)
    publish(app, user, "thesis:copy", thesis(1, "Same handle, another key"))
    deliver(app)
    copy = row(app, user, "thesis:copy")
    assert copy.state == "parked" and copy.park_reason == "conflict"
    assert "'thesis:1'" in copy.error_message
    works = our_items(emulator, researcher["orcid"])
    assert [w["title"] for w in works] == ["The original"]


def test_old_events_are_pruned_and_the_loop_keeps_delivering(app, emulator, user, researcher):
    import threading

    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    with app.app_context():
        Event = orcid.models.Event
        db.session.execute(sa.update(Event).values(
            created_at=utcnow() - timedelta(days=91)))
        db.session.commit()
    stop = threading.Event()
    with app.app_context():
        deliverer = orcid.deliverer(app)
    loop = threading.Thread(target=deliverer.run_forever, kwargs={"interval": 0.1, "stop": stop})
    loop.start()
    try:
        publish(app, user, "thesis:2", thesis(2))
        for _ in range(50):
            if len(our_items(emulator, researcher["orcid"])) == 2:
                break
            time.sleep(0.1)
        assert len(our_items(emulator, researcher["orcid"])) == 2
    finally:
        stop.set()
        loop.join(5)
    with app.app_context():
        keys = db.session.scalars(sa.select(Event.key)).all()
    assert keys == ["thesis:2"]  # the 91-day-old event of thesis:1 is gone


def test_signing_in_again_during_a_pass_keeps_the_new_connection(app, emulator, connect, user,
                                                                 researcher):
    """A 401 for a token that was replaced meanwhile must not undo the new sign-in."""
    publish(app, user, "thesis:1", thesis(1))
    reconnected = []

    def reconnect_first(rate_limiter):
        client = client_from_config(app.config, worker=True, rate_limiter=rate_limiter)
        add_works, add_item = client.add_works, client.add_item

        def sign_in_again() -> None:
            if not reconnected:  # the researcher signs in again while the pass holds the old token
                with app.app_context():  # (a narrower grant makes the site ask ORCID again)
                    orcid.get_account(user).scopes = "/authenticate"
                    db.session.commit()
                browser = app.test_client()
                with browser.session_transaction() as sess:
                    sess["user_id"] = int(user)
                assert connect(browser, researcher).status_code == 302
                reconnected.append(True)

        def first_add_works(*args, **kwargs):
            sign_in_again()
            return add_works(*args, **kwargs)

        def first_add_item(*args, **kwargs):
            sign_in_again()
            return add_item(*args, **kwargs)

        client.add_works, client.add_item = first_add_works, first_add_item
        return client

    deliver(app, client_factory=reconnect_first)
    assert reconnected
    with app.app_context():
        assert orcid.get_account(user).status == "active"
    assert row(app, user, "thesis:1").state in ("pending", "synced")
    deliver(app)
    assert [w["title"] for w in our_items(emulator, researcher["orcid"])] == ["Thesis number 1"]
    assert row(app, user, "thesis:1").state == "synced"
