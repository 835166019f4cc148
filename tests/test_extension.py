"""The extension object: configuration, per-app state, hooks, translations, two apps."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy

import flask_orcid
from flask_orcid import ORCID, ConfigurationError, UserInfo
from flask_orcid.config import DEFAULTS
from flask_orcid.extension import get_state

from .plugins.app import db, orcid

OFFLINE = {
    "ORCID_EMULATOR_URL": "http://127.0.0.1:9",
    "ORCID_CLIENT_ID": "APP-OFFLINE00000001",
    "ORCID_CLIENT_SECRET": "offline-secret",
}


def _bare_app(**config) -> Flask:
    app = Flask(__name__, template_folder=None, static_folder=None)
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI="sqlite://", TESTING=True)
    app.config.update(config)
    return app


def test_public_api_is_exported():
    for name in ("ORCID", "UserInfo", "orcid_connected", "orcid_disconnected", "orcid_denied"):
        assert name in flask_orcid.__all__
        assert getattr(flask_orcid, name) is not None


def test_missing_credentials_fail_at_init_app_naming_what_to_set():
    ext = ORCID(db=SQLAlchemy())
    with pytest.raises(ConfigurationError, match="ORCID_CLIENT_ID and ORCID_CLIENT_SECRET"):
        ext.init_app(_bare_app())
    with pytest.raises(ConfigurationError, match="Set ORCID_CLIENT_SECRET"):
        ext.init_app(_bare_app(ORCID_CLIENT_ID="APP-1"))


def test_init_app_needs_a_db_and_a_secret_key():
    with pytest.raises(ConfigurationError, match=r"ORCID\(app, db=db\)"):
        ORCID().init_app(_bare_app(**OFFLINE))
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        ORCID(db=SQLAlchemy()).init_app(_bare_app(SECRET_KEY=None, **OFFLINE))


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigurationError, match="ORCID_ENVIRONMENT"):
        ORCID(db=SQLAlchemy()).init_app(_bare_app(ORCID_ENVIRONMENT="staging", **OFFLINE))


def test_empty_scopes_are_refused():
    with pytest.raises(ConfigurationError, match="ORCID_SCOPES"):
        ORCID(db=SQLAlchemy()).init_app(_bare_app(ORCID_SCOPES="  ", **OFFLINE))


def test_init_app_refuses_to_run_twice(make_app):
    app = make_app(**OFFLINE)
    with pytest.raises(ConfigurationError, match="already called"):
        orcid.init_app(app)


def test_defaults_are_applied_without_overriding_the_host(make_app):
    app = make_app(ORCID_URL_PREFIX="/id", ORCID_RATE_LIMIT=5.0, **OFFLINE)
    assert set(DEFAULTS) <= set(app.config)
    assert app.config["ORCID_RATE_LIMIT"] == 5.0
    assert app.config["ORCID_SCOPES"] == "/authenticate /read-limited /activities/update"
    assert app.test_client().get("/id/connect").status_code == 302
    assert app.test_client().get("/orcid/connect").status_code == 404


def test_state_accessor_says_what_was_forgotten():
    app = _bare_app()
    with app.app_context(), pytest.raises(ConfigurationError, match=r"ORCID.init_app"):
        get_state()


def test_one_extension_serves_two_apps_with_separate_state(make_app, make_user, login):
    first = make_app(ORCID_SCOPES="/authenticate", **OFFLINE)
    second = make_app(
        ORCID_ENVIRONMENT="sandbox",
        ORCID_CLIENT_ID="APP-SECOND000000002",
        ORCID_CLIENT_SECRET="second",
        ORCID_EMULATOR_URL="http://127.0.0.1:9",
    )
    assert get_state(first).extension is get_state(second).extension is orcid
    assert get_state(first).scopes == ("/authenticate",)
    assert get_state(second).endpoints.environment == "sandbox"
    assert not hasattr(orcid, "app")

    c1, c2 = first.test_client(), second.test_client()
    loc1 = c1.get("/orcid/connect").headers["Location"]
    loc2 = c2.get("/orcid/connect").headers["Location"]
    assert loc1.startswith("http://127.0.0.1:9/oauth/authorize?client_id=APP-OFFLINE00000001")
    assert loc2.startswith("https://sandbox.orcid.org/oauth/authorize?client_id=APP-SECOND000000002")

    # each app has its own database and its own API client
    with first.app_context():
        client1 = orcid.api_client()
        assert orcid.api_client() is client1
    with second.app_context():
        assert orcid.api_client() is not client1
        assert orcid.get_account("1") is None


def test_hooks_return_the_function_and_a_plain_key_is_accepted(make_app):
    ext = ORCID(db=db)

    def loader():
        return 42

    assert ext.current_user_loader(loader) is loader
    assert ext.signin_handler(loader) is loader
    assert ext.admin_checker(loader) is loader
    assert ext.on_account_removed(loader) is loader
    app = make_app(**OFFLINE)
    with app.test_request_context():
        assert ext.current_user() == UserInfo(key="42")
        assert ext.is_admin() is True


def test_models_are_defined_once_per_db():
    assert ORCID(db=db).Account is orcid.Account
    assert orcid.Account.__tablename__ == "orcid_accounts"
    assert orcid.PendingRevocation.__tablename__ == "orcid_pending_revocations"
    other = ORCID(db=SQLAlchemy())
    assert other.Account is not orcid.Account


def test_derived_key_warns_outside_testing(caplog):
    app = _bare_app(TESTING=False, **OFFLINE)
    with caplog.at_level(logging.WARNING, logger="flask_orcid.extension"):
        ORCID(db=SQLAlchemy()).init_app(app)
    assert "ORCID_TOKEN_KEYS is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_orcid.extension"):
        ORCID(db=SQLAlchemy()).init_app(_bare_app(**OFFLINE))
    assert "ORCID_TOKEN_KEYS" not in caplog.text


def test_bad_token_key_names_the_setting():
    with pytest.raises(ConfigurationError, match="ORCID_TOKEN_KEYS entry 1 is not a Fernet key"):
        ORCID(db=SQLAlchemy()).init_app(_bare_app(ORCID_TOKEN_KEYS="not-a-key", **OFFLINE))


def test_pages_are_spanish_without_host_babel(make_app, make_user, login):
    app = make_app(**OFFLINE)
    assert "babel" in app.extensions  # the extension set Flask-Babel up itself
    client = app.test_client()
    login(client, make_user(app, email="m@example.edu"))
    page = client.get("/orcid/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="es">' in page.get_data(as_text=True)
    assert "Conecte su iD de ORCID" in page.get_data(as_text=True)
    # the user's own locale is used for ORCID's screen language
    user = make_user(app, email="p@example.edu", locale="pt_BR")
    login(client, user)
    location = client.get("/orcid/connect").headers["Location"]
    assert "lang=pt" in location


def test_host_babel_locale_selector_wins(make_app, make_user, login):
    def configure(app: Flask) -> None:
        Babel(app, locale_selector=lambda: "zh_Hant_TW")

    app = Flask(__name__, template_folder=None, static_folder=None)
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI="sqlite://", TESTING=True, **OFFLINE)
    configure(app)
    host_db = SQLAlchemy()
    host_db.init_app(app)
    ext = ORCID(db=host_db)
    ext.init_app(app)
    with app.app_context():
        host_db.create_all()  # /connect records its state in orcid_oauth_states
    location = app.test_client().get("/orcid/connect").headers["Location"]
    assert "lang=zh_TW" in location
