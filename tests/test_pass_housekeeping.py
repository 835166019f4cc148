"""What every delivery pass does before it claims anything: old audit events are pruned,
rows of connections ORCID no longer accepts are parked, rows of renewed connections resume.
Each sweep reads first and writes only when it has something to do, so worker processes that
start their passes together do not queue for SQLite's one write lock."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from flask_orcid.sync.clock import utcnow
from tests import outbox_support as shared
from tests.outbox_support import deliver, our_items, publish, row, thesis
from tests.plugins.app import db, orcid

app, researcher, user = shared.app, shared.researcher, shared.user


def test_a_pass_prunes_events_older_than_the_retention(app, emulator, user, researcher):
    app.config["ORCID_EVENT_RETENTION_DAYS"] = 30
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)  # its attempt is logged
    Event = orcid.models.Event
    with app.app_context():
        events = db.session.scalars(sa.select(Event)).all()
        assert events
        old, recent = events[0].id, [e.id for e in events[1:]]
        db.session.execute(sa.update(Event).where(Event.id == old)
                           .values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    deliver(app)
    with app.app_context():
        left = set(db.session.scalars(sa.select(Event.id)))
    assert old not in left and set(recent) <= left


def test_a_pass_parks_the_rows_of_a_connection_orcid_no_longer_accepts(app, emulator, user,
                                                                       researcher):
    publish(app, user, "thesis:1", thesis(1))
    with app.app_context():
        account = orcid.get_account(user)
        account.status = "invalid"  # ORCID answered 401 to another request meanwhile
        db.session.commit()
    deliver(app)
    parked = row(app, user, "thesis:1")
    assert parked.state == "parked" and parked.error_status == 401
    assert our_items(emulator, researcher["orcid"]) == []


def test_the_sweeps_of_a_pass_with_nothing_to_sweep_write_nothing(app, emulator, user,
                                                                   researcher):
    # (every pass of every worker process starts with them: on SQLite an UPDATE or DELETE
    # takes the one write lock even when it matches no row)
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    seen: list[str] = []

    def record(conn, cursor, statement, *rest):  # noqa: ANN001, ANN202
        seen.append(statement.lstrip().split(None, 1)[0].upper() + " " + statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        result = deliver(app)  # nothing due, nothing to prune, park or resume
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    claim = next(i for i, s in enumerate(seen) if "lease_owner" in s)
    before_claiming = seen[:claim]
    sweeps = [s for s in before_claiming if s.startswith(("UPDATE", "DELETE"))
              and ("orcid_outbox_events" in s or "orcid_outbox_items" in s)]
    assert sweeps == [], sweeps
    assert result.claimed == 0
    # it did look: one read per sweep
    assert sum(s.startswith("SELECT SELECT EXISTS") for s in before_claiming) >= 3


def test_an_in_memory_database_is_delivered_with_one_thread(make_app, emulator, connect,
                                                            tmp_path):
    # An in-memory SQLite database is one connection shared by every thread, and Python's
    # sqlite3 objects break when two threads use one at once (CI once saw "commit returned
    # NULL without setting an exception" in a worker thread). A file database keeps the
    # default of several calls in flight.
    memory = make_app(SQLALCHEMY_DATABASE_URI="sqlite://", ORCID_WORKER_CONCURRENCY=8)
    file = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'file.db'}",
                    ORCID_WORKER_CONCURRENCY=8)
    assert orcid.deliverer(memory).concurrency == 1
    assert orcid.deliverer(file).concurrency == 8
    who = shared.new_researcher(emulator)
    user = shared.connect_user(memory, connect, who)
    for n in range(1, 6):
        publish(memory, user, f"thesis:{n}", thesis(n))
    assert deliver(memory).synced == 5
    assert len(our_items(emulator, who["orcid"])) == 5
