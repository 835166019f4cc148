"""The ``ORCID`` extension object: the composition root of the three layers.

It holds the host's ``db``, the ``orcid_*`` models and the decorator hooks; per-app state lives
in :class:`~flask_orcid.state.ORCIDState` and request data on ``g._orcid``
(:mod:`flask_orcid.state`). Every rule it applies lives in the layers below: connections and
the outbox in :mod:`flask_orcid.sync`, ORCID itself in :mod:`flask_orcid.protocol`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel
from sqlalchemy import select

from . import (
    campaign_pages,
    campaign_runner,
    delivery,
    display,
    invitations,
    pages,
    people_pages,
    permission_requests,
    review_pages,
    trust,
)
from . import config as _config
from .campaign_api import CampaignAPI
from .cli import orcid_cli
from .errors import ConfigurationError, ORCIDError
from .i18n import LOCALES
from .invitation_api import InvitationAPI
from .outbox_api import OutboxAPI
from .protocol.client import ORCIDClient
from .protocol.records import Record
from .protocol.summary import RecordSummary
from .readiness import views as readiness_views
from .safety import csrf_field_name, csrf_token
from .signals import invitation_accepted, invitation_declined, orcid_connected
from .state import ORCIDState, UserInfo, current_flask_app, get_state, request_data
from .sync import approval, connections
from .sync import outbox as ob
from .sync.budget import budget_from_config, use_wal
from .sync.clients import client_from_config
from .sync.crypto import TokenCipher, cipher_from_config
from .sync.invitations import INVITEE_KEY_PREFIX, is_invitee_key
from .sync.models import ACTIVE, Models, define_models
from .sync.record_reader import read_for_prefill
from .sync.worker import BackgroundDelivery, Deliverer
from .users import flask_login_user, uses_flask_login
from .views import bp

__all__ = ["ORCID", "ORCIDState", "UserInfo", "get_state", "parse_scopes"]

log = logging.getLogger(__name__)

parse_scopes = connections.parse_scopes


def _current_cipher() -> TokenCipher:
    return get_state().cipher


class ORCID(OutboxAPI, InvitationAPI, CampaignAPI):
    """ORCID for a Flask application.

    :param app: the application, or None to call :meth:`init_app` later (app factories).
    :param db: the host's Flask-SQLAlchemy instance; the ``orcid_*`` tables are defined on it.
    """

    def __init__(self, app: Flask | None = None, *, db: Any = None) -> None:
        self.db = db
        self._current_user_loader: Callable[[], UserInfo | None] | None = None
        self._signin_handler: Callable[..., Any] | None = None
        self._admin_checker: Callable[[], bool] | None = None
        self._account_removed_hooks: list[Callable[[Any], None]] = []
        self._describers: dict[str, Callable[..., Any]] = {}
        self._check_targets: Callable[[], Any] | None = None
        self.models: Models | None = None
        self.Account: Any = None
        self.PendingRevocation: Any = None
        if db is not None:
            self.models = define_models(db)
            self.models.set_cipher_provider(_current_cipher)
            self.Account = self.models.Account
            self.PendingRevocation = self.models.PendingRevocation
        if app is not None:
            self.init_app(app)

    # -- setup -----------------------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: defaults, checks, blueprints, CLI, Jinja globals, translations."""
        if "orcid" in app.extensions:
            raise ConfigurationError(
                "ORCID.init_app was already called on this application; call it once per app."
            )
        if self.db is None:
            raise ConfigurationError(
                "flask-orcid stores connections in your database: create the extension with "
                "ORCID(app, db=db), passing your Flask-SQLAlchemy instance."
            )
        for key, value in _config.DEFAULTS.items():
            app.config.setdefault(key, value)
        app.extensions["orcid"] = self._make_state(app)
        delivery.check_mode(app)
        approval.check_mode(app.config["ORCID_APPROVAL"])
        self._setup_babel(app)
        display.register_jinja(app)
        app.jinja_env.globals["orcid_csrf_token"] = csrf_token
        app.jinja_env.globals["orcid_csrf_field"] = csrf_field_name
        app.jinja_env.globals["orcid_outbox_items"] = self._items_for_template
        app.jinja_env.globals["orcid_review_items"] = review_pages.review_entries
        prefix = app.config["ORCID_URL_PREFIX"] or None
        app.register_blueprint(bp, url_prefix=prefix)
        app.register_blueprint(pages.bp, url_prefix=prefix)
        app.register_blueprint(review_pages.bp, url_prefix=prefix)
        app.register_blueprint(invitations.bp, url_prefix=prefix)
        app.register_blueprint(readiness_views.bp, url_prefix=prefix)
        app.register_blueprint(campaign_pages.bp, url_prefix=prefix)
        app.register_blueprint(people_pages.bp, url_prefix=prefix)
        pages.exempt_from_csrf(app)
        if "orcid" not in app.cli.commands:
            app.cli.add_command(orcid_cli)
        app.before_request(partial_first_request(app))
        orcid_connected.connect(delivery.on_connected, weak=False)
        for answered in (invitation_accepted, invitation_declined):
            answered.connect(campaign_runner.on_invitation_answered, weak=False)
        delivery.listen_commits(self.db)

    def _make_state(self, app: Flask) -> ORCIDState:
        """Check the settings and build the per-app state."""
        cfg = app.config
        missing = [k for k in ("ORCID_CLIENT_ID", "ORCID_CLIENT_SECRET") if not cfg.get(k)]
        if missing:
            raise ConfigurationError(
                f"Set {' and '.join(missing)} to the client credentials ORCID issued you "
                "(sandbox or production), or to the emulator's APP-DEMO000000000001 / "
                "demo-secret-0001 with ORCID_ENVIRONMENT='emulator'."
            )
        if not cfg.get("SECRET_KEY"):
            raise ConfigurationError(
                "flask-orcid keeps the OAuth state in the session: set SECRET_KEY."
            )
        endpoints = _config.endpoints(cfg["ORCID_ENVIRONMENT"], cfg.get("ORCID_EMULATOR_URL"))
        scopes = parse_scopes(cfg["ORCID_SCOPES"])
        if not scopes:
            raise ConfigurationError(
                "ORCID_SCOPES is empty; set it to e.g. '/authenticate /read-limited "
                "/activities/update'."
            )
        if not (cfg.get("SERVER_NAME") or cfg.get("TRUSTED_HOSTS") or app.debug or app.testing):
            log.warning(
                "Neither SERVER_NAME nor TRUSTED_HOSTS is set: the ORCID redirect URI is built "
                "from whatever Host header a request carries. Set one of them to your site's "
                "host name."
            )
        cipher, derived = cipher_from_config(cfg)
        if derived and not (app.debug or app.testing):
            log.warning(
                "ORCID_TOKEN_KEYS is not set: stored ORCID tokens are encrypted with a key "
                "derived from SECRET_KEY, so changing SECRET_KEY makes them unreadable. Set "
                "ORCID_TOKEN_KEYS to a Fernet key in production."
            )
        return ORCIDState(extension=self, cipher=cipher, endpoints=endpoints, scopes=scopes,
                          key_derived_from_secret=derived)

    def _setup_babel(self, app: Flask) -> None:
        """Make translated pages work whether or not the host set up Flask-Babel."""
        if "babel" not in app.extensions:
            Babel(app, locale_selector=self._select_locale)

    def _select_locale(self) -> str | None:
        """Locale for hosts without their own Flask-Babel: the user's, else the browser's."""
        user = self.current_user()
        if user is not None and user.locale:
            return user.locale
        return request.accept_languages.best_match(["en", *LOCALES])

    # -- hooks -----------------------------------------------------------------------------

    def current_user_loader(self, func: Callable[[], UserInfo | None]) -> Callable[[], UserInfo | None]:
        """Register ``func() -> UserInfo | None``: who is signed in to the host site.

        Hosts that use Flask-Login need none: without a loader, the signed-in user is
        Flask-Login's ``current_user`` (:mod:`flask_orcid.users`)."""
        self._current_user_loader = func
        return func

    def signin_handler(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Register ``func(account, token) -> Response | None``, called after a successful
        ORCID sign-in before anything is committed. It may set ``account.user_key`` (when no
        one was signed in: find or create the user and log them in) and may return a response."""
        self._signin_handler = func
        return func

    def admin_checker(self, func: Callable[[], bool]) -> Callable[[], bool]:
        """Register ``func() -> bool``: may the current user see the admin pages?"""
        self._admin_checker = func
        return func

    def user_describer(self, func: Callable[[str], Any]) -> Callable[[str], Any]:
        """Register ``func(user_key) -> (name, url) | None``: how the admin page names a user
        (and where it links), instead of showing the bare key."""
        self._describers["user"] = func
        return func

    def item_describer(self, func: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
        """Register ``func(user_key, key) -> (title, url) | None``: how the admin page names
        an item (a thesis title with a link to it), instead of showing the bare key."""
        self._describers["item"] = func
        return func

    def describe(self, what: str, *args: str) -> tuple[str, str | None] | None:
        """The host's (label, url) for a user or an item, or None (no describer, or it failed)."""
        func = self._describers.get(what)
        if func is None:
            return None
        try:
            answer = func(*args)
        except Exception:  # noqa: BLE001 - a host's helper must not break the admin page
            log.exception("the %s describer failed for %r", what, args)
            return None
        if not answer:
            return None
        label, url = answer
        return str(label), (str(url) if url else None)

    def check_targets(self, func: Callable[[], Any]) -> Callable[[], Any]:
        """Register ``func() -> CheckTargets``: the test account and the pages the integration
        check (``flask orcid check``, the admin page) uses. Called inside a request context
        of the site, so ``url_for`` works (:mod:`flask_orcid.readiness`)."""
        self._check_targets = func
        return func

    def on_account_removed(self, func: Callable[[Any], None]) -> Callable[[Any], None]:
        """Register ``func(account)``, called in the disconnect's transaction before the
        account row is deleted, to delete everything else stored for that connection. It runs
        before the extension forgets the outbox, so :meth:`item_state` still says what is on
        the record (the site can remember it: the items stay there after a disconnect)."""
        self._account_removed_hooks.append(func)
        return func

    def current_user(self, *, reload: bool = False) -> UserInfo | None:
        """The host's current user (loaded once per request through the loader hook)."""
        if not has_request_context():
            return None
        data = request_data()
        if reload or not data.user_loaded:
            user = self._load_user()
            if user is not None and not isinstance(user, UserInfo):
                user = UserInfo(key=str(user))
            if user is not None and is_invitee_key(user.key):
                # an invitee's connection lives under such keys: a host user must not share one
                raise ConfigurationError(
                    f"User keys starting with {INVITEE_KEY_PREFIX!r} are reserved for "
                    "invitees' connections; give the user another key.")
            data.user, data.user_loaded = user, True
        return data.user

    def _load_user(self) -> UserInfo | str | None:
        """The registered loader's answer; without one, Flask-Login's ``current_user``."""
        if self._current_user_loader is not None:
            return self._current_user_loader()
        if uses_flask_login(current_flask_app()):
            return flask_login_user()
        return None

    def is_admin(self) -> bool:
        return bool(self._admin_checker and self._admin_checker())

    # -- accounts --------------------------------------------------------------------------

    def get_account(self, user_key: str) -> Any:
        """The ORCID connection of the user ``user_key``, or None."""
        stmt = select(self.Account).where(self.Account.user_key == str(user_key))
        return self.db.session.scalars(stmt.order_by(self.Account.id)).first()

    def get_account_by_orcid(self, orcid_id: str) -> Any:
        stmt = select(self.Account).where(self.Account.orcid == orcid_id)
        return self.db.session.scalars(stmt).first()

    def has_full_connection(self, account: Any) -> bool:
        """An active connection in this environment holding every configured scope."""
        state = get_state()
        return bool(
            account is not None
            and account.status == ACTIVE
            and account.environment == state.endpoints.environment
            and account.has_scopes(*state.scopes)
        )

    # -- the API client --------------------------------------------------------------------

    def api_client(self) -> ORCIDClient:
        """This app's ORCID API client (one per app: one keep-alive session). Its requests
        draw from the rate budget every process of the client id shares (``ORCID_RATE_BUDGET``)."""
        state = get_state()
        if state.client is None:
            with state.lock:
                if state.client is None:
                    budget = budget_from_config(current_app.config, self.db.engine,
                                                self.db.metadata)
                    state.client = client_from_config(current_app.config, rate_limiter=budget)
        return state.client

    def read_record_for_prefill(self, user_key: str) -> Record | None:
        """The researcher's names, emails, educations and employments for prefilling forms
        (``/person`` plus two affiliation sections, never the whole ``/record``).

        None when the user has no connection, or ORCID cannot be read right now: prefill is a
        convenience and the form works without it (the failure is logged).
        """
        account = self.get_account(user_key)
        if account is None:
            return None

        def rejected(token: str) -> None:
            connections.token_rejected(self.db.session, self._models(), account.user_key, token)

        try:
            return read_for_prefill(self.api_client(), account, on_token_rejected=rejected,
                                    with_summary=bool(self.institution_domains()))
        except ORCIDError as exc:
            log.warning("could not read %s for prefill: %s", account.orcid, type(exc).__name__)
            return None

    def institution_domains(self) -> tuple[str, ...]:
        """``ORCID_INSTITUTION_DOMAINS`` as a tuple (a list or a space/comma-separated string)."""
        raw = current_app.config.get("ORCID_INSTITUTION_DOMAINS") or ()
        if isinstance(raw, str):
            raw = raw.replace(",", " ").split()
        return tuple(str(d).strip().lower().lstrip("@") for d in raw if str(d).strip())

    def trust_markers(self, user_key: str) -> RecordSummary | None:
        """ORCID's record summary of ``user_key``'s connection (verified email domains,
        validated counts) for staff; None without a connection or when ORCID cannot tell."""
        return trust.trust_markers(self, user_key)

    def request_permission(self, orcid_id: str, **options: Any) -> Any:
        """Put a permission request in ``orcid_id``'s ORCID inbox
        (:func:`flask_orcid.permission_requests.request_permission`)."""
        return permission_requests.request_permission(orcid_id, **options)

    # -- connections -----------------------------------------------------------------------

    def _models(self) -> Models:
        if self.models is None:
            raise ConfigurationError("create the extension with ORCID(app, db=db).")
        return self.models

    def store_token(self, account: Any, token: dict[str, Any]) -> list[str]:
        """Put a token response on ``account``; returns the old tokens it replaced."""
        return connections.store_token(account, token, get_state().endpoints.environment)

    def queue_revocations(self, tokens: Iterable[str | None], orcid: str | None) -> list[Any]:
        """Add pending-revocation rows for ``tokens`` to the session (the caller commits)."""
        return connections.queue_revocations(self.db.session, self._models(), tokens, orcid,
                                             get_state().endpoints.environment)

    def attempt_revocations(self, rows: Iterable[Any]) -> tuple[int, int]:
        """Try to revoke each queued token now; commit. Returns (revoked, still pending)."""
        return connections.attempt_revocations(self.db.session, self.api_client(), rows)

    def discard_tokens(self, tokens: Iterable[str | None], orcid: str | None) -> tuple[int, int]:
        """Revoke tokens we no longer want; what ORCID cannot take now is retried later."""
        rows = self.queue_revocations(tokens, orcid)
        self.db.session.commit()
        return self.attempt_revocations(rows)

    def retry_pending_revocations(self, *, limit: int | None = 100,
                                  due_only: bool = True) -> tuple[int, int]:
        """Retry queued revocations (``flask orcid revoke-pending``; also after disconnects).

        Returns (revoked now, still pending).
        """
        return connections.retry_pending_revocations(
            self.db.session, self._models(), self.api_client(),
            get_state().endpoints.environment, limit=limit, due_only=due_only)

    def disconnect(self, user_key: str) -> str | None:
        """Disconnect the user's ORCID iD: revoke its tokens at ORCID (queued when ORCID is
        unreachable) and delete everything stored for the connection. Returns the iD, or
        None when there was no connection."""
        account = self.get_account(user_key)
        if account is None:
            return None
        return connections.disconnect(
            self.db.session, self._models(), self.api_client(), account,
            get_state().endpoints.environment,
            before_delete=[*self._account_removed_hooks, self._forget_outbox])

    def rotate_keys(self) -> tuple[int, int, int]:
        """Re-encrypt every stored token under the first key of ``ORCID_TOKEN_KEYS``.

        All or nothing: if one token cannot be decrypted, nothing changes. Returns
        (tokens re-encrypted, accounts, pending revocations).
        """
        return connections.rotate_keys(self.db.session, self._models(), get_state().cipher)

    def _forget_outbox(self, account: Any) -> None:
        ob.forget_user(self.db.session, self._models(), account.user_key, account.orcid)

    def _items_for_template(self, user_key: str) -> list[Any]:
        items: list[Any] = pages.items_context(self, user_key)["items"]
        return items

    # -- delivery --------------------------------------------------------------------------

    def deliverer(self, app: Flask | None = None, **kwargs: Any) -> Deliverer:
        """A :class:`~flask_orcid.sync.worker.Deliverer` for ``app`` (default: the current one)."""
        return delivery.deliverer_for(app or current_flask_app(), **kwargs)

    def start_delivery(self, app: Flask | None = None,
                       interval: float | None = None) -> BackgroundDelivery:
        """Start the in-process background deliverer for ``app`` (idempotent)."""
        return delivery.start(app or current_flask_app(), interval)

    def stop_delivery(self, app: Flask | None = None) -> None:
        delivery.stop(app or current_flask_app())

    def wake_delivery(self) -> None:
        """Ask the background deliverer (if running) for a pass now."""
        delivery.wake()


def partial_first_request(app: Flask) -> Callable[[], None]:
    """A ``before_request`` hook doing the setup that must wait for the first request: the
    CSRF exemption when CSRFProtect was set up after ORCID, a SQLite outbox in WAL mode, and
    starting the background deliverer (not at import, not in CLI commands)."""

    def first_request() -> None:
        state = get_state(app)
        if not state.started:
            state.started = True
            pages.exempt_from_csrf(app)
            use_wal(state.extension.db.engine)
            if app.config.get("ORCID_DELIVERY") == "thread":
                delivery.start(app)

    return first_request
