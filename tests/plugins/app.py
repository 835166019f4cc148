"""Application fixtures (issue 4): a small host site using the extension, and helpers that drive
the whole ORCID connect flow against the emulator.

- ``make_app(**config)``: a fresh host app (TESTING, fixed SECRET_KEY, in-memory SQLite, the
  emulator's credentials); ``app``, ``client``, ``runner`` build on it.
- ``make_user(app, **fields)`` and ``login(client, user)``: the host's own accounts.
- ``authorize(client, researcher, approve=True, next=None)``: ``/orcid/connect`` → the emulator's
  sign-in and consent forms → the callback URL (path + query) ORCID would send the browser to.
- ``connect(client, researcher, approve=True, next=None)``: the same, then ``GET`` the callback;
  returns the final response (a refused callback's explanation, shown at the bare callback URL
  it redirects to, or the success redirect).

The host app: ``User`` rows in ``test_users``; the current user is ``session["user_id"]``; a
successful ORCID sign-in with nobody signed in creates a user and logs them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, session
from flask_sqlalchemy import SQLAlchemy

from flask_orcid import ORCID, UserInfo

__all__ = ["User", "db", "orcid"]

db = SQLAlchemy()


class User(db.Model):
    __tablename__ = "test_users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255))
    given_names = db.Column(db.String(255))
    family_names = db.Column(db.String(255))
    locale = db.Column(db.String(16))


#: One extension object shared by every test app (STYLE: one extension, many apps).
orcid = ORCID(db=db)


@orcid.current_user_loader
def _current_user() -> UserInfo | None:
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        return None
    return UserInfo(
        key=str(user.id),
        given_names=user.given_names,
        family_names=user.family_names,
        email=user.email,
        locale=user.locale,
    )


@orcid.signin_handler
def _signed_in(account: Any, token: dict) -> None:
    """Link to the signed-in user; with nobody signed in, find or create one and log in."""
    if account.user_key is None:
        user = User(given_names=token.get("name"))
        db.session.add(user)
        db.session.flush()
        account.user_key = str(user.id)
    session["user_id"] = int(account.user_key)


def _base_config() -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "ORCID_ENVIRONMENT": "emulator",
        "ORCID_SUPPORT_EMAIL": "orcid-help@example.edu",
    }


@pytest.fixture
def make_app(request: pytest.FixtureRequest) -> Iterator[Callable[..., Flask]]:
    """Factory of fresh host apps. Uses the emulator's URL and credentials unless the test
    passes its own ``ORCID_*`` settings (then no emulator is started)."""
    apps: list[Flask] = []

    def factory(**config: Any) -> Flask:
        app = Flask(__name__, template_folder=None, static_folder=None)
        app.config.update(_base_config())
        if "ORCID_EMULATOR_URL" not in config or "ORCID_CLIENT_ID" not in config:
            emulator = request.getfixturevalue("emulator")
            app.config.update(
                ORCID_EMULATOR_URL=emulator.url,
                ORCID_CLIENT_ID=emulator.client_id,
                ORCID_CLIENT_SECRET=emulator.client_secret,
            )
        app.config.update(config)
        db.init_app(app)
        orcid.init_app(app)

        @app.get("/")
        def home() -> str:
            return "home"

        @app.get("/deposit")
        def deposit() -> str:
            return "deposit form"

        with app.app_context():
            db.create_all()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            state = app.extensions["orcid"]
            if state.client is not None:
                state.client.close()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_user() -> Callable[..., User]:
    def factory(app: Flask, **fields: Any) -> User:
        with app.app_context():
            user = User(**fields)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture
def login() -> Callable[[Any, User], None]:
    def do_login(client: Any, user: User | int) -> None:
        with client.session_transaction() as sess:
            sess["user_id"] = user if isinstance(user, int) else user.id

    return do_login


@pytest.fixture
def authorize(emulator: Any) -> Callable[..., str]:
    """Start a connection and go through the emulator's forms; returns the callback's
    path + query (or, when the site skipped ORCID, the redirect target)."""
    return emulator.callback_for


@pytest.fixture
def connect(emulator: Any) -> Callable[..., Any]:
    """The whole flow: connect → emulator sign-in and consent → callback; the final response
    (the plugin's ``orcid_emulator.authorize`` with a test client)."""
    return emulator.authorize
