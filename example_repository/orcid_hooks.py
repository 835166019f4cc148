"""What a successful ORCID sign-in means in this repository: the student's published theses
are (re)queued for their record, in the same transaction as the new connection."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _

from .db import db
from .deposit import queue_published_theses, remember_left_on_record
from .models import User
from .orcid_setup import orcid

__all__ = ["connected", "remember_items_left_on_record"]


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
    user = db.session.get(User, int(account.user_key))
    if user is not None:
        remember_left_on_record(user)
