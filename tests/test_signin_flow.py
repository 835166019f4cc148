"""The real sign-in flow against the emulator: connect, consent, callback, store, prefill,
disconnect and revocation; denial and re-grant; consent skipping; reconnecting; OpenID."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import text

from flask_orcid import orcid_connected, orcid_denied, orcid_disconnected
from flask_orcid.sync.clock import utcnow

from .plugins.app import db, orcid

CARBERRY = "josiah@example.edu"
CARBERRY_ID = "0000-0002-1825-0097"
SCOPES = "/authenticate /read-limited /activities/update"


@contextmanager
def captured(signal):
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    signal.connect(receiver)
    try:
        yield received
    finally:
        signal.disconnect(receiver)


def _csrf(client) -> str:
    page = client.get("/orcid/disconnect/confirm").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _tokens(emulator, orcid_id=CARBERRY_ID) -> list[dict]:
    return [t for t in emulator.tokens(orcid=orcid_id) if t["client_id"] == emulator.client_id]


def test_connect_store_prefill_disconnect_revoke(app, client, connect, make_user, login, emulator):
    user = make_user(app, email=CARBERRY, given_names="Josiah", family_names="Carberry")
    login(client, user)
    with captured(orcid_connected) as connected:
        response = connect(client, CARBERRY, next="/deposit?step=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/deposit?step=2"
    assert connected and connected[0]["user_key"] == str(user.id)
    assert connected[0]["reconnected"] is False

    with app.app_context():
        account = orcid.get_account(str(user.id))
        assert account.orcid == CARBERRY_ID
        assert account.environment == "emulator"
        assert account.scope_set == set(SCOPES.split())
        assert account.status == "active"
        assert account.expires_at > utcnow() + timedelta(days=365 * 19)
        access, refresh = account.access_token, account.refresh_token
        raw = db.session.execute(
            text("SELECT access_token, refresh_token FROM orcid_accounts")
        ).one()
        assert access and refresh and access not in raw and refresh not in raw

        record = orcid.read_record_for_prefill(str(user.id))
        assert record is not None
        assert record.given_names == "Josiah"
        assert record.family_name == "Carberry"
        assert record.educations and record.employments
    assert [t["status"] for t in _tokens(emulator)] == ["active"]

    page = client.get("/orcid/").get_data(as_text=True)
    assert f"{emulator.url}/{CARBERRY_ID}" in page
    assert "Add works (such as your thesis)" in page
    assert "Disconnect my ORCID iD" in page

    with captured(orcid_disconnected) as disconnected:
        response = client.post("/orcid/disconnect", data={"csrf_token": _csrf(client)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "What stays on your ORCID record" in page and CARBERRY_ID in page
    assert disconnected == [{"orcid": CARBERRY_ID, "user_key": str(user.id)}]
    with app.app_context():
        assert orcid.get_account(str(user.id)) is None
        assert db.session.execute(text("SELECT count(*) FROM orcid_accounts")).scalar() == 0
        assert db.session.execute(
            text("SELECT count(*) FROM orcid_pending_revocations")
        ).scalar() == 0
    assert [t["status"] for t in _tokens(emulator)] == ["revoked"]
    # the page now offers to connect again
    assert "Connect your ORCID iD" in client.get("/orcid/").get_data(as_text=True)


def test_a_signin_makes_exactly_one_server_side_call(app, client, authorize, make_user, login, emulator):
    login(client, make_user(app, email=CARBERRY))
    callback = authorize(client, CARBERRY)
    emulator.reset_requests()
    assert client.get(callback).status_code == 302
    calls = emulator.requests()
    assert calls["count"] == 1, calls
    assert [entry["path"] for entry in calls["log"]] == ["/oauth/token"]


def test_prefill_makes_three_calls(app, client, connect, make_user, login, emulator):
    login(client, make_user(app, email=CARBERRY))
    connect(client, CARBERRY)
    emulator.reset_requests()
    with app.app_context():
        assert orcid.read_record_for_prefill("1") is not None
    paths = [entry["path"] for entry in emulator.requests()["log"]]
    assert len(paths) == 3, paths
    assert not any(p.endswith("/record") or p.endswith("/works") for p in paths)


def test_authorize_url_carries_prefill_and_language(app, client, make_user, login, emulator):
    user = make_user(
        app, email="maría@example.edu", given_names="María José", family_names="García Núñez"
    )
    login(client, user)
    location = client.get(
        "/orcid/connect?next=/deposit", headers={"Accept-Language": "es"}
    ).headers["Location"]
    assert location.startswith(f"{emulator.url}/oauth/authorize?")
    assert "scope=%2Fauthenticate%20%2Fread-limited%20%2Factivities%2Fupdate" in location
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [emulator.client_id]
    assert query["response_type"] == ["code"]
    assert query["scope"] == [SCOPES]
    assert query["redirect_uri"] == ["http://localhost/orcid/callback"]
    assert len(query["state"][0]) >= 32
    assert query["given_names"] == ["María José"]
    assert query["family_names"] == ["García Núñez"]
    assert query["email"] == ["maría@example.edu"]
    assert query["lang"] == ["es"]
    assert "orcid" not in query and "nonce" not in query


def test_denial_then_regrant(app, client, connect, make_user, login, emulator):
    login(client, make_user(app, email=CARBERRY))
    with captured(orcid_denied) as denied:
        response = connect(client, CARBERRY, approve=False, next="/deposit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You did not connect your ORCID iD" in page
    assert "What is ORCID?" in page and "Why do we ask?" in page
    assert "What we will be allowed to do" in page
    assert 'href="/orcid/connect?next=/deposit">Try again' in page
    assert 'href="/deposit">Continue without ORCID' in page
    assert len(denied) == 1 and denied[0]["user_key"] == "1"
    with app.app_context():
        assert orcid.get_account("1") is None
    assert _tokens(emulator) == []

    response = connect(client, CARBERRY, next="/deposit")
    assert response.status_code == 302 and response.headers["Location"] == "/deposit"
    with app.app_context():
        assert orcid.get_account("1").orcid == CARBERRY_ID


def test_consent_is_not_asked_twice(app, client, connect, make_user, login, emulator):
    login(client, make_user(app, email=CARBERRY))
    connect(client, CARBERRY)
    emulator.reset_requests()
    response = client.get("/orcid/connect?next=/deposit")
    assert response.status_code == 302 and response.headers["Location"] == "/deposit"
    assert emulator.requests()["count"] == 0

    # a connection lacking a configured scope goes back to ORCID, iD prefilled
    with app.app_context():
        account = orcid.get_account("1")
        account.scopes = "/authenticate"
        db.session.commit()
    location = client.get("/orcid/connect").headers["Location"]
    assert location.startswith(emulator.url)
    assert parse_qs(urlsplit(location).query)["orcid"] == [CARBERRY_ID]


def test_reconnect_replaces_tokens_and_revokes_the_old_ones(app, client, connect, make_user, login, emulator):
    login(client, make_user(app, email=CARBERRY))
    connect(client, CARBERRY)
    with app.app_context():
        account = orcid.get_account("1")
        old_access, account_id = account.access_token, account.id
        account.mark_invalid()  # e.g. the researcher revoked us on ORCID
        db.session.commit()
    assert "Connect again" in client.get("/orcid/").get_data(as_text=True)
    with captured(orcid_connected) as connected:
        assert connect(client, CARBERRY).status_code == 302
    assert connected[0]["reconnected"] is True
    with app.app_context():
        account = orcid.get_account("1")
        assert account.id == account_id and account.status == "active"
        assert account.access_token != old_access
        assert db.session.execute(text("SELECT count(*) FROM orcid_accounts")).scalar() == 1
    assert sorted(t["status"] for t in _tokens(emulator)) == ["active", "revoked"]


def test_disconnect_while_orcid_is_down_keeps_the_revocation(make_app, make_user, login, connect, emulator):
    app = make_app(ORCID_MAX_RETRIES=0)
    client = app.test_client()
    login(client, make_user(app, email=CARBERRY))
    connect(client, CARBERRY)
    emulator.fault(method="POST", path="^/oauth/revoke$", action="status", status=503, count=100)
    response = client.post("/orcid/disconnect", data={"csrf_token": _csrf(client)})
    assert response.status_code == 200
    # the page does not claim the permission is withdrawn: it says it is queued
    page = response.get_data(as_text=True)
    assert 'id="orcid-revocation-queued"' in page and 'id="orcid-revocation-done"' not in page
    with app.app_context():
        assert orcid.get_account("1") is None  # local data removed anyway
        rows = db.session.scalars(db.select(orcid.PendingRevocation)).all()
        assert len(rows) == 2 and rows[0].orcid == CARBERRY_ID
        assert rows[0].attempts == 1 and rows[0].last_error
        raw = repr(db.session.execute(text("SELECT * FROM orcid_pending_revocations")).all())
        assert all(row.token not in raw for row in rows)
    assert [t["status"] for t in _tokens(emulator)] == ["active"]

    runner = app.test_cli_runner()
    result = runner.invoke(args=["orcid", "revoke-pending", "--all"])
    assert result.exit_code == 1 and "still pending" in result.output

    emulator.clear_faults()
    result = runner.invoke(args=["orcid", "revoke-pending", "--all"])
    assert result.exit_code == 0, result.output
    assert "2 still pending" not in result.output and "0 still pending" in result.output
    assert [t["status"] for t in _tokens(emulator)] == ["revoked"]
    with app.app_context():
        assert db.session.scalars(db.select(orcid.PendingRevocation)).all() == []


def test_signin_with_nobody_signed_in_lets_the_host_log_in(app, connect, emulator):
    first = app.test_client()
    assert connect(first, CARBERRY, next="/deposit").headers["Location"] == "/deposit"
    with first.session_transaction() as sess:
        assert sess["user_id"] == 1
    assert CARBERRY_ID in first.get("/orcid/").get_data(as_text=True)

    # later, from another browser: the same iD signs the same user in
    second = app.test_client()
    assert connect(second, CARBERRY).status_code == 302
    with second.session_transaction() as sess:
        assert sess["user_id"] == 1
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM test_users")).scalar() == 1


def test_signin_handler_may_answer_and_its_failure_stores_nothing(app, client, connect, make_user, login, monkeypatch, emulator):
    login(client, make_user(app, email=CARBERRY))
    monkeypatch.setattr(orcid, "_signin_handler", lambda account, token: "welcome back")
    response = connect(client, CARBERRY)
    assert response.status_code == 200 and response.get_data(as_text=True) == "welcome back"

    other = app.test_client()
    login(other, make_user(app, email="maria@example.edu"))

    def broken(account, token):
        raise RuntimeError("host bug")

    monkeypatch.setattr(orcid, "_signin_handler", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = connect(other, "maria@example.edu")
    assert response.status_code == 500
    maria = emulator.researcher("maria@example.edu")
    with app.app_context():
        assert orcid.get_account_by_orcid(maria["orcid"]) is None
    assert [t["status"] for t in _tokens(emulator, maria["orcid"])] == ["revoked"]


def test_other_orcid_errors_are_explained_in_our_words_with_support(client):
    location = client.get("/orcid/connect").headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    response = client.get(
        f"/orcid/callback?error=invalid_scope&error_description=Scope%20not%20allowed&state={state}"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "did not accept the permissions this site asked for" in page
    assert "Scope not allowed" not in page  # ORCID's (or an attacker's) words are not shown
    assert "mailto:orcid-help@example.edu" in page


def test_connection_page_needs_a_signed_in_user(client):
    response = client.get("/orcid/")
    assert response.status_code == 401
    assert "Sign in to this site" in response.get_data(as_text=True)


def test_openid_id_token_is_verified(make_app, make_user, login, authorize, emulator):
    app = make_app(ORCID_SCOPES="openid /read-limited")
    client = app.test_client()
    login(client, make_user(app, email=CARBERRY))
    location = client.get("/orcid/connect").headers["Location"]
    assert parse_qs(urlsplit(location).query)["nonce"]
    callback = authorize(client, CARBERRY)
    emulator.reset_requests()
    with captured(orcid_connected) as connected:
        assert client.get(callback).status_code == 302
    assert emulator.requests()["count"] == 2  # token + JWKS (cached afterwards)
    with app.app_context():
        assert orcid.get_account("1").has_scopes("openid", "/authenticate")

    # a tampered nonce: the id_token no longer matches this sign-in
    other = app.test_client()
    login(other, make_user(app, email="maria@example.edu"))
    callback = authorize(other, "maria@example.edu")
    with other.session_transaction() as sess:
        states = sess["_orcid_states"]
        for entry in states.values():
            entry["nonce"] = "not-the-nonce-sent"
        sess["_orcid_states"] = states
    emulator.reset_requests()
    response = other.get(callback, follow_redirects=True)
    assert response.status_code == 400
    assert "did not check out" in response.get_data(as_text=True)
    assert emulator.requests()["log"][0]["path"] == "/oauth/token"
    assert all(entry["path"] != "/oauth/jwks" for entry in emulator.requests()["log"])
    maria = emulator.researcher("maria@example.edu")
    with app.app_context():
        assert orcid.get_account_by_orcid(maria["orcid"]) is None
    assert connected and len(connected) == 1


def test_linking_only_host_refuses_signin_without_a_user(app, connect, monkeypatch, emulator):
    monkeypatch.setattr(orcid, "_signin_handler", lambda account, token: None)
    response = connect(app.test_client(), CARBERRY)
    assert response.status_code == 401
    assert "Sign in to this site first" in response.get_data(as_text=True)
    with app.app_context():
        assert orcid.get_account_by_orcid(CARBERRY_ID) is None
    assert [t["status"] for t in _tokens(emulator)] == ["revoked"]


def test_pages_follow_the_users_language(app, client, connect, make_user, login):
    login(client, make_user(app, email=CARBERRY, locale="es"))
    location = client.get("/orcid/connect").headers["Location"]
    assert parse_qs(urlsplit(location).query)["lang"] == ["es"]
    page = connect(client, CARBERRY, approve=False).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "No ha conectado su iD de ORCID" in page
    assert "Intentarlo de nuevo" in page


def test_one_extension_two_apps_real_flows(make_app, make_user, login, connect, emulator):
    first, second = make_app(), make_app(ORCID_URL_PREFIX="/researcher/orcid")
    c1, c2 = first.test_client(), second.test_client()
    login(c1, make_user(first, email=CARBERRY))
    login(c2, make_user(second, email="maria@example.edu"))
    assert connect(c1, CARBERRY).status_code == 302
    maria = emulator.researcher("maria@example.edu")
    # the second app lives under another prefix: drive it by hand
    location = c2.get("/researcher/orcid/connect").headers["Location"]
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Fresearcher%2Forcid%2Fcallback" in location
    with requests.Session() as http:
        callback = emulator.consent(http, location, maria["email"], maria["password"])
    parts = urlsplit(callback)
    assert c2.get(f"{parts.path}?{parts.query}").status_code == 302
    with first.app_context():
        assert orcid.get_account("1").orcid == CARBERRY_ID
        assert orcid.get_account_by_orcid(maria["orcid"]) is None
    with second.app_context():
        assert orcid.get_account("1").orcid == maria["orcid"]
        assert orcid.get_account_by_orcid(CARBERRY_ID) is None


def test_deliver_also_retries_due_revocations(make_app, make_user, login, connect, emulator):
    # one delivery thread: this app's in-memory database is one connection shared by all
    app = make_app(ORCID_MAX_RETRIES=0, ORCID_WORKER_CONCURRENCY=1)
    client = app.test_client()
    login(client, make_user(app, email=CARBERRY))
    connect(client, CARBERRY)
    emulator.fault(method="POST", path="^/oauth/revoke$", action="status", status=503, count=100)
    client.post("/orcid/disconnect", data={"csrf_token": _csrf(client)})
    emulator.clear_faults()
    runner = app.test_cli_runner()
    with app.app_context():
        for row in db.session.scalars(db.select(orcid.PendingRevocation)):
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    result = runner.invoke(args=["orcid", "deliver"])
    assert result.exit_code == 0, result.output
    assert "Revoked 2 token(s) left over from disconnections; 0 still pending." in result.output
    assert [t["status"] for t in _tokens(emulator)] == ["revoked"]


def test_host_answer_is_used_when_it_links_nobody(app, connect, monkeypatch, emulator):
    def linking_only(account, token):
        db.session.add(account)  # as a host might, before knowing there is no user
        return "please log in first"

    monkeypatch.setattr(orcid, "_signin_handler", linking_only)
    response = connect(app.test_client(), CARBERRY)
    assert response.get_data(as_text=True) == "please log in first"
    with app.app_context():
        assert orcid.get_account_by_orcid(CARBERRY_ID) is None
    assert [t["status"] for t in _tokens(emulator)] == ["revoked"]


def test_disconnect_asks_first_and_says_what_it_does(app, client, connect, make_user, login,
                                                     emulator):
    login(client, make_user(app, email=CARBERRY))
    connect(client, CARBERRY)
    page = client.get("/orcid/").get_data(as_text=True)
    # the connection page links to a confirmation, it does not disconnect in one click
    assert 'class="orcid-disconnect-link"' in page and "orcid-disconnect-form" not in page
    confirm = client.get("/orcid/disconnect/confirm").get_data(as_text=True)
    assert "Disconnect your ORCID iD?" in confirm
    assert "public pages" in confirm and "metadata" in confirm
    assert 'id="confirm-disconnect"' in confirm
    with app.app_context():
        assert orcid.get_account("1") is not None  # asking changed nothing
    response = client.post("/orcid/disconnect", data={"csrf_token": _csrf_from(confirm)})
    done = response.get_data(as_text=True)
    assert 'id="orcid-revocation-done"' in done and 'id="orcid-revocation-queued"' not in done
    assert [t["status"] for t in _tokens(emulator)] == ["revoked"]
    # without a connection the confirmation page sends you back
    assert client.get("/orcid/disconnect/confirm").status_code == 302


def _csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_orcid_down_at_connect_time_gives_our_page_not_a_browser_error(make_app, make_user,
                                                                       login, emulator):
    app = make_app(ORCID_REACHABILITY_SECONDS=60)
    client = app.test_client()
    login(client, make_user(app, email=CARBERRY))
    # ORCID answers: off to its sign-in page; the answer is cached, so a fault now is unseen
    assert client.get("/orcid/connect?next=/deposit").headers["Location"].startswith(
        f"{emulator.url}/oauth/authorize?")
    emulator.fault(method="GET", path="^/oauth/authorize$", action="status", status=503,
                   count=100)
    assert client.get("/orcid/connect?next=/deposit").status_code == 302
    # once the cached answer is gone, ORCID's 503 means our page, with a way back
    app.extensions["orcid_checks"].clear()
    response = client.get("/orcid/connect?next=/deposit")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "not answering right now" in page and "Nothing was changed" in page
    assert 'href="/deposit"' in page and 'href="/orcid/connect?next=/deposit"' in page
    emulator.clear_faults()
    app.extensions["orcid_checks"].clear()
    assert client.get("/orcid/connect?next=/deposit").status_code == 302
