"""The people on a thesis besides its author (advisors, committee members, co-authors): keeping
their rows across saves of the form, and inviting them to confirm their iD (issue 15).

The form lists people; a save matches each entry to the row it was, so an iD the person
confirmed through ORCID (``orcid_authenticated``) and their invitations survive a later save,
and a student can never overwrite a confirmed iD by typing another.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from flask import flash
from flask_babel import gettext as _

from flask_orcid import UserInfo
from flask_orcid.protocol.identifiers import parse_orcid_id
from flask_orcid.sync import invitations as inv
from flask_orcid.sync.states import (
    INVITATION_AUTHENTICATED,
    INVITATION_CANCELLED,
    INVITATION_EXPIRED,
)

from .db import db
from .models import ADVISOR, COMMITTEE_MEMBER, Advisor, Thesis, User
from .orcid_setup import orcid

__all__ = ["accept", "apply_people", "flash_sent", "invite_person", "open_invitation", "person_key", "send_invitations",
           "subject_of"]

log = logging.getLogger(__name__)

#: the roles offered to add the thesis to their own ORCID record (CRediT "supervision")
SUPERVISING = (ADVISOR, COMMITTEE_MEMBER)


def subject_of(thesis: Thesis) -> str:
    """The invitation subject of a thesis (its outbox key)."""
    return f"thesis:{thesis.id}"


def person_key(person: Advisor) -> str:
    return f"advisor:{person.id}"


def _same(a: str | None, b: str | None) -> bool:
    def norm(text: str | None) -> str:
        return " ".join(unicodedata.normalize("NFC", text or "").casefold().split())

    return bool(a and b) and norm(a) == norm(b)


def _match(rows: list[Advisor], name: str, email: str | None) -> Advisor | None:
    """The row an entry of the form was. A person who confirmed their iD is matched only by
    their name (the name shown with the iD); the others by email, else by name."""
    for row in rows:
        if row.orcid_authenticated and _same(row.name, name):
            return row
    for row in rows:
        if not row.orcid_authenticated and email and _same(row.email, email):
            return row
    for row in rows:
        if not row.orcid_authenticated and _same(row.name, name):
            return row
    return None


def _typed(value: str | None) -> str | None:
    value = (value or "").strip()
    return parse_orcid_id(value) if value else None


def apply_people(form: Any, thesis: Thesis) -> list[tuple[Advisor, str]]:
    """Update the thesis's people from the form's entries; returns (person, language) of those
    to invite once the rows are committed. People left out of the form are removed (and their
    open invitations cancelled)."""
    earlier = list(thesis.advisors)
    to_invite: list[tuple[Advisor, str]] = []
    position = 0
    for entry in form.advisors:
        fields = entry.form
        name = (fields.name.data or "").strip()
        if not name:
            continue
        email = (fields.email.data or "").strip() or None
        person = _match(earlier, name, email)
        if person is None:
            person = Advisor(name=name)
            thesis.advisors.append(person)
        else:
            earlier.remove(person)
        person.name, person.email, person.position = name, email, position
        person.role = fields.role.data or ADVISOR
        typed = _typed(fields.orcid.data)
        if not person.orcid_authenticated:
            person.orcid = typed
        elif typed and typed != person.orcid:
            flash(_("%(name)s confirmed their ORCID iD through ORCID, so it cannot be changed "
                    "here; the iD you typed was not saved.", name=name), "warning")
        if fields.invite.data and email and not person.orcid_authenticated:
            to_invite.append((person, fields.invite_lang.data or "en"))
        position += 1
    for gone in earlier:
        if gone.id is not None:
            for invitation in orcid.invitations_for(subject_of(thesis), person_key(gone)):
                inv.cancel(invitation)
        thesis.advisors.remove(gone)
    return to_invite


def open_invitation(thesis: Thesis, person: Advisor) -> Any:
    """The person's invitation that can still be answered, or None."""
    for invitation in reversed(orcid.invitations_for(subject_of(thesis), person_key(person))):
        if orcid.invitation_status(invitation) not in (INVITATION_AUTHENTICATED,
                                                       INVITATION_CANCELLED, INVITATION_EXPIRED):
            return invitation
    return None


def invite_person(thesis: Thesis, person: Advisor, email: str, lang: str,
                  inviter: User) -> Any:
    """Invite ``person`` (by ``email``, in ``lang``); commits. The thesis is offered for the
    invitee's own record when they supervised it."""
    return orcid.invite(
        subject=subject_of(thesis), person=person_key(person), name=person.name, email=email,
        role=person.role, lang=lang, subject_title=thesis.title or None,
        inviter=UserInfo(key=inviter.key, given_names=inviter.given_names,
                         family_names=inviter.family_name),
        typed_orcid=person.orcid, offer_work=person.role in SUPERVISING)


def send_invitations(thesis: Thesis, pending: list[tuple[Advisor, str]], inviter: User) -> None:
    """Invite each pending person who has no invitation open yet; flash what happened."""
    for person, lang in pending:
        if person.orcid_authenticated or open_invitation(thesis, person) is not None:
            continue
        flash_sent(person, invite_person(thesis, person, person.email or "", lang, inviter))


def flash_sent(person: Advisor, invitation: Any) -> None:
    """Tell the inviter whether the invitation's email went out."""
    if invitation.last_error:
        flash(_("The invitation to %(name)s could not be sent: %(error)s",
                name=person.name, error=invitation.last_error), "warning")
    else:
        flash(_("An invitation to confirm their ORCID iD was sent to %(name)s (%(email)s).",
                name=person.name, email=invitation.email), "success")


def accept(invitation: Any) -> Advisor | None:
    """An invitee proved their iD: the person's row gets it, confirmed (the typed one goes)."""
    kind, _sep, ident = (invitation.person_key or "").partition(":")
    if kind != "advisor" or not ident.isdigit():
        return None
    person = db.session.get(Advisor, int(ident))
    if person is None or subject_of(person.thesis) != invitation.subject:
        return None
    person.orcid = invitation.orcid
    person.orcid_authenticated = True
    log.info("person %s on thesis %s confirmed iD %s", person.id, person.thesis_id,
             invitation.orcid)
    return person
