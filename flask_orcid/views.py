"""The ``orcid`` blueprint: connect, callback, disconnect, and the researcher's connection page.

Security notes:
- ``state`` is random, single-use, kept in the (signed) session with a timestamp and the user it
  was issued to; several flows may be in flight at once (bounded).
- ``next`` is followed only when it is a same-site relative path.
- disconnect is a POST carrying a per-session CSRF token.
- tokens and authorization codes never reach a page or a log line.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from authlib.common.security import generate_token
from babel import Locale
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import (
    BadGateway,
    BadRequest,
    Conflict,
    HTTPException,
    ServiceUnavailable,
    Unauthorized,
)

from .errors import (
    APIError,
    OAuthError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .extension import get_state
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .signals import orcid_connected, orcid_denied, orcid_disconnected

__all__ = [
    "AlreadyLinkedError",
    "CSRFError",
    "ORCIDPageError",
    "ORCIDRefusedError",
    "ORCIDUnavailableError",
    "SignInRequiredError",
    "StateError",
    "bp",
    "csrf_token",
    "orcid_lang",
    "safe_next",
]

log = logging.getLogger(__name__)

bp = Blueprint(
    "orcid",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_STATES = "_orcid_states"
_CSRF = "_orcid_csrf"
#: how many sign-ins may be in flight in one browser (tabs); the oldest is dropped beyond
MAX_STATES = 5

#: ORCID's screen languages (API-FACTS §2.1 ``lang``)
ORCID_LANGUAGES = frozenset(
    "ar cs en es fr de it ja ko pl pt ru tr zh_CN zh_TW".split()
)

#: What each scope lets this site do, in plain words (API-FACTS §3).
SCOPE_DESCRIPTIONS = {
    "/authenticate": _l("Know your ORCID iD, so we can show it as verified."),
    "openid": _l("Know your ORCID iD, so we can show it as verified."),
    "/read-limited": _l(
        "Read the information on your record that you have shared with trusted parties "
        "(such as names, emails and affiliations), to fill in forms for you."
    ),
    "/activities/update": _l(
        "Add works (such as your thesis) and affiliations (such as your degree) to your "
        "record, and keep the ones we added up to date."
    ),
    "/person/update": _l(
        "Add other names, keywords, websites and identifiers to your record."
    ),
    "/read-public": _l("Read the public information on your record."),
}


# -- errors rendered as pages ----------------------------------------------------------------

class ORCIDPageError(HTTPException):
    """An HTTP error the blueprint renders as an explanatory page (``orcid/error.html``).

    Sites restyle these with ``app.errorhandler(StateError)`` etc., or override the template.
    """

    template = "orcid/error.html"
    title: Any = _l("Something went wrong")

    def __init__(
        self,
        message: Any = None,
        *,
        title: Any = None,
        next_url: str | None = None,
        retry: bool = True,
        detail: str | None = None,
    ) -> None:
        super().__init__(description=str(message) if message is not None else None)
        if title is not None:
            self.title = title
        self.next_url = next_url
        self.retry = retry
        self.detail = detail

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        retry_url = None
        if self.retry:
            retry_url = url_for("orcid.connect", next=self.next_url) if self.next_url else url_for(
                "orcid.connect"
            )
        body = render_template(
            self.template,
            error=self,
            title=str(self.title),
            message=self.description,
            detail=self.detail,
            retry_url=retry_url,
            next_url=self.next_url,
            support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"),
        )
        return Response(body, self.code, mimetype="text/html")


class StateError(ORCIDPageError, BadRequest):
    """The callback's ``state`` is missing, unknown, already used or expired."""

    title = _l("This ORCID sign-in could not be completed")


class CSRFError(ORCIDPageError, BadRequest):
    """A form arrived without this session's CSRF token."""

    title = _l("The form has expired")


class ORCIDRefusedError(ORCIDPageError, BadRequest):
    """ORCID answered the sign-in with an error (other than the researcher's denial)."""

    title = _l("ORCID could not complete the sign-in")


class AlreadyLinkedError(ORCIDPageError, Conflict):
    """The iD is linked to another user here, or this user is linked to another iD."""

    title = _l("This ORCID iD cannot be connected")


class ORCIDUnavailableError(ORCIDPageError, ServiceUnavailable):
    """ORCID could not be reached; nothing was stored."""

    title = _l("ORCID is not responding")


class ORCIDBadResponseError(ORCIDPageError, BadGateway):
    """ORCID answered something we could not use."""

    title = _l("ORCID sent an unexpected answer")


class SignInRequiredError(ORCIDPageError, Unauthorized):
    """The page needs a user signed in to the host site."""

    title = _l("Please sign in first")

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        response = super().get_response(environ, scope)
        response.www_authenticate.type = "session"  # an Unauthorized needs the header set
        return response


# -- helpers ---------------------------------------------------------------------------------

def _ext():
    return get_state().extension


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a same-site relative path (``/deposit?x=1``), else None.

    Refuses absolute and scheme-relative URLs (``https://evil``, ``//evil``), other schemes
    (``javascript:``), backslashes (browsers read ``/\\evil`` as ``//evil``) and control
    characters (browsers strip tabs and newlines before parsing).
    """
    if not value or not isinstance(value, str) or len(value) > 2048:
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _default_next() -> str:
    return url_for("orcid.connection")


def orcid_lang(locale: Locale | str | None) -> str | None:
    """The ``lang`` value ORCID understands for ``locale``, or None when ORCID lacks it."""
    if locale is None:
        return None
    if isinstance(locale, str):
        try:
            locale = Locale.parse(locale.replace("-", "_"))
        except (ValueError, TypeError):
            return None
    language = locale.language
    if language == "zh":
        traditional = locale.script == "Hant" or locale.territory in ("TW", "HK", "MO")
        return "zh_TW" if traditional else "zh_CN"
    return language if language in ORCID_LANGUAGES else None


def csrf_token() -> str:
    """This session's CSRF token for the blueprint's forms (Jinja global ``orcid_csrf_token``)."""
    token = session.get(_CSRF)
    if not token:
        token = session[_CSRF] = generate_token(40)
    return token


def _check_csrf() -> None:
    expected = session.get(_CSRF)
    sent = request.form.get("csrf_token", "")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(
        expected.encode(), sent.encode()
    ):
        raise CSRFError(
            _("The form did not come from this site's page, or your session has ended. "
              "Nothing was changed. Reload the page and try again."),
            retry=False,
        )


def _remember_state(state: str, next_url: str, user_key: str | None, nonce: str | None) -> None:
    states = dict(session.get(_STATES) or {})
    states[state] = {"t": time.time(), "next": next_url, "user": user_key, "nonce": nonce}
    if len(states) > MAX_STATES:
        for old in sorted(states, key=lambda s: states[s]["t"])[: len(states) - MAX_STATES]:
            del states[old]
    session[_STATES] = states


def _take_state(state: str | None) -> dict | None:
    """Remove ``state`` from the session and return its entry; None when unknown.

    Raises StateError when it is known but expired.
    """
    if not state or not isinstance(state, str):
        return None
    states = dict(session.get(_STATES) or {})
    entry = states.pop(state, None)
    session[_STATES] = states
    if entry is None:
        return None
    max_age = int(current_app.config["ORCID_STATE_MAX_AGE"])
    if time.time() - entry.get("t", 0) > max_age:
        raise StateError(
            _("You took longer than %(minutes)d minutes to come back from ORCID, so this "
              "sign-in has expired. Nothing was stored. Please start again.",
              minutes=max(max_age // 60, 1)),
            next_url=safe_next(entry.get("next")),
        )
    return entry


# -- views -----------------------------------------------------------------------------------

@bp.get("/connect")
def connect() -> Response:
    """Send the browser to ORCID's authorize screen (or straight on, if already connected)."""
    ext = _ext()
    state_ = get_state()
    cfg = current_app.config
    next_url = safe_next(request.args.get("next")) or _default_next()
    user = ext.current_user()
    account = ext.get_account(user.key) if user else None
    if ext.has_full_connection(account):
        # ORCID: reuse the tokens you hold instead of asking again (API-FACTS §11).
        return redirect(next_url)

    scopes = state_.scopes
    state = generate_token(40)
    nonce = generate_token(40) if "openid" in scopes else None
    _remember_state(state, next_url, user.key if user else None, nonce)
    params: dict[str, str] = {
        "client_id": cfg["ORCID_CLIENT_ID"],
        "response_type": "code",
        "scope": " ".join(scopes),
        "redirect_uri": url_for("orcid.callback", _external=True),
        "state": state,
    }
    if user is not None:
        if user.given_names:
            params["given_names"] = user.given_names
        if user.family_names:
            params["family_names"] = user.family_names
        if user.email:
            params["email"] = user.email
    if account is not None:
        params["orcid"] = account.orcid
    lang = orcid_lang(get_locale())
    if lang:
        params["lang"] = lang
    if nonce:
        params["nonce"] = nonce
    # ORCID's examples encode the scope's spaces as %20 (API-FACTS §2.1).
    return redirect(f"{state_.endpoints.authorize_url}?{urlencode(params, quote_via=quote)}")


@bp.get("/callback")
def callback() -> Any:
    """ORCID's redirect back: denial, error, or a code to exchange for tokens."""
    ext = _ext()
    error = request.args.get("error")
    if error:
        # Nothing gets stored on an error, so a missing state is harmless here (whether ORCID
        # echoes state on a denial is UNCONFIRMED, API-FACTS §2.2): still explain the error.
        try:
            entry = _take_state(request.args.get("state"))
        except StateError:
            entry = None
        next_url = safe_next(entry["next"]) if entry else None
        description = (request.args.get("error_description") or "")[:500]
        user = ext.current_user()
        if error == "access_denied":
            orcid_denied.send(
                current_app._get_current_object(),
                user_key=user.key if user else None,
                error_description=description or None,
            )
            log.info("researcher denied ORCID access")
            return render_template(
                "orcid/denied.html",
                retry_url=url_for("orcid.connect", next=next_url) if next_url else url_for(
                    "orcid.connect"
                ),
                continue_url=next_url or _default_next(),
                scopes=_scope_descriptions(get_state().scopes),
                support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"),
            )
        log.warning("ORCID returned an error to the callback: %s", error[:100])
        raise ORCIDRefusedError(
            _("ORCID answered: %(error)s.", error=error[:100]),
            detail=description or None,
            next_url=next_url,
        )

    state = request.args.get("state")
    if not state:
        raise StateError(
            _("The answer from ORCID did not say which sign-in it belongs to, so it cannot "
              "be trusted. Nothing was stored. Please start again."),
        )
    entry = _take_state(state)
    if entry is None:
        raise StateError(
            _("This answer from ORCID does not match a sign-in started in this browser, or it "
              "was already used. Nothing was stored. Please start again."),
        )
    next_url = safe_next(entry.get("next")) or _default_next()
    user = ext.current_user()
    if (user.key if user else None) != entry.get("user"):
        raise StateError(
            _("You signed in or out of this site while visiting ORCID. Nothing was stored. "
              "Please start again."),
            next_url=next_url,
        )
    code = request.args.get("code")
    if not code:
        raise ORCIDRefusedError(
            _("ORCID sent no authorization code. Nothing was stored. Please try again."),
            next_url=next_url,
        )
    token = _exchange(code, next_url)
    orcid_id = _checked_orcid(token, next_url)
    if "openid" in get_state().scopes:
        _verify_openid(token, entry.get("nonce"), orcid_id, next_url)
    return _complete_signin(token, orcid_id, user, next_url)


def _exchange(code: str, next_url: str) -> dict:
    """The one server-side call of a sign-in: code → tokens (API-FACTS §2.3)."""
    redirect_uri = url_for("orcid.callback", _external=True)
    try:
        return _ext().api_client().exchange_code(code, redirect_uri)
    except OAuthError as exc:
        # The description may quote the code back ("Invalid authorization code: …"): never shown.
        log.warning("ORCID refused the authorization code: %s", exc.error)
        raise ORCIDRefusedError(
            _("ORCID did not accept this sign-in: the link may have been used already or have "
              "expired. Nothing was stored. Please try again."),
            next_url=next_url,
        ) from None
    except (TransportError, ServerError, RateLimitedError) as exc:
        log.warning("ORCID unreachable during the token exchange: %s", type(exc).__name__)
        raise ORCIDUnavailableError(
            _("We could not reach ORCID to complete your sign-in. Nothing was stored. Please "
              "try again in a few minutes."),
            next_url=next_url,
        ) from None
    except APIError as exc:
        log.warning("ORCID's token endpoint answered %s", exc.status)
        raise ORCIDBadResponseError(
            _("ORCID answered with an error. Nothing was stored. Please try again."),
            next_url=next_url,
        ) from None


def _checked_orcid(token: dict, next_url: str) -> str:
    from .identifiers import parse_orcid_id

    try:
        if not isinstance(token, dict) or not token.get("access_token"):
            raise ValueError("no access token")
        return parse_orcid_id(str(token.get("orcid") or ""))
    except ValueError:
        log.warning("ORCID's token response had no usable iD or access token")
        raise ORCIDBadResponseError(
            _("ORCID's answer did not contain your iD. Nothing was stored. Please try again."),
            next_url=next_url,
        ) from None


def _verify_openid(token: dict, nonce: str | None, orcid_id: str, next_url: str) -> None:
    from .oidc import IDTokenError, fetch_jwks, verify_id_token

    ext = _ext()
    state = get_state()
    cfg = current_app.config
    timeout = (float(cfg["ORCID_CONNECT_TIMEOUT"]), float(cfg["ORCID_READ_TIMEOUT"]))

    def get_jwks(refresh: bool) -> dict:
        if state.jwks is None or refresh:
            state.jwks = fetch_jwks(state.endpoints.jwks_url, timeout)
        return state.jwks

    try:
        claims = verify_id_token(
            token.get("id_token") or "",
            get_jwks=get_jwks,
            issuer=state.endpoints.issuer,
            client_id=cfg["ORCID_CLIENT_ID"],
            nonce=nonce,
            orcid=orcid_id,
        )
    except (IDTokenError, TransportError) as exc:
        log.warning("id_token of %s not accepted: %s", orcid_id, exc)
        ext.discard_tokens([token.get("access_token"), token.get("refresh_token")], orcid_id)
        if isinstance(exc, TransportError):
            raise ORCIDUnavailableError(
                _("We could not reach ORCID to complete your sign-in. Nothing was stored. "
                  "Please try again in a few minutes."),
                next_url=next_url,
            ) from None
        raise ORCIDRefusedError(
            _("ORCID's proof of your identity did not check out. Nothing was stored. "
              "Please try again."),
            next_url=next_url,
        ) from None
    token["userinfo"] = claims


def _refuse_link(token: dict, orcid_id: str, message: str, next_url: str) -> None:
    """Give back the tokens we will not store, then explain (409)."""
    _ext().db.session.rollback()
    _ext().discard_tokens([token.get("access_token"), token.get("refresh_token")], orcid_id)
    raise AlreadyLinkedError(message, next_url=next_url, retry=False)


def _complete_signin(token: dict, orcid_id: str, user: Any, next_url: str) -> Any:
    ext = _ext()
    db = ext.db
    existing = ext.get_account_by_orcid(orcid_id)
    if existing is not None and user is not None and existing.user_key != user.key:
        log.warning("iD %s is already linked to another user; link refused", orcid_id)
        _refuse_link(
            token, orcid_id,
            _("This ORCID iD is already connected to another account on this site. One ORCID "
              "iD can be connected to only one account. Nothing was changed. If you think "
              "this is a mistake, contact us."),
            next_url,
        )
    mine = ext.get_account(user.key) if user is not None else None
    if mine is not None and mine.orcid != orcid_id:
        _refuse_link(
            token, orcid_id,
            _("Your account here is already connected to another ORCID iD (%(orcid)s). "
              "Disconnect it first if you want to connect a different one. Nothing was changed.",
              orcid=mine.orcid),
            next_url,
        )

    reconnected = existing is not None
    account = existing if existing is not None else ext.Account(
        orcid=orcid_id, user_key=user.key if user is not None else None
    )
    old_tokens = ext.store_token(account, token)
    new_tokens = [token.get("access_token"), token.get("refresh_token")]
    try:
        # The host may add the account to the session before it has a user key: no
        # implicit flush may try to store it half-done.
        with db.session.no_autoflush:
            result = ext._signin_handler(account, token) if ext._signin_handler else None
            if account.user_key is None:
                signed_in = ext.current_user(reload=True)
                if signed_in is not None:
                    account.user_key = signed_in.key
    except Exception:
        # The host's handler failed (or aborted): store nothing, give the new tokens back.
        db.session.rollback()
        ext.discard_tokens(new_tokens, orcid_id)
        raise
    if account.user_key is None:
        # Nobody to link the iD to, and the host created no one: store nothing.
        db.session.rollback()
        ext.discard_tokens(new_tokens, orcid_id)
        if result is not None:
            return result
        raise SignInRequiredError(
            _("Sign in to this site first, then connect your ORCID iD. Nothing was stored."),
            retry=False,
        )
    account.user_key = str(account.user_key)
    try:
        db.session.add(account)
        pending = ext._queue_revocations(old_tokens, orcid_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        ext.discard_tokens(new_tokens, orcid_id)
        raise AlreadyLinkedError(
            _("This ORCID iD was connected to another account at the same moment. Nothing "
              "was changed."),
            next_url=next_url,
            retry=False,
        ) from None
    log.info("connected ORCID iD %s (%s)", orcid_id, "reconnected" if reconnected else "new")
    if pending:
        ext._attempt_revocations(pending)
    orcid_connected.send(
        current_app._get_current_object(),
        account=account,
        user_key=account.user_key,
        reconnected=reconnected,
    )
    if result is not None:
        return result
    return redirect(next_url)


@bp.post("/disconnect")
def disconnect() -> Any:
    """Revoke the tokens at ORCID and delete everything stored for the connection."""
    _check_csrf()
    ext = _ext()
    user = ext.current_user()
    if user is None:
        raise SignInRequiredError(
            _("Sign in to this site to manage your ORCID connection."), retry=False
        )
    account = ext.get_account(user.key)
    if account is None:
        return redirect(url_for("orcid.connection"))
    environment = account.environment
    orcid_id = ext.disconnect(user.key)
    orcid_disconnected.send(
        current_app._get_current_object(), orcid=orcid_id, user_key=user.key
    )
    return render_template(
        "orcid/disconnected.html",
        orcid=orcid_id,
        environment=environment,
        support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"),
    )


def _scope_order(scope: str) -> tuple[int, str]:
    order = list(SCOPE_DESCRIPTIONS)
    return (order.index(scope) if scope in order else len(order), scope)


def _scope_descriptions(scopes: Any) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for scope in scopes:
        text = SCOPE_DESCRIPTIONS.get(scope)
        text = str(text) if text is not None else _("Permission %(scope)s.", scope=scope)
        if text not in seen:
            seen.add(text)
            out.append((scope, text))
    return out


@bp.get("/")
def connection() -> Any:
    """The "Your ORCID connection" page: the iD, what we may do, the disconnect button."""
    ext = _ext()
    user = ext.current_user()
    if user is None:
        raise SignInRequiredError(
            _("Sign in to this site to see your ORCID connection."), retry=False
        )
    account = ext.get_account(user.key)
    return render_template(
        "orcid/connection.html",
        account=account,
        needs_reconnect=account is not None and not ext.has_full_connection(account),
        permissions=_scope_descriptions(
            sorted(account.scope_set, key=_scope_order) if account is not None else ()
        ),
        requested=_scope_descriptions(get_state().scopes),
        connect_url=url_for("orcid.connect", next=url_for("orcid.connection")),
        support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"),
    )



@bp.context_processor
def _page_context() -> dict[str, str]:
    locale = get_locale()
    return {"orcid_page_lang": str(locale).replace("_", "-") if locale else "en"}
