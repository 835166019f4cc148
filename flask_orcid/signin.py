"""Completing a sign-in: exchange the code, check the iD (and the id_token), store the
connection. The token exchange is the one server-side call of a sign-in (API-FACTS §2.3);
tokens and authorization codes never reach a page or a log line.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from flask import current_app, redirect, url_for
from sqlalchemy.exc import IntegrityError

from .errors import APIError, OAuthError, RateLimitedError, ServerError, TransportError
from .i18n import gettext as _
from .page_errors import (
    AlreadyLinkedError,
    ORCIDBadResponseError,
    ORCIDRefusedError,
    ORCIDUnavailableError,
    SignInRequiredError,
)
from .protocol.identifiers import parse_orcid_id
from .protocol.oidc import IDTokenError, fetch_jwks, verify_id_token
from .signals import orcid_connected
from .state import current_flask_app, get_state
from .sync.reconcile import request_sync

__all__ = ["complete_signin", "exchange_and_verify"]

log = logging.getLogger(__name__)


def _ext() -> Any:
    return get_state().extension


def exchange_and_verify(code: str, nonce: str | None, next_url: str,
                        openid: bool | None = None) -> tuple[dict[str, Any], str]:
    """Code → tokens, the iD checked (and the id_token verified when ``openid`` was asked
    for: by default, when the site's scopes include it)."""
    token = _exchange(code, next_url)
    orcid_id = _checked_orcid(token, next_url)
    if openid is None:
        openid = "openid" in get_state().scopes
    if openid:
        _verify_openid(token, nonce, orcid_id, next_url)
    return token, orcid_id


def _exchange(code: str, next_url: str) -> dict[str, Any]:
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


def _checked_orcid(token: dict[str, Any], next_url: str) -> str:
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


def _verify_openid(token: dict[str, Any], nonce: str | None, orcid_id: str,
                   next_url: str) -> None:
    ext = _ext()
    state = get_state()
    cfg = current_app.config
    timeout = (float(cfg["ORCID_CONNECT_TIMEOUT"]), float(cfg["ORCID_READ_TIMEOUT"]))

    def get_jwks(refresh: bool) -> dict[str, Any]:
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


def _refuse_link(token: dict[str, Any], orcid_id: str, message: str, next_url: str) -> NoReturn:
    """Give back the tokens we will not store, then explain (409)."""
    _ext().db.session.rollback()
    _ext().discard_tokens([token.get("access_token"), token.get("refresh_token")], orcid_id)
    raise AlreadyLinkedError(message, next_url=next_url, retry=False)


def _check_link(token: dict[str, Any], orcid_id: str, user: Any, next_url: str) -> Any:
    """Refuse an iD linked to another user here, or a user linked to another iD; returns the
    existing connection of ``orcid_id`` (or None)."""
    ext = _ext()
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
    return existing


def _run_signin_handler(account: Any, token: dict[str, Any], new_tokens: list[Any],
                        orcid_id: str) -> Any:
    """The host's ``signin_handler`` decides who the account belongs to; returns its answer."""
    ext = _ext()
    try:
        # The host may add the account to the session before it has a user key: no
        # implicit flush may try to store it half-done.
        with ext.db.session.no_autoflush:
            result = ext._signin_handler(account, token) if ext._signin_handler else None
            if account.user_key is None:
                signed_in = ext.current_user(reload=True)
                if signed_in is not None:
                    account.user_key = signed_in.key
    except Exception:
        # The host's handler failed (or aborted): store nothing, give the new tokens back.
        ext.db.session.rollback()
        ext.discard_tokens(new_tokens, orcid_id)
        raise
    return result


def _owner_signed_in(account: Any) -> bool:
    """Did the host's handler sign the visitor in as the owner of ``account``?"""
    signed_in = _ext().current_user(reload=True)
    return signed_in is not None and account.user_key is not None and (
        signed_in.key == str(account.user_key))


def complete_signin(token: dict[str, Any], orcid_id: str, user: Any, next_url: str) -> Any:
    """Store the connection (or refuse it), revoke the tokens it replaced, tell the host."""
    ext = _ext()
    db = ext.db
    existing = _check_link(token, orcid_id, user, next_url)
    reconnected = existing is not None
    account = existing if existing is not None else ext.Account(
        orcid=orcid_id, user_key=user.key if user is not None else None
    )
    old_tokens = ext.store_token(account, token)
    new_tokens = [token.get("access_token"), token.get("refresh_token")]
    result = _run_signin_handler(account, token, new_tokens, orcid_id)
    # Store nothing when nobody is there to link the iD to (and the host created no one), or
    # when a signed-out visitor signed in with an iD linked to an account here and the host did
    # not sign them in as its owner ("log in first"): the owner's tokens stay.
    if account.user_key is None or (
            user is None and existing is not None and not _owner_signed_in(account)):
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
        pending = ext.queue_revocations(old_tokens, orcid_id)
        # the worker reads the record once before it posts anything for this connection
        # (our items already there are adopted, not posted twice); in the same transaction,
        # so no pass can claim the rows the host's handler just queued before the request
        request_sync(db.session, ext._models(), orcid_id)
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
        ext.attempt_revocations(pending)
    orcid_connected.send(
        current_flask_app(),
        account=account,
        user_key=account.user_key,
        reconnected=reconnected,
    )
    if result is not None:
        return result
    return redirect(next_url)
