"""A local ORCID registry for development, tests, CI and the demo.

``create_app(config)`` builds a Flask app that behaves like ORCID on the wire: registry pages
(sign-in, registration, consent, a researcher console), OAuth and OpenID Connect, the v3.0
member/public API in XML and JSON with ORCID's rules and error codes, webhooks, the rate limit
and scripted faults. Inspection and control endpoints live under ``/_emulator/``.

It deliberately shares no parsing or validation code with the extension, so a mistake on one
side cannot hide the same mistake on the other.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.exceptions import HTTPException

from . import (
    api,
    authorize,
    control,
    faults,
    inbox,
    notifications,
    public_page,
    record_status,
    search,
    summary,
    tokens,
    webhooks,
)
from .formats import error_response
from .i18n import current_lang, translate
from .runtime import Emulator, csrf_token
from .seed import ORGS, seed
from .state import EmulatorState

__all__ = ["create_app", "DEFAULT_CONFIG"]

DEFAULT_CONFIG: dict[str, Any] = {
    #: SQLite file for the state snapshot; None keeps everything in memory
    "EMULATOR_DB": None,
    "EMULATOR_RATE": 24.0,
    "EMULATOR_BURST": 40,
    "EMULATOR_LATENCY_MS": 0,
    #: seconds before a webhook callback is sent (0 = at once, in a background thread)
    "EMULATOR_WEBHOOK_DELAY": 0.0,
    #: base of the linear retry delay after a failed callback (ORCID: 10 minutes x failures)
    "EMULATOR_WEBHOOK_RETRY_DELAY": 1.0,
    "EMULATOR_WEBHOOK_MAX_ATTEMPTS": 5,
    #: callable returning the current time (tests inject one to expire codes without sleeping)
    "EMULATOR_CLOCK": None,
    #: issuer / base URL used in id_tokens and discovery; default: the request's host URL
    "EMULATOR_ISSUER": None,
    #: seed the demo client and researchers on an empty state
    "EMULATOR_SEED": True,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the emulator app. ``config`` overrides :data:`DEFAULT_CONFIG` and Flask keys."""
    app = Flask(__name__)
    _configure(app, config)
    em = Emulator(_load_state(app), app.config)
    app.extensions["orcid_emulator"] = em
    dispatcher = webhooks.Dispatcher(app, em)
    em.webhooks = dispatcher
    em.state.listeners.append(dispatcher.notify)
    _install_templates(app)
    faults.install(app)
    app.register_blueprint(authorize.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(control.console_bp)
    app.register_blueprint(record_status.bp)
    app.register_blueprint(public_page.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(summary.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    _install_errors(app)
    app.add_url_rule("/", "index", _index)
    app.after_request(_no_framing)
    return app


def _no_framing(response: Response) -> Response:
    """ORCID's sign-in and consent screens are never shown inside another site's frame
    (clickjacking the "Authorize" button)."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _configure(app: Flask, config: dict[str, Any] | None) -> None:
    app.config.update(DEFAULT_CONFIG)
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        # Cookies are per host, not per port: a distinct name keeps the emulator's session
        # apart from a site running on another port of 127.0.0.1.
        SESSION_COOKIE_NAME="orcid_emulator_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    app.json.sort_keys = False  # type: ignore[attr-defined]


def _load_state(app: Flask) -> EmulatorState:
    """The persisted state, else the seed (unless ``EMULATOR_SEED`` is off)."""
    clock = app.config.get("EMULATOR_CLOCK") or time.time
    state = EmulatorState(clock=lambda: (app.config.get("EMULATOR_CLOCK") or clock)(),
                          db_path=app.config.get("EMULATOR_DB"))
    if not state.load() and app.config.get("EMULATOR_SEED", True):
        seed(state)
        state.save()
    elif not state.orgs:
        state.orgs = dict(ORGS)
    return state


def _lang_query(lang: str) -> str:
    args = request.args.to_dict()
    args["lang"] = lang
    return urlencode(args)


def _register_query(next_query: str, email: str) -> str:
    return urlencode({"next_query": next_query, "email": email})


def _install_templates(app: Flask) -> None:
    app.jinja_env.globals.update(
        t=translate, lang=current_lang, csrf_token=csrf_token, lang_query=_lang_query,
        register_query=_register_query,
    )


def _install_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if request.path.startswith("/_emulator/"):
            return jsonify({"error": exc.name, "description": exc.description}), status
        if faults.is_api_path(request.path):
            return error_response(status, 9001 if status < 500 else 9008, str(exc.description))
        if exc.description == "csrf":
            return authorize.error_page("invalid_request", translate("csrf_failed"), 400)
        return authorize.error_page(exc.name, str(exc.description), status)


def _index() -> Any:
    return redirect("/signin", code=302)
