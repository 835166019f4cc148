"""The link of an ORCID inbox permission request (:mod:`.permission_requests`), followed.

``/orcid/inbox/<token>`` starts ORCID's authorize flow for the iD the request went to, with a
server-side single-use ``state`` like ``/connect``; the callback (:mod:`.views`) hands a flow
that carries the token to :func:`finish`, which stores the connection for the request's user
only if the researcher signed in to ORCID as that very iD, then spends the token.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from authlib.common.security import generate_token
from flask import current_app, redirect, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from .checks import orcid_reachable
from .i18n import gettext as _
from .oauth_state import orcid_lang, remember_state
from .page_errors import ORCIDRefusedError, ORCIDUnavailableError, StateError
from .protocol.oauth import authorization_url
from .signin import complete_signin, exchange_and_verify
from .state import get_state
from .sync import oauth_states
from .sync import permission_requests as requests_table

__all__ = ["finish", "start"]


def _expired() -> StateError:
    return StateError(_("This link from your ORCID inbox has expired or was already used. "
                        "Nothing was stored. Ask us for a new one, or connect from your "
                        "account page."))


def start(token: str) -> Response:
    """Send the browser to ORCID's authorize screen for the request of ``token``."""
    state_ = get_state()
    ext = state_.extension
    session, models = ext.db.session, ext._models()
    row = requests_table.find_valid(session, models, token)
    if row is None:
        raise _expired()
    next_url = url_for("orcid.inbox_done")
    if not orcid_reachable():
        raise ORCIDUnavailableError(
            _("ORCID's sign-in page is not answering right now, so we did not send you there. "
              "Nothing was changed. Please try again in a few minutes."), next_url=None)
    scopes = state_.scopes
    state = generate_token(40)
    nonce = generate_token(40) if "openid" in scopes else None
    remember_state(state, next_url, None, nonce, inbox=token)
    oauth_states.record(session, models, state, None)
    return redirect(authorization_url(
        state_.endpoints, current_app.config["ORCID_CLIENT_ID"],
        url_for("orcid.callback", _external=True), scopes, state, orcid=row.orcid,
        lang=orcid_lang(get_locale()), nonce=nonce,
    ))


def finish(entry: dict[str, Any], next_url: str) -> Any:
    """The callback of an inbox flow: exchange the code, check the iD, store, spend."""
    ext = get_state().extension
    session, models = ext.db.session, ext._models()
    token = str(entry["inbox"])
    row = requests_table.find_valid(session, models, token)
    if row is None:
        raise _expired()
    code = request.args.get("code")
    if not code:
        raise ORCIDRefusedError(
            _("ORCID sent no authorization code. Nothing was stored. Please try again."),
            next_url=None)
    tokens, orcid_id = exchange_and_verify(code, entry.get("nonce"), next_url)
    if orcid_id != row.orcid:
        ext.discard_tokens([tokens.get("access_token"), tokens.get("refresh_token")], orcid_id)
        raise ORCIDRefusedError(
            _("You signed in to ORCID with another iD (%(orcid)s) than the one this request "
              "was sent to. Nothing was stored.", orcid=orcid_id), next_url=None)
    owner = SimpleNamespace(key=str(row.user_key)) if row.user_key else ext.current_user()
    response = complete_signin(tokens, orcid_id, owner, next_url)
    requests_table.mark_connected(session, models, token)
    account = ext.get_account_by_orcid(orcid_id)
    if account is not None:
        oauth_states.mark_connected(session, models, request.args["state"], account.user_key)
    return response
