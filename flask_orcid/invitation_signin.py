"""Completing ORCID's answer to an invitation (at the extension's one callback, ``orcid.callback``).

The OAuth ``state`` was issued by :func:`flask_orcid.invitations.start` and is spent once on the
server like any other (:mod:`.sync.oauth_states`); its session entry names the invitation and
the invitee's choice. Then:

- the code is exchanged (the iD is proved) and the invitation is spent for that iD, atomically;
- opted in to the work (and granted ``/activities/update``): the tokens become a connection
  under the invitee's own key (:func:`.sync.invitations.invitee_key`, never a host user's),
  encrypted like any other, disconnectable from the invitation's page; an iD already connected
  here by one of the site's users keeps that user's connection and tokens;
- not opted in: the tokens are revoked at once, only the iD is kept;
- the host's ``invitation_accepted`` hook stores the iD where the site keeps the person (and
  publishes the work), in the same transaction.

Whatever fails, nothing is stored and the tokens are given back.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import redirect, render_template, session
from flask_babel import force_locale

from .i18n import gettext as _
from .invitations import DONE, check_answerable
from .page_errors import InvitationFailedError, InvitationUnknownError, ORCIDPageError
from .safety import safe_next
from .signals import invitation_accepted, invitation_declined, notify
from .signin import exchange_and_verify
from .state import current_flask_app, get_state
from .sync import connections
from .sync import invitations as inv
from .sync.reconcile import request_sync

__all__ = ["complete_invitation", "invitation_denied"]

log = logging.getLogger(__name__)


def _ext() -> Any:
    return get_state().extension


def _invitation(entry: dict[str, Any]) -> Any:
    info = entry.get("inv") or {}
    invitation = _ext().get_invitation(int(info.get("id") or 0))
    if invitation is None:
        raise InvitationUnknownError(
            _("The invitation this sign-in answers no longer exists. Nothing was stored."),
            retry=False)
    return invitation


def _connection(token: dict[str, Any], orcid_id: str) -> tuple[Any, list[str]]:
    """The connection that may write the work to the invitee's record, and the tokens to give
    back once committed (the new ones when a site user's connection is kept, else the ones
    the new tokens replace)."""
    ext = _ext()
    new_tokens = [t for t in (token.get("access_token"), token.get("refresh_token")) if t]
    existing = ext.get_account_by_orcid(orcid_id)
    if existing is not None and not inv.is_invitee_key(existing.user_key):
        # one of the site's users connected this iD: their connection stays as it is
        return existing, new_tokens
    account = existing or ext.Account(orcid=orcid_id, user_key=inv.invitee_key(orcid_id))
    replaced = ext.store_token(account, token)
    ext.db.session.add(account)
    # read the record once before posting (our items already there are adopted)
    request_sync(ext.db.session, ext._models(), orcid_id)
    return account, replaced


def complete_invitation(entry: dict[str, Any], code: str) -> Any:
    """The callback of an invitation's sign-in, with its state already spent."""
    invitation = _invitation(entry)
    page = safe_next(entry.get("next"))
    with force_locale(invitation.lang):
        check_answerable(invitation)  # nothing exchanged for a closed invitation
        try:
            token, orcid_id = exchange_and_verify(code, None, page or "/", openid=False)
        except ORCIDPageError as exc:
            raise InvitationFailedError(exc.description, next_url=page,
                                        lang=invitation.lang) from None
        return _store(invitation, token, orcid_id, entry, page)


def _store(invitation: Any, token: dict[str, Any], orcid_id: str, entry: dict[str, Any],
           page: str | None) -> Any:
    ext = _ext()
    db = ext.db
    new_tokens = [t for t in (token.get("access_token"), token.get("refresh_token")) if t]
    granted = connections.parse_scopes(token.get("scope") or "")
    opted_in = bool((entry.get("inv") or {}).get("add")) and "/activities/update" in granted
    try:
        with db.session.no_autoflush:
            account, give_back = _connection(token, orcid_id) if opted_in else (None, new_tokens)
            if not inv.accept(db.session, ext._models(), invitation.id, orcid_id,
                              opted_in=opted_in,
                              account_key=account.user_key if account is not None else None):
                raise _answered_meanwhile(invitation, page)
            hook = ext._invitation_accepted
            result = hook(invitation, account) if hook is not None else None
        db.session.commit()
    except Exception:
        db.session.rollback()
        ext.discard_tokens(new_tokens, orcid_id)
        raise
    if give_back:
        ext.discard_tokens(give_back, orcid_id)
    log.info("invitation %s answered with iD %s (work %s)", invitation.id, orcid_id,
             "opted in" if opted_in else "not added")
    notify(invitation_accepted, current_flask_app(), invitation=invitation, account=account)
    session[DONE] = invitation.id
    return result if result is not None else redirect(page or "/")


def _answered_meanwhile(invitation: Any, page: str | None) -> ORCIDPageError:
    """The page for an invitation answered, cancelled or expired during the sign-in."""
    db = _ext().db
    db.session.rollback()
    db.session.refresh(invitation)
    try:
        check_answerable(invitation)
    except ORCIDPageError as exc:
        return exc
    return InvitationFailedError(
        _("This invitation changed while you were at ORCID. Nothing was stored. Please start "
          "again."), next_url=page, lang=invitation.lang)


def invitation_denied(entry: dict[str, Any]) -> Any:
    """The invitee clicked "Deny" at ORCID: say that nothing was stored, offer to try again."""
    ext = _ext()
    invitation = _invitation(entry)
    with force_locale(invitation.lang):
        if inv.decline(invitation):
            ext.db.session.commit()
            notify(invitation_declined, current_flask_app(), invitation=invitation)
        log.info("invitation %s declined at ORCID", invitation.id)
        return render_template(
            "orcid/invitation_declined.html", invitation=invitation,
            retry_url=safe_next(entry.get("next")),
            inviter=invitation.inviter_name, orcid_page_lang=invitation.lang,
            support_email=current_flask_app().config.get("ORCID_SUPPORT_EMAIL"))
