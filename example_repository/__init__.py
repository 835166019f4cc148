"""A sample thesis (ETD) repository built on flask-orcid.

``create_app()`` is a normal Flask app factory; ``python -m example_repository.demo`` runs it
against the local ORCID emulator. See the README's integration guide for the ORCID parts.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_orcid.config import endpoints

from . import (
    admin,
    auth,
    cli,
    institution,
    mailbox,
    models,
    oai,
    orcid_check,  # noqa: F401 (registers the integration check's targets on import)
    orcid_hooks,  # noqa: F401 (registers the signin handler on import)
    public,
    student,
    throttle,
)
from . import config as repo_config
from . import db as db_module
from .orcid_setup import orcid

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def select_locale() -> str:
    """The visitor's choice (switcher), else their account's, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    user = g.get("user")
    if user is not None and user.locale in languages:
        return user.locale
    return request.accept_languages.best_match(languages) or languages[0]


def create_app(test_config: dict | None = None) -> Flask:
    """Build the repository. ``test_config`` overrides the defaults and the environment."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("REPOSITORY_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, test_config)
    # Only the site's own user may read the uploads and the database (theses under embargo,
    # password hashes, encrypted ORCID tokens).
    _private_dir(Path(app.config["UPLOAD_FOLDER"]))
    if app.config.get("TRUSTED_HOSTS") is None and not app.config.get("SERVER_NAME"):
        # Absolute URLs (the ORCID redirect URI, the landing page's metadata) are built from
        # the Host header: only hosts the site answers to are accepted (a 400 otherwise).
        app.config["TRUSTED_HOSTS"] = [
            host.strip() for host in str(app.config["REPOSITORY_TRUSTED_HOSTS"]).split(",")
            if host.strip()
        ]
    if app.config["REPOSITORY_BEHIND_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    db_module.init_app(app)
    throttle.init_app(app)

    app.config.setdefault("ORCID_SITE_NAME", app.config["REPOSITORY_NAME"])
    institution.configure(app)  # the institution of campaigns and of ORCID's search
    orcid.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(mailbox.bp)
    app.register_blueprint(student.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(oai.bp)
    app.add_url_rule("/", endpoint="index", view_func=public.index)

    cli.init_app(app)
    _template_helpers(app)
    _error_pages(app)

    app.after_request(security_headers)

    with app.app_context():
        _private_database(db_module.db.engine.url)
        db_module.create_tables()  # flask-orcid's tables through its migrations
        _private_database(db_module.db.engine.url)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    """Defaults, then the environment, then ``test_config``; then what follows from them."""
    app.config.from_mapping(repo_config.DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        f"sqlite:///{Path(app.instance_path) / 'repository.sqlite'}"
    )
    app.config["UPLOAD_FOLDER"] = str(Path(app.instance_path) / "uploads")
    app.config.from_mapping(repo_config.from_environment(os.environ))
    if test_config:
        app.config.from_mapping(test_config)
    # the CLI next to a running `make demo`: its emulator and its token key
    app.config.from_mapping(repo_config.demo_settings(app.instance_path, app.config))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = repo_config.secret_key(app.instance_path)
    # Room for the PDF plus the form fields; the PDF's own limit is checked in the form.
    # Flask defines MAX_CONTENT_LENGTH as None (no limit), so setdefault would do nothing.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = int(
            (float(app.config["REPOSITORY_MAX_PDF_MB"]) + 1) * 1024 * 1024
        )


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _private_database(url: Any) -> None:
    """A SQLite database file readable by its owner only (SQLite gives its journal files the
    database's permissions)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    database = Path(url.database)
    if not database.exists():  # created empty and private before SQLite writes to it
        database.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(database, 0o600)


#: No inline script or style (the JSON-LD block is data, which CSP does not run), no framing,
#: forms post to this site only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

#: Blueprints whose pages show a person's data (and pages of anyone signed in): never cached.
PRIVATE_BLUEPRINTS = frozenset({"auth", "student", "admin"})


def security_headers(response: Response) -> Response:
    """Headers of every response. flask-orcid's own pages already set theirs (no-referrer on
    the OAuth pages, no-store), which setdefault keeps."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    # uploaded PDFs are served as PDFs only; no page of the repository is framed elsewhere
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.blueprint in PRIVATE_BLUEPRINTS or g.get("user") is not None:
        headers.setdefault("Cache-Control", "no-store")
    return response


def _template_helpers(app: Flask) -> None:
    # Buttons that are not WTForms (log out) still carry Flask-WTF's CSRF token.
    app.jinja_env.globals["csrf_token"] = generate_csrf

    @app.context_processor
    def inject() -> dict:
        return {
            "current_locale": str(get_locale()),
            "languages": {"en": "English", "es": "Español"},
            "repository_name": app.config["REPOSITORY_NAME"],
            "institution_name": app.config["REPOSITORY_INSTITUTION_NAME"],
            "support_email": app.config["REPOSITORY_SUPPORT_EMAIL"],
            "statuses": models.STATUSES,
            # ORCID's home in the configured environment (the emulator in the demo)
            "orcid_home": endpoints(
                app.config["ORCID_ENVIRONMENT"], app.config.get("ORCID_EMULATOR_URL")
            ).registry,
        }


def _error_pages(app: Flask) -> None:
    """The site's own pages for the errors a visitor can meet, in their language."""

    def page(error: HTTPException):
        if type(error).__module__.startswith("flask_orcid"):
            return error  # flask-orcid's own explanatory pages (orcid/error.html) stay
        if isinstance(error, SecurityError):
            # a Host header outside TRUSTED_HOSTS: no URL can be built, so no page layout
            return Response(_("This site does not answer to this host name."), 400,
                            mimetype="text/plain")
        code = error.code or 500
        titles = {
            400: _("This request could not be understood"),
            403: _("Not allowed"),
            404: _("Page not found"),
            410: _("Gone"),
            413: _("File too large"),
            429: _("Too many attempts"),
        }
        messages = {
            400: _("A link may be broken, or a form may have expired. Nothing was changed. Go "
                   "back, reload the page and try again."),
            403: _("Your account cannot open this page."),
            404: _("There is nothing at this address. The thesis may not be published yet."),
            410: _("This item was withdrawn."),
            413: _("The upload is larger than %(mb)s MB. Nothing was saved; please go back and "
                   "choose a smaller PDF.", mb=f"{float(app.config['REPOSITORY_MAX_PDF_MB']):g}"),
            429: _("There were too many attempts for this account or from your network. Wait a "
                   "few minutes, then try again."),
        }
        return render_template("error.html", title=titles[code], message=messages[code]), code

    for code in (400, 403, 404, 410, 413, 429):
        app.register_error_handler(code, page)
