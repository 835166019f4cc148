"""The ``ORCID`` extension object: configuration, hooks, the account store and the API client.

One ``ORCID`` object may serve several applications: everything that belongs to one app lives
in a :class:`ORCIDState` in ``app.extensions["orcid"]`` (read through :func:`get_state`), and
request data lives on ``g._orcid``. The object itself only holds the host's ``db``, the model
classes and the decorator hooks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import select

from . import config as _config
from .accounts import ACTIVE, define_models, retry_delay, utcnow
from .crypto import TokenCipher, TokenDecryptionError, cipher_from_config
from .errors import ConfigurationError, OAuthError, ORCIDError
from .outbox import OutboxMixin

if TYPE_CHECKING:
    from .client import ORCIDClient
    from .model import Record

__all__ = ["ORCID", "ORCIDState", "UserInfo", "get_state"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserInfo:
    """Who the current user of the host application is.

    :param key: a stable key for the user (their primary key as a string, say); it links the
        ORCID connection to the user and must not change.
    :param given_names, family_names, email: prefill ORCID's sign-in/registration screen.
    :param locale: the user's language (``es``, ``pt_BR``), used when the host does not run
        Flask-Babel's own locale selection.
    """

    key: str
    given_names: str | None = None
    family_names: str | None = None
    email: str | None = None
    locale: str | None = None


@dataclass
class ORCIDState:
    """Per-application state of the extension, in ``app.extensions["orcid"]``."""

    extension: ORCID
    cipher: TokenCipher
    endpoints: _config.Endpoints
    scopes: tuple[str, ...]
    key_derived_from_secret: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: ORCIDClient | None = None
    #: OpenID Connect key set, fetched once per app (re-fetched when a new ``kid`` appears)
    jwks: dict | None = None


def get_state(app: Flask | None = None) -> ORCIDState:
    """The extension's state for ``app`` (default: the current app)."""
    app = app or current_app
    try:
        return app.extensions["orcid"]
    except KeyError:
        raise ConfigurationError(
            "flask-orcid is not set up on this application: did you forget ORCID.init_app(app)?"
        ) from None


@dataclass
class _RequestData:
    user: UserInfo | None = None
    user_loaded: bool = False


def _request_data() -> _RequestData:
    data = g.get("_orcid")
    if data is None:
        data = g._orcid = _RequestData()
    return data


def parse_scopes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``ORCID_SCOPES`` (a space-separated string or a list) as a tuple, order kept."""
    if value is None:
        return ()
    items = value.split() if isinstance(value, str) else [s for v in value for s in v.split()]
    return tuple(dict.fromkeys(items))


class ORCID(OutboxMixin):
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
        self.Account: Any = None
        self.PendingRevocation: Any = None
        if db is not None:
            models = define_models(db)
            self.Account = models.Account
            self.PendingRevocation = models.PendingRevocation
            # outbox: models (tables, and row cleanup on disconnect)
            self._init_outbox()
        if app is not None:
            self.init_app(app)

    # -- setup -----------------------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Configure ``app``: defaults, checks, blueprint, CLI, Jinja globals, translations."""
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
        cipher, derived = cipher_from_config(cfg)
        if derived and not (app.debug or app.testing):
            log.warning(
                "ORCID_TOKEN_KEYS is not set: stored ORCID tokens are encrypted with a key "
                "derived from SECRET_KEY, so changing SECRET_KEY makes them unreadable. Set "
                "ORCID_TOKEN_KEYS to a Fernet key in production."
            )
        app.extensions["orcid"] = ORCIDState(
            extension=self,
            cipher=cipher,
            endpoints=endpoints,
            scopes=scopes,
            key_derived_from_secret=derived,
        )

        from . import display
        from .cli import orcid_cli
        from .views import bp, csrf_token

        self._setup_babel(app)
        display.register_jinja(app)
        app.jinja_env.globals["orcid_csrf_token"] = csrf_token
        app.register_blueprint(bp, url_prefix=cfg["ORCID_URL_PREFIX"] or None)
        if "orcid" not in app.cli.commands:
            app.cli.add_command(orcid_cli)
        # outbox: routes, CLI commands, background delivery
        self._init_outbox_app(app)
        self._register_outbox_commands(orcid_cli)

    def _setup_babel(self, app: Flask) -> None:
        """Make translated pages work whether or not the host set up Flask-Babel."""
        if "babel" in app.extensions:
            return
        from flask_babel import Babel

        Babel(app, locale_selector=self._select_locale)

    def _select_locale(self) -> str | None:
        """Locale for hosts without their own Flask-Babel: the user's, else the browser's."""
        from .i18n import LOCALES

        user = self.current_user()
        if user is not None and user.locale:
            return user.locale
        return request.accept_languages.best_match(["en", *LOCALES])

    # -- hooks -----------------------------------------------------------------------------

    def current_user_loader(self, func: Callable[[], UserInfo | None]) -> Callable:
        """Register ``func() -> UserInfo | None``: who is signed in to the host site."""
        self._current_user_loader = func
        return func

    def signin_handler(self, func: Callable[..., Any]) -> Callable:
        """Register ``func(account, token) -> Response | None``, called after a successful
        ORCID sign-in before anything is committed. It may set ``account.user_key`` (when no
        one was signed in: find or create the user and log them in) and may return a response."""
        self._signin_handler = func
        return func

    def admin_checker(self, func: Callable[[], bool]) -> Callable:
        """Register ``func() -> bool``: may the current user see the admin pages?"""
        self._admin_checker = func
        return func

    def on_account_removed(self, func: Callable[[Any], None]) -> Callable:
        """Register ``func(account)``, called in the disconnect's transaction before the
        account row is deleted, to delete everything else stored for that connection."""
        self._account_removed_hooks.append(func)
        return func

    def current_user(self, *, reload: bool = False) -> UserInfo | None:
        """The host's current user (loaded once per request through the loader hook)."""
        if not has_request_context():
            return None
        data = _request_data()
        if reload or not data.user_loaded:
            user = self._current_user_loader() if self._current_user_loader else None
            if user is not None and not isinstance(user, UserInfo):
                user = UserInfo(key=str(user))
            data.user, data.user_loaded = user, True
        return data.user

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
        """This app's ORCID API client (one per app: one keep-alive session, one rate limit)."""
        state = get_state()
        if state.client is None:
            with state.lock:
                if state.client is None:
                    from .client import ORCIDClient

                    cfg = current_app.config
                    state.client = ORCIDClient(
                        cfg["ORCID_CLIENT_ID"],
                        cfg["ORCID_CLIENT_SECRET"],
                        environment=state.endpoints.environment,
                        emulator_url=cfg.get("ORCID_EMULATOR_URL"),
                        timeout=(float(cfg["ORCID_CONNECT_TIMEOUT"]), float(cfg["ORCID_READ_TIMEOUT"])),
                        rate=float(cfg["ORCID_RATE_LIMIT"]),
                        burst=int(cfg["ORCID_RATE_BURST"]),
                        max_retries=int(cfg["ORCID_MAX_RETRIES"]),
                    )
        return state.client

    def read_record_for_prefill(self, user_key: str) -> Record | None:
        """The researcher's names, emails, educations and employments for prefilling forms
        (``/person`` plus two affiliation sections, never the whole ``/record``).

        None when the user has no connection, or ORCID cannot be read right now: prefill is a
        convenience and the form works without it (the failure is logged).
        """
        from .prefill import read_for_prefill

        account = self.get_account(user_key)
        if account is None:
            return None
        status = account.status
        try:
            record = read_for_prefill(self.api_client(), account)
        except ORCIDError as exc:
            log.warning("could not read %s for prefill: %s", account.orcid, type(exc).__name__)
            record = None
        if account.status != status:  # ORCID refused the stored token: marked invalid
            self.db.session.commit()
        return record

    # -- token revocation ------------------------------------------------------------------

    def _queue_revocations(self, tokens: Iterable[str | None], orcid: str | None) -> list[Any]:
        """Add pending-revocation rows for ``tokens`` to the session (the caller commits)."""
        rows = []
        environment = get_state().endpoints.environment
        for token in dict.fromkeys(t for t in tokens if t):
            row = self.PendingRevocation(orcid=orcid, environment=environment, attempts=0)
            row.token = token
            row.next_attempt_at = utcnow()
            self.db.session.add(row)
            rows.append(row)
        return rows

    def _attempt_revocations(self, rows: Iterable[Any]) -> tuple[int, int]:
        """Try to revoke each queued token now; commit. Returns (revoked, still pending).

        Stops at the first sign that ORCID is down (the rest stay queued, untouched), so a
        disconnect during an outage costs one failed call, not one per token.
        """
        client = self.api_client()
        rows = list(rows)
        done = 0
        for index, row in enumerate(rows):
            try:
                client.revoke(row.token)
            except OAuthError as exc:
                # RFC 7009: revoking an unknown or already-revoked token is not an error, so
                # ORCID saying the token is invalid means it is dead. Any other refusal (our
                # client credentials, say) leaves it live: keep it. (API-FACTS §2.5: exact
                # error values UNCONFIRMED, so only these two count as done.)
                if exc.error in ("invalid_token", "invalid_grant"):
                    self.db.session.delete(row)
                    done += 1
                    continue
                self._revocation_failed(row, exc.error)
            except ORCIDError as exc:
                self._revocation_failed(row, type(exc).__name__)
                self.db.session.commit()
                return done, len(rows) - index
            else:
                self.db.session.delete(row)
                done += 1
        self.db.session.commit()
        return done, len(rows) - done

    def _revocation_failed(self, row: Any, reason: str) -> None:
        row.attempts = (row.attempts or 0) + 1
        row.last_error = reason[:255]
        row.next_attempt_at = utcnow() + retry_delay(row.attempts)
        log.warning(
            "could not revoke a token of %s at ORCID (%s); retry #%d queued",
            row.orcid, reason, row.attempts,
        )

    def discard_tokens(self, tokens: Iterable[str | None], orcid: str | None) -> tuple[int, int]:
        """Revoke tokens we no longer want; what ORCID cannot take now is retried later."""
        rows = self._queue_revocations(tokens, orcid)
        self.db.session.commit()
        return self._attempt_revocations(rows)

    def retry_pending_revocations(self, *, limit: int | None = 100, due_only: bool = True) -> tuple[int, int]:
        """Retry queued revocations (``flask orcid revoke-pending``; also after disconnects).

        Returns (revoked now, still pending).
        """
        model = self.PendingRevocation
        environment = get_state().endpoints.environment
        stmt = select(model).where(model.environment == environment)
        if due_only:
            stmt = stmt.where(model.next_attempt_at <= utcnow())
        stmt = stmt.order_by(model.next_attempt_at)
        if limit:
            stmt = stmt.limit(limit)
        rows = list(self.db.session.scalars(stmt))
        if not rows:
            return 0, 0
        return self._attempt_revocations(rows)

    # -- connect / disconnect --------------------------------------------------------------

    def store_token(self, account: Any, token: dict) -> list[str]:
        """Put a token response on ``account``; returns the old tokens it replaced."""
        old = [t for t in (account.access_token, account.refresh_token) if t] if account.id else []
        account.access_token = token["access_token"]
        account.refresh_token = token.get("refresh_token")
        account.scopes = " ".join(parse_scopes(token.get("scope") or ""))
        account.name = (token.get("name") or None) and str(token["name"])[:255]
        account.environment = get_state().endpoints.environment
        account.status = ACTIVE
        expires_in = token.get("expires_in")
        try:
            account.expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
        except (TypeError, ValueError, OverflowError):
            account.expires_at = None
        new = {token.get("access_token"), token.get("refresh_token")}
        return [t for t in old if t not in new]

    def disconnect(self, user_key: str) -> str | None:
        """Disconnect the user's ORCID iD: revoke its tokens at ORCID (queued when ORCID is
        unreachable) and delete everything stored for the connection. Returns the iD, or
        None when there was no connection."""
        account = self.get_account(user_key)
        if account is None:
            return None
        orcid_id = account.orcid
        tokens = [account.access_token, account.refresh_token]
        for hook in self._account_removed_hooks:
            hook(account)
        rows = self._queue_revocations(tokens, orcid_id)
        self.db.session.delete(account)
        self.db.session.commit()
        log.info("disconnected ORCID iD %s", orcid_id)
        _done, kept = self._attempt_revocations(rows)
        if not kept:
            # ORCID answered: a good moment to retry older failures too.
            self.retry_pending_revocations(limit=10)
        return orcid_id

    # -- key rotation ----------------------------------------------------------------------

    def rotate_keys(self) -> tuple[int, int, int]:
        """Re-encrypt every stored token under the first key of ``ORCID_TOKEN_KEYS``.

        All or nothing: if one token cannot be decrypted, nothing changes. Returns
        (tokens re-encrypted, accounts, pending revocations).
        """
        cipher = get_state().cipher
        session = self.db.session
        tokens = accounts = pending = 0
        try:
            for account in session.scalars(select(self.Account)):
                accounts += 1
                for attr in ("_access_token", "_refresh_token"):
                    value = getattr(account, attr)
                    if value:
                        setattr(account, attr, cipher.rotate(value))
                        tokens += 1
            for row in session.scalars(select(self.PendingRevocation)):
                pending += 1
                row._token = cipher.rotate(row._token)
                tokens += 1
        except TokenDecryptionError:
            session.rollback()
            raise
        session.commit()
        return tokens, accounts, pending
