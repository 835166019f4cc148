"""The institution's people and where each stands with ORCID here (issue 16, item 1).

The host lists its people (:class:`InstitutionPerson`); this module says, for each, whether
their iD is connected here (``connected``), connected but refused by ORCID since (``invalid``: the token
was revoked or expired), or not (``not_connected``), and what their latest invitation says.
Two queries for the whole list, whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .invitations import effective_status
from .models import Models
from .states import ACTIVE, INVITATION_AUTHENTICATED

__all__ = ["CONNECTED", "INVALID", "KINDS", "NOT_CONNECTED", "InstitutionPerson", "PersonState",
           "known_orcids", "states"]

CONNECTED = "connected"
INVALID = "invalid"
NOT_CONNECTED = "not_connected"
KINDS = ("student", "graduate", "staff")


@dataclass(frozen=True)
class InstitutionPerson:
    """One of the institution's people, as the host's ``people_source`` hook gives them.

    :param key: the host's stable key of the person (the ``person`` of their invitations).
    :param kind: ``student``, ``graduate`` or ``staff`` (another word shows as given).
    :param orcid: an iD typed in for them (not authenticated).
    :param user_key: their account on this site, when they have one (their connection).
    """

    key: str
    name: str
    email: str | None = None
    kind: str = "student"
    orcid: str | None = None
    user_key: str | None = None


@dataclass(frozen=True)
class PersonState:
    """A person and what this site knows of their iD."""

    person: InstitutionPerson
    connection: str
    #: the authenticated iD (a connection, or an invitation answered with it)
    orcid: str | None
    invitation_status: str | None
    invitation_id: int | None


def _accounts(session: Session, models: Models, keys: set[str]) -> dict[str, Any]:
    if not keys:
        return {}
    account = models.Account
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(keys)):
        for row in session.scalars(sa.select(account).where(account.user_key.in_(chunk))):
            found.setdefault(row.user_key, row)
    return found


def _latest_invitations(session: Session, models: Models, keys: set[str]) -> dict[str, Any]:
    invitation = models.Invitation
    latest: dict[str, Any] = {}
    for chunk in _chunks(sorted(keys)):
        rows = session.scalars(sa.select(invitation).where(invitation.person_key.in_(chunk))
                               .order_by(invitation.id))
        for row in rows:
            latest[row.person_key] = row
    return latest


def _chunks(values: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def states(session: Session, models: Models,
           people: Iterable[InstitutionPerson]) -> list[PersonState]:
    """Each person with their connection state and latest invitation, in the given order."""
    people = list(people)
    invitations = _latest_invitations(session, models, {p.key for p in people})
    account_keys = {p.user_key for p in people if p.user_key}
    account_keys |= {i.account_key for i in invitations.values() if i.account_key}
    accounts = _accounts(session, models, account_keys)
    out = []
    for person in people:
        invitation = invitations.get(person.key)
        account = accounts.get(person.user_key or "") or (
            accounts.get(invitation.account_key or "") if invitation is not None else None)
        if account is not None:
            connection = CONNECTED if account.status == ACTIVE else INVALID
        else:
            connection = NOT_CONNECTED
        status = effective_status(invitation) if invitation is not None else None
        orcid = account.orcid if account is not None else None
        if orcid is None and invitation is not None and status == INVITATION_AUTHENTICATED:
            orcid = invitation.orcid
        out.append(PersonState(person, connection, orcid, status,
                               invitation.id if invitation is not None else None))
    return out


def known_orcids(session: Session, models: Models) -> set[str]:
    """Every iD connected here or proved through an invitation (a search leaves them out)."""
    account, invitation = models.Account, models.Invitation
    found = set(session.scalars(sa.select(account.orcid)))
    found |= {o for o in session.scalars(sa.select(invitation.orcid).where(
        invitation.status == INVITATION_AUTHENTICATED)) if o}
    return found
