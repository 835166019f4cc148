"""The host application of tests/host_app/app.py, with Flask-Login and CSRFProtect, connects
an iD through the plugin's emulator (``orcid_emulator``), shows it, and disconnects: the
tokens are revoked at the emulator. Also: who the extension thinks is signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from flask_orcid import UserInfo
from tests.host_app.app import User, create_app, db, orcid

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def host(orcid_emulator) -> Iterator[Flask]:
    app = create_app(ORCID_EMULATOR_URL=orcid_emulator.url,
                     ORCID_CLIENT_ID=orcid_emulator.client_id,
                     ORCID_CLIENT_SECRET=orcid_emulator.client_secret)
    result = app.test_cli_runner().invoke(args=["orcid", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.create_all()  # the host's own tables; the orcid_* ones already exist, versioned
        db.session.add(User(email="ada@example.edu", first_name="Ada", last_name="Lovelace"))
        db.session.commit()
    yield app
    with app.app_context():
        if app.extensions["orcid"].client is not None:
            app.extensions["orcid"].client.close()
        db.engine.dispose()


def _log_in(client, email: str = "ada@example.edu"):
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", data={"csrf_token": token, "email": email})


def _disconnect(client):
    token = TOKEN.search(client.get("/orcid/disconnect/confirm").get_data(as_text=True)).group(1)
    return client.post("/orcid/disconnect", data={"csrf_token": token})


def test_a_student_connects_and_disconnects(host, orcid_emulator):
    ada = orcid_emulator.new_researcher(given_names="Ada", family_name="Lovelace",
                                        email="ada@example.edu", password="pw-ada-1")
    client = host.test_client()
    assert _log_in(client).status_code == 302
    assert "Connect your ORCID iD" in client.get("/profile").get_data(as_text=True)

    response = orcid_emulator.authorize(client, ada, next="/profile")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert ada["orcid"] in client.get("/profile").get_data(as_text=True)
    assert ada["orcid"] in client.get("/orcid/").get_data(as_text=True)
    with host.app_context():
        assert orcid.get_account("1").orcid == ada["orcid"]
    tokens = orcid_emulator.tokens(orcid=ada["orcid"], client_id=orcid_emulator.client_id)
    assert [t["status"] for t in tokens] == ["active"]

    assert client.post("/orcid/disconnect", data={"csrf_token": "forged"}).status_code == 400
    response = _disconnect(client)
    assert response.status_code == 200
    assert "What stays on your ORCID record" in response.get_data(as_text=True)
    assert "Connect your ORCID iD" in client.get("/profile").get_data(as_text=True)
    tokens = orcid_emulator.tokens(orcid=ada["orcid"], client_id=orcid_emulator.client_id)
    assert tokens and {t["status"] for t in tokens} == {"revoked"}


def test_an_anonymous_visitor_is_asked_to_sign_in(host, orcid_emulator):
    client = host.test_client()
    page = client.get("/orcid/")
    assert page.status_code == 401
    assert "Sign in to this site to see your ORCID connection." in page.get_data(as_text=True)
    connect = client.get("/orcid/connect")  # nobody: ORCID's screen is not prefilled
    query = parse_qs(urlsplit(connect.headers["Location"]).query)
    assert not {"given_names", "family_names", "email"} & set(query)


def test_the_signed_in_user_prefills_orcids_screen_from_the_named_attributes(host):
    client = host.test_client()
    _log_in(client)
    location = client.get("/orcid/connect").headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["given_names"] == ["Ada"] and query["family_names"] == ["Lovelace"]
    assert query["email"] == ["ada@example.edu"]


def test_an_attribute_set_to_none_is_not_sent(host):
    host.config["ORCID_USER_EMAIL_ATTR"] = None
    client = host.test_client()
    _log_in(client)
    query = parse_qs(urlsplit(client.get("/orcid/connect").headers["Location"]).query)
    assert "email" not in query and query["given_names"] == ["Ada"]


def test_an_explicit_loader_still_wins_over_flask_login(host, monkeypatch):
    monkeypatch.setattr(orcid, "_current_user_loader",
                        lambda: UserInfo(key="42", given_names="Loaded"))
    client = host.test_client()  # not signed in to Flask-Login: the loader decides
    query = parse_qs(urlsplit(client.get("/orcid/connect").headers["Location"]).query)
    assert query["given_names"] == ["Loaded"]
