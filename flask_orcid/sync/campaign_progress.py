"""Moving campaign people on from what happened elsewhere: their invitation's answer and the
outbox's delivery of their thesis and degree.

:func:`advance` is idempotent and reads everything it decides from the database, so it runs
at every run step, after a restart, and right after an invitee's answer (for one person):

- the invitation was answered with an iD → ``connected``; if the person let the site add the
  thesis (they opted in and have a connection), the work and the education are published to
  that connection through the outbox, then ``delivered`` once both are on the record, or
  ``failed`` with ORCID's reason when the outbox parked them;
- declined at ORCID → ``declined``; the link was opened → ``opened``;
- the link expired with no reminder left → ``failed`` (expired); cancelled → ``failed``.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import clock
from . import outbox as ob
from .campaign_reasons import CANCELLED, EXPIRED, NOT_ADDED, NOT_TAKEN, WITHDRAWN
from .campaigns import (
    ANSWERABLE,
    CONNECTED,
    DECLINED,
    DELIVERED,
    FAILED,
    INVITED,
    OPENED,
    QUEUED,
    REMINDED,
    SENDING,
)
from .invitations import effective_status
from .mixins import item_from_payload
from .models import Models
from .states import (
    INVITATION_AUTHENTICATED,
    INVITATION_CANCELLED,
    INVITATION_DECLINED,
    INVITATION_EXPIRED,
    INVITATION_OPENED,
    PARKED,
    REMOVED,
    SYNCED,
)

__all__ = ["advance", "advance_person"]


def advance(session: Session, models: Models, *, campaign_id: int | None = None) -> int:
    """Bring every person who has an invitation up to date; returns how many changed (the
    caller commits). Publishing adds outbox rows in the same transaction."""
    person, invitation = models.CampaignPerson, models.Invitation
    query = (sa.select(person, invitation)
             .join(invitation, invitation.id == person.invitation_id)
             .where(person.status.not_in((QUEUED, SENDING, DELIVERED))))
    if campaign_id is not None:
        query = query.where(person.campaign_id == campaign_id)
    changed = 0
    for row, inv in session.execute(query).all():
        before = (row.status, row.reason)
        advance_person(session, models, row, inv)
        changed += (row.status, row.reason) != before
    return changed


def advance_person(session: Session, models: Models, person: Any, invitation: Any) -> None:
    """One person, from their invitation (and the outbox)."""
    status = effective_status(invitation, clock.utcnow())
    if status == INVITATION_AUTHENTICATED:
        _answered(session, models, person, invitation)
    elif person.status in (QUEUED, SENDING, DELIVERED) or person.orcid:
        return
    elif status == INVITATION_DECLINED:
        _set(person, DECLINED, None)
    elif status == INVITATION_OPENED and person.status in (INVITED, REMINDED):
        _set(person, OPENED, person.reason)
    elif (status == INVITATION_EXPIRED and person.status in ANSWERABLE
          and person.next_action_at is None):
        _set(person, FAILED, EXPIRED.text(date=f"{invitation.expires_at:%Y-%m-%d}"))
    elif status == INVITATION_CANCELLED and person.status in ANSWERABLE:
        _set(person, FAILED, CANCELLED.text())


def _set(person: Any, status: str, reason: str | None) -> None:
    if (person.status, person.reason) != (status, reason):
        person.status, person.reason = status, reason
        person.updated_at = clock.utcnow()
    if status not in ANSWERABLE:
        person.next_action_at = None


def _answered(session: Session, models: Models, person: Any, invitation: Any) -> None:
    if person.orcid is None:
        person.orcid = invitation.orcid
        person.answered_at = invitation.answered_at
        person.opted_in = bool(invitation.opted_in and invitation.account_key)
    if person.status == DELIVERED:
        return
    if not person.opted_in:
        _set(person, CONNECTED, NOT_ADDED.text())
        return
    user_key = invitation.account_key
    account = session.scalars(sa.select(models.Account)
                              .where(models.Account.user_key == user_key)).first()
    if account is None:
        _set(person, CONNECTED, WITHDRAWN.text())
        return
    items = _published(session, models, person, user_key)
    if all(i.state == SYNCED and i.put_code is not None for i in items):
        _set(person, DELIVERED, None)
        person.delivered_at = clock.utcnow()
    elif trouble := [i for i in items if i.state in (PARKED, REMOVED)]:
        item = trouble[0]
        _set(person, FAILED, NOT_TAKEN.text(
            item=item.kind, detail=item.error_message or item.park_reason or item.state))
    else:
        _set(person, CONNECTED, None)


def _published(session: Session, models: Models, person: Any, user_key: str) -> list[Any]:
    """The outbox rows of the person's thesis and degree, published now if they are not yet."""
    rows = []
    for key, payload in ((person.work_key, person.work_payload),
                         (person.degree_key, person.degree_payload)):
        if not key or not payload:
            continue
        row = ob.item_state(session, models, user_key, key)
        if row is None or row.retracted:
            data = json.loads(payload)
            ob.publish(session, models, user_key, key, item_from_payload(data["kind"], data))
            session.flush()
            row = ob.item_state(session, models, user_key, key)
        rows.append(row)
    return rows
