"""The extension's invitation API (issue 15), mixed into :class:`~flask_orcid.ORCID`: the host's
two hooks (who may invite, what a proved iD means) and the calls a host or a CLI campaign makes.

The rows and their states live in :mod:`.sync.invitations`, the emails in
:mod:`.invitation_mail`, the invitee's pages in :mod:`.invitations`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .invitation_mail import create_invitation, send_invitation, signing_keys
from .state import UserInfo, current_flask_app
from .sync import invitations as inv
from .sync.models import Models

__all__ = ["InvitationAPI"]


class InvitationAPI:
    """Invitations by email: hooks and calls (part of :class:`~flask_orcid.ORCID`)."""

    db: Any
    _invitation_permission: Callable[[UserInfo | None, str], bool] | None = None
    _invitation_accepted: Callable[[Any, Any], Any] | None = None

    def _models(self) -> Models:  # pragma: no cover - ORCID defines it
        raise NotImplementedError

    def current_user(self, *, reload: bool = False) -> UserInfo | None:  # pragma: no cover
        raise NotImplementedError

    def invitation_permission(
            self, func: Callable[[UserInfo | None, str], bool]
    ) -> Callable[[UserInfo | None, str], bool]:
        """Register ``func(user, subject) -> bool``: may ``user`` (None: nobody signed in)
        invite people for ``subject`` (``"thesis:42"``), and resend or cancel its invitations?
        Without it, nobody may (:meth:`may_invite` is False)."""
        self._invitation_permission = func
        return func

    def invitation_accepted(self, func: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Register ``func(invitation, account) -> Response | None``, called when an invitee
        proved their iD (``invitation.orcid``), before anything is committed. ``account`` is
        the connection that may write to their record (they opted in to the work), else None.
        Store the iD where the site keeps the person; publish the work to
        ``account.user_key`` if the site offers it. A response replaces the thank-you page."""
        self._invitation_accepted = func
        return func

    def may_invite(self, subject: str, user: UserInfo | None = None) -> bool:
        """Whether ``user`` (default: the current user) may invite for ``subject``."""
        if self._invitation_permission is None:
            return False
        return bool(self._invitation_permission(user or self.current_user(), subject))

    def invite(self, *, subject: str, name: str, email: str, role: str | None = None,
               lang: str = "en", inviter: UserInfo | str | None = None,
               inviter_name: str | None = None, subject_title: str | None = None,
               person: str | None = None, given_names: str | None = None,
               family_names: str | None = None, typed_orcid: str | None = None,
               offer_work: bool = False, send: bool = True) -> Any:
        """Invite ``name`` <``email``> to prove their iD for ``subject`` and email them the
        link (in ``lang``); returns the invitation. Commits (the link must work when the email
        arrives). Works without a request (links use ``ORCID_EXTERNAL_URL``). It checks no
        permission: a view calls :meth:`may_invite` first.

        :param person: the host's key of the person (``"advisor:7"``), handed back on success.
        :param typed_orcid: an iD typed in for them before, compared with the one they prove.
        :param offer_work: the site offers to add the work to their record (they opt in).
        """
        return create_invitation(
            self.db.session, self._models(), subject=subject, name=name, email=email,
            role=role, lang=lang, inviter=inviter, inviter_name=inviter_name,
            subject_title=subject_title, person_key=person, given_names=given_names,
            family_names=family_names, typed_orcid=typed_orcid, offer_work=bool(offer_work),
            send=send)

    def resend_invitation(self, invitation: Any) -> bool:
        """Email a new link (the old one stops working, the expiry starts again); commits.
        False when the invitation was answered with an iD or cancelled, or sending failed
        (``invitation.last_error`` says why)."""
        app = current_flask_app()
        token = inv.renew(self.db.session, invitation, keys=signing_keys(app),
                          days=float(app.config["ORCID_INVITATION_DAYS"]))
        if token is None:
            return False
        self.db.session.commit()
        error = send_invitation(invitation, token)
        self.db.session.commit()
        return error is None

    def cancel_invitation(self, invitation: Any) -> bool:
        """Withdraw an invitation: its link stops working; commits. False when it was
        already answered with an iD or cancelled."""
        done = inv.cancel(invitation)
        self.db.session.commit()
        return done

    def invitations_for(self, subject: str, person: str | None = None) -> list[Any]:
        """The invitations of ``subject`` (of one person), oldest first."""
        return inv.for_subject(self.db.session, self._models(), subject, person)

    def get_invitation(self, invitation_id: int) -> Any:
        return self.db.session.get(self._models().Invitation, invitation_id)

    @staticmethod
    def invitation_status(invitation: Any) -> str:
        """``unsent``, ``sent``, ``opened``, ``authenticated``, ``declined``, ``expired`` or
        ``cancelled``, as the inviter should read it now."""
        return inv.effective_status(invitation)
