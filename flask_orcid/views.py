"""The ``orcid`` blueprint: connect, callback, disconnect, and the researcher's connection page.

Security notes:
- ``state`` is random, single-use and bound to the user it was issued to (:mod:`.oauth_state`);
- ``next`` is followed only when it is a same-site relative path (:func:`.safety.safe_next`);
- disconnect is a POST carrying a per-session CSRF token;
- tokens and authorization codes never reach a page or a log line (:mod:`.signin`).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from authlib.common.security import generate_token
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from . import inbox_flow
from .checks import orcid_reachable, verify_connection
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .invitation_signin import complete_invitation, invitation_denied, invitation_failed
from .oauth_state import orcid_lang, remember_state, take_state
from .page_errors import (
    ORCIDPageError,
    ORCIDRefusedError,
    ORCIDUnavailableError,
    StateError,
    keep_problem,
    signed_in_user,
    take_problem,
)
from .protocol.oauth import authorization_url
from .safety import check_csrf, loggable, private_page_headers, safe_next
from .signals import orcid_denied, orcid_disconnected
from .signin import complete_signin, exchange_and_verify
from .state import current_flask_app, get_state
from .sync import oauth_states

__all__ = ["ORCID_CALLBACK_ERRORS", "SCOPE_DESCRIPTIONS", "bp"]

log = logging.getLogger(__name__)

bp = Blueprint(
    "orcid",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
bp.after_request(private_page_headers)

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

#: The errors ORCID may send back to the callback (RFC 6749 §4.1.2.1), in our own words.
ORCID_CALLBACK_ERRORS = {
    "invalid_request": _l("ORCID could not understand this site's sign-in request. Nothing "
                          "was stored. Please try again, or contact us if it keeps happening."),
    "unsupported_response_type": _l(
        "ORCID could not understand this site's sign-in request. Nothing was stored. Please "
        "try again, or contact us if it keeps happening."),
    "unauthorized_client": _l("ORCID does not allow this site to ask for a sign-in right now. "
                              "Nothing was stored. Please contact us."),
    "invalid_client": _l("ORCID does not allow this site to ask for a sign-in right now. "
                         "Nothing was stored. Please contact us."),
    "invalid_scope": _l("ORCID did not accept the permissions this site asked for. Nothing "
                        "was stored. Please contact us."),
    "server_error": _l("ORCID had a problem on its side. Nothing was stored. Please try again "
                       "in a few minutes."),
    "temporarily_unavailable": _l("ORCID is busy or down for maintenance. Nothing was stored. "
                                  "Please try again in a few minutes."),
}


def _ext() -> Any:
    return get_state().extension


def _default_next() -> str:
    return url_for("orcid.connection")


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

    if not orcid_reachable():
        # Our page, with a way back, rather than the browser's "cannot connect" (issue 14).
        raise ORCIDUnavailableError(
            _("ORCID's sign-in page is not answering right now, so we did not send you there. "
              "Nothing was changed. Please try again in a few minutes."),
            next_url=next_url,
        )
    scopes = state_.scopes
    state = generate_token(40)
    nonce = generate_token(40) if "openid" in scopes else None
    remember_state(state, next_url, user.key if user else None, nonce)
    oauth_states.record(ext.db.session, ext._models(), state, user.key if user else None)
    prefill: dict[str, str | None] = {}
    if user is not None:
        prefill = {"given_names": user.given_names, "family_names": user.family_names,
                   "email": user.email}
    # Authlib builds the URL (flask_orcid.protocol.oauth), with ORCID's %20 for the scope.
    return redirect(authorization_url(
        state_.endpoints, cfg["ORCID_CLIENT_ID"], url_for("orcid.callback", _external=True),
        scopes, state, **prefill, orcid=account.orcid if account is not None else None,
        lang=orcid_lang(get_locale()), nonce=nonce,
    ))


@bp.get("/callback")
def callback() -> Any:
    """ORCID's redirect back: denial, error, or a code to exchange for tokens.

    Whatever happens, a callback that carried a code ends in a redirect to a URL without it
    (success: ``next``; failure: this URL, bare, showing the explanation kept in the
    session), so the code stays in no address bar, history or Referer, and a web server's
    access log holds it only for the one request that spent or refused it.
    """
    if not request.args:
        problem = take_problem()
        if problem is not None:
            raise problem
    try:
        return _callback()
    except ORCIDPageError as exc:
        if "code" not in request.args:
            raise
        keep_problem(exc)
        return redirect(url_for("orcid.callback"))


def _callback() -> Any:
    ext = _ext()
    error = request.args.get("error")
    if error is not None:
        return _callback_error(error)

    entry = _checked_state(request.args.get("state"))
    if entry.get("inv"):
        # the answer to an invitation: the invitee's iD, not a sign-in to this site
        return complete_invitation(entry, request.args.get("code") or "")
    next_url = safe_next(entry.get("next")) or _default_next()
    if entry.get("inbox"):
        # the link of an ORCID inbox permission request: whoever is signed in here
        return inbox_flow.finish(entry, next_url)
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
    token, orcid_id = exchange_and_verify(code, entry.get("nonce"), next_url)
    response = complete_signin(token, orcid_id, user, next_url)
    account = ext.get_account_by_orcid(orcid_id)
    if account is not None:
        oauth_states.mark_connected(ext.db.session, ext._models(), request.args["state"],
                                    account.user_key)
    return response


def _checked_state(state: str | None) -> dict[str, Any]:
    """The entry of the sign-in ``state`` belongs to; StateError when it has none."""
    if not state:
        raise StateError(
            _("The answer from ORCID did not say which sign-in it belongs to, so it cannot "
              "be trusted. Nothing was stored. Please start again."),
        )
    entry = take_state(state)
    ext = _ext()
    if entry is not None and oauth_states.consume(ext.db.session, ext._models(), state):
        return entry
    # Unknown to this cookie, or spent on the server (an earlier copy of the cookie, or a
    # second callback at the same moment). If it was this user's successful sign-in (a
    # reload, the back button), show the connection instead of an error.
    row = oauth_states.find(ext.db.session, ext._models(), state)
    user = ext.current_user()
    if (row is not None and row.connected_user_key is not None and user is not None
            and row.connected_user_key == user.key):
        abort(redirect(_default_next()))
    raise StateError(
        _("This answer from ORCID does not match a sign-in started in this browser, or it "
          "was already used. Nothing was stored. Please start again."),
    )


def _callback_error(error: str) -> Any:
    """ORCID answered with an error: the researcher's denial gets its own page."""
    ext = _ext()
    # Every outcome needs a state this browser started: a forged denial must not fire
    # orcid_denied for whoever is signed in.
    entry = _checked_state(request.args.get("state"))
    if entry.get("inv") and error == "access_denied":
        return invitation_denied(entry)
    next_url = safe_next(entry.get("next"))
    description = loggable(request.args.get("error_description"), 500)
    user = ext.current_user()
    if entry.get("inv"):
        log.warning("ORCID returned an error to an invitation: %s (%s)", loggable(error, 100),
                    description)
        invitation_failed(entry, ORCID_CALLBACK_ERRORS.get(error))
    if error == "access_denied":
        orcid_denied.send(
            current_flask_app(),
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
    # ORCID's words (and whatever an attacker put in the URL) never reach the page or
    # the log as they are: known errors in our own words, control characters stripped.
    log.warning("ORCID returned an error to the callback: %s (%s)", loggable(error, 100),
                description)
    known = ORCID_CALLBACK_ERRORS.get(error)
    raise ORCIDRefusedError(
        known if known is not None else _(
            "ORCID could not complete the sign-in. Nothing was stored. Please try again."),
        next_url=next_url,
    )


@bp.post("/disconnect")
def disconnect() -> Any:
    """Revoke the tokens at ORCID and delete everything stored for the connection."""
    check_csrf()
    ext = _ext()
    user = signed_in_user(_("Sign in to this site to manage your ORCID connection."))
    account = ext.get_account(user.key)
    if account is None:
        return redirect(url_for("orcid.connection"))
    environment = account.environment
    orcid_id = ext.disconnect(user.key)
    orcid_disconnected.send(
        current_flask_app(), orcid=orcid_id, user_key=user.key
    )
    return render_template(
        "orcid/disconnected.html",
        orcid=orcid_id,
        environment=environment,
        revocation_queued=_revocation_pending(orcid_id),
        support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"),
    )


def _revocation_pending(orcid_id: str | None) -> bool:
    """Whether a token of ``orcid_id`` still waits to be revoked (ORCID was unreachable)."""
    if orcid_id is None:
        return False
    model = _ext()._models().PendingRevocation
    query = sa.select(sa.func.count()).select_from(model).where(model.orcid == orcid_id)
    return bool(_ext().db.session.scalar(query))


@bp.get("/disconnect/confirm")
def confirm_disconnect() -> Any:
    """Ask before disconnecting, and say what it does (the button posts to the same URL)."""
    ext = _ext()
    user = signed_in_user(_("Sign in to this site to manage your ORCID connection."))
    account = ext.get_account(user.key)
    if account is None:
        return redirect(url_for("orcid.connection"))
    return render_template(
        "orcid/disconnect_confirm.html",
        account=account,
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
    user = signed_in_user(_("Sign in to this site to see your ORCID connection."))
    account = ext.get_account(user.key)
    if account is not None and ext.has_full_connection(account):
        # Check the permission with the token we hold before calling it "connected"
        # (ORCID's advice); a refusal marks the connection, so the page below says so.
        verify_connection(account)
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



@bp.get("/inbox/<token>")
def inbox_start(token: str) -> Response:
    """The link of an ORCID inbox permission request: on to ORCID's authorize screen."""
    return inbox_flow.start(token)


@bp.get("/inbox/done")
def inbox_done() -> Any:
    """Where an inbox permission request ends: the connection is made."""
    return render_template("orcid/inbox_connected.html",
                           support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"))
