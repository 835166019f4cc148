"""Finding 4: the OAuth state is single-use on the server, whatever cookie the browser sends."""

from __future__ import annotations

import threading
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from flask_orcid.sync import oauth_states
from tests.outbox_support import NO_POSTGRES, POSTGRES_URL

from ..plugins.app import db, orcid

CARBERRY = "josiah@example.edu"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_replay_with_the_earlier_cookie_exchanges_nothing(app, client, authorize, make_user,
                                                          login, emulator):
    login(client, make_user(app, email="j@example.edu"))
    callback = authorize(client, CARBERRY)
    earlier = _cookie(client)  # the cookie that still holds the state
    assert client.get(callback).status_code == 302
    with app.app_context():
        token = orcid.get_account("1").access_token
    emulator.reset_requests()
    attacker = app.test_client()
    attacker.set_cookie("session", earlier)
    response = attacker.get(callback)
    # the same user reloading: a success page, and no second exchange
    assert response.status_code == 302 and response.headers["Location"] == "/orcid/"
    assert emulator.requests()["count"] == 0
    with app.app_context():
        assert orcid.get_account("1").access_token == token
    assert [t["status"] for t in emulator.tokens(orcid="0000-0002-1825-0097")] == ["active"]


def test_replay_with_the_earlier_cookie_before_success_is_refused(app, client, authorize,
                                                                  emulator):
    callback = authorize(client, CARBERRY)
    earlier = _cookie(client)
    emulator.fault(method="POST", path="^/oauth/token$", action="status", status=500, count=10)
    assert client.get(callback, follow_redirects=True).status_code == 503  # nothing stored
    emulator.clear_faults()
    again = app.test_client()
    again.set_cookie("session", earlier)
    emulator.reset_requests()
    response = again.get(callback, follow_redirects=True)
    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)
    assert emulator.requests()["count"] == 0


def test_consume_is_atomic_across_threads(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'states.sqlite'}")
    models = orcid.models
    with app.app_context():
        oauth_states.record(db.session, models, "s-1", None)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def spend() -> None:
        with app.app_context():
            barrier.wait()
            wins.append(oauth_states.consume(db.session, models, "s-1"))
            db.session.remove()

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
    with app.app_context():
        assert oauth_states.consume(db.session, models, "unknown") is False


def test_the_state_itself_is_not_stored(app, client):
    location = client.get("/orcid/connect").headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    with app.app_context():
        rows = [tuple(r) for r in db.session.execute(text("SELECT * FROM orcid_oauth_states"))]
    assert len(rows) == 1 and state not in repr(rows)


@pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)
def test_consume_is_atomic_on_postgres(make_app, emulator):
    schema = f"states_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        app = make_app(SQLALCHEMY_DATABASE_URI=POSTGRES_URL, SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": f"-csearch_path={schema}"}})
        with app.app_context():
            db.create_all()
            oauth_states.record(db.session, orcid.models, "pg-1", None)
        barrier = threading.Barrier(8)
        wins: list[bool] = []

        def spend() -> None:
            with app.app_context():
                barrier.wait()
                wins.append(oauth_states.consume(db.session, orcid.models, "pg-1"))
                db.session.remove()

        threads = [threading.Thread(target=spend) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(wins) == [False] * 7 + [True]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
