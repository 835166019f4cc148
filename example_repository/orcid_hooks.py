"""What a successful ORCID sign-in means in this repository: the student's published theses
are (re)queued for their record, in the same transaction as the new connection. And the
invitations (issue 15): who may invite for a thesis, and what an invitee's proved iD does."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _

from .db import db
from .deposit import queue_published_theses, remember_left_on_record, supervision_updated
from .invitees import accept
from .models import Thesis, User
from .orcid_setup import orcid

__all__ = ["connected", "invitation_accepted", "may_invite", "remember_items_left_on_record"]


@orcid.signin_handler
def connected(account, token):  # noqa: ANN001 - the extension's Account model and token dict
    """A student linked their iD. Anything already published is (re)queued for their record."""
    user = g.get("user")
    if user is None:
        flash(_("Please log in first, then connect your ORCID iD."), "warning")
        return redirect(url_for("auth.login"))
    # The extension commits the new connection after this hook returns; the thesis deposits
    # join that transaction, so the connection and the deposits are stored together.
    db.session.add(account)
    queue_published_theses(user, account.orcid)
    flash(_("Your ORCID iD is connected."), "connected")
    return None


@orcid.on_account_removed
def remember_items_left_on_record(account):  # noqa: ANN001 - the extension's Account model
    """A disconnect: note which theses stay on the author's ORCID record (the items are theirs
    now; this site can no longer change or remove them), before the outbox forgets them."""
    if not str(account.user_key).isdigit():
        return  # an invitee's connection (their supervision work): nothing of ours to note
    user = db.session.get(User, int(account.user_key))
    if user is not None:
        remember_left_on_record(user)


@orcid.invitation_permission
def may_invite(user, subject: str) -> bool:  # noqa: ANN001 - flask_orcid.UserInfo or None
    """The graduate school's admins, and the author of the thesis, may invite its people."""
    signed_in = g.get("user")
    if user is None or signed_in is None or signed_in.key != user.key:
        return False
    kind, _sep, ident = subject.partition(":")
    if kind != "thesis" or not ident.isdigit():
        return False
    thesis = db.session.get(Thesis, int(ident))
    return thesis is not None and (signed_in.is_admin or thesis.author_id == signed_in.id)


@orcid.invitation_accepted
def invitation_accepted(invitation, account):  # noqa: ANN001 - the extension's row and Account
    """An invitee proved their iD: the person on the thesis shows it as confirmed (and in the
    thesis's ORCID work); opted in, the thesis goes to their own record with their role."""
    person = accept(invitation)
    if person is not None:
        supervision_updated(person.thesis, person, account)
    return None
