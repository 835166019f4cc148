"""Finding 14: logout ends the session on the server, private files, trusted hosts only, and
an emulator that refuses cross-origin control requests and framing."""

from __future__ import annotations

import logging
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import requests
from flask import url_for

from ..plugins.example import csrf_token


def _mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_a_copied_cookie_stops_working_after_logout(make_repo, make_person):
    app = make_repo()
    student = make_person(app)
    assert student.client.get("/my").status_code == 200
    copy = app.test_client()
    copy.set_cookie("session", student.client.get_cookie("session").value)
    assert copy.get("/my").status_code == 200  # the copy works while the session lives
    page = student.client.get("/my").get_data(as_text=True)
    student.client.post("/account/logout", data={"csrf_token": csrf_token(page)})
    response = copy.get("/my")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    # logging in again gives a fresh, working session
    assert student.login().status_code == 302
    assert student.client.get("/my").status_code == 200


def test_database_and_uploads_are_private(make_repo, tmp_path):
    app = make_repo()
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    assert _mode(database) == 0o600
    assert _mode(app.config["UPLOAD_FOLDER"]) == 0o700


def test_an_unknown_host_header_is_refused(make_repo, make_person):
    app = make_repo()
    client = app.test_client()
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200
    for host in ("evil.example", "localhost.evil.example"):
        assert client.get("/", headers={"Host": host}).status_code == 400
        response = client.get("/orcid/connect", headers={"Host": host})
        assert response.status_code == 400
        assert "evil" not in response.headers.get("Location", "")


def test_a_forwarded_host_must_be_trusted_too(make_repo, make_person):
    app = make_repo(REPOSITORY_BEHIND_PROXY=True)
    student = make_person(app)
    response = student.client.get("/orcid/connect", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 400


def test_server_name_replaces_the_host_list(make_repo):
    app = make_repo(SERVER_NAME="etd.example.edu")
    assert app.config.get("TRUSTED_HOSTS") is None
    with app.test_request_context("/"):
        assert url_for("index", _external=True) == "http://etd.example.edu/"


def test_emulator_control_api_refuses_cross_origin_posts(emulator):
    before = len(emulator.tokens())
    for headers in ({"Origin": "http://127.0.0.1:5000"}, {"Origin": "https://evil.example"},
                    {"Origin": "null"}, {"Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "cross-site"}):
        response = requests.post(f"{emulator.url}/_emulator/reset", headers=headers, timeout=10)
        assert response.status_code == 403, headers
        response = requests.post(f"{emulator.url}/console/revoke/APP-DEMO000000000001",
                                 headers=headers, timeout=10, allow_redirects=False)
        assert response.status_code == 403, headers
    assert len(emulator.tokens()) == before
    # its own pages (same origin) and tools without an Origin still work
    same = requests.post(f"{emulator.url}/_emulator/reset",
                         headers={"Origin": emulator.url}, timeout=10)
    assert same.status_code == 200


def test_emulator_pages_refuse_framing(emulator):
    for path in ("/", "/signin", "/console", "/_emulator/researchers"):
        response = requests.get(f"{emulator.url}{path}", timeout=10)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_extension_warns_when_any_host_header_is_believed(make_app, caplog):
    caplog.set_level(logging.WARNING, logger="flask_orcid")
    make_app(TESTING=False)
    assert "Neither SERVER_NAME nor TRUSTED_HOSTS is set" in caplog.text
    caplog.clear()
    make_app(TESTING=False, TRUSTED_HOSTS=["theses.example.edu"])
    assert "TRUSTED_HOSTS" not in caplog.text


def test_an_older_database_gets_the_session_column(make_repo, tmp_path):
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(254), "
                    "password_hash VARCHAR(256), given_names VARCHAR(150), "
                    "family_name VARCHAR(150), is_admin BOOLEAN, locale VARCHAR(8), "
                    "created_at DATETIME)")
    make_repo(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with closing(sqlite3.connect(path)) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(users)")}
    assert "session_generation" in columns
