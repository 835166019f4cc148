"""Backfill campaigns without a request: making one, and the per-person steps of sending.

A person's status (:data:`STATUSES`):

``queued`` → ``sending`` → ``invited`` → (``reminded`` …) → ``opened`` → ``connected`` →
``delivered``; or ``declined`` (said no at ORCID), ``bounced`` (the mail server refused the
address, now or in a bounce reported later), ``failed`` with a reason (the email could not be
sent after several tries, the link expired unanswered after the last reminder, ORCID refused
the items).

Sending survives a crash anywhere: a person is *claimed* by one conditional ``UPDATE``
(``queued`` → ``sending``, committed) before their email is handed to the mail server, and
the outcome is committed right after. A run that stops in between leaves the person
``sending``; once the claim's lease is over, :func:`recover_stale` decides without sending
anything: nobody is emailed twice, and the person is not dropped (the next reminder carries
a new link, and the invitation's link made before the email already works). Times come from
:func:`.clock.utcnow` through the module, so tests move them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..protocol.model import Organization
from . import clock
from .campaign_reasons import GAVE_UP, UNCONFIRMED
from .campaign_rows import Graduate, RowProblem, build_items
from .models import Models
from .sql import rowcount

__all__ = [
    "ACTIVE",
    "ANSWERABLE",
    "FINAL",
    "PAUSED",
    "STATUSES",
    "claim",
    "counts",
    "create",
    "due",
    "is_final",
    "problems_of",
    "record_bounces",
    "record_failure",
    "record_refused",
    "record_sent",
    "recover_stale",
]

QUEUED = "queued"
SENDING = "sending"
INVITED = "invited"
REMINDED = "reminded"
OPENED = "opened"
CONNECTED = "connected"
DELIVERED = "delivered"
DECLINED = "declined"
BOUNCED = "bounced"
FAILED = "failed"
STATUSES = (QUEUED, SENDING, INVITED, REMINDED, OPENED, CONNECTED, DELIVERED, DECLINED,
            BOUNCED, FAILED)
#: waiting for the person's answer (reminders go to them)
ANSWERABLE = (INVITED, REMINDED, OPENED)
FINAL = (DELIVERED, DECLINED, BOUNCED, FAILED)

#: campaign states: the run step sends for ``active`` ones only
ACTIVE = "active"
PAUSED = "paused"

INVITE = "invite"
REMIND = "remind"

def _now() -> datetime:
    return clock.utcnow()


def create(session: Session, models: Models, *, name: str, source: str, lang: str,
           graduates: Iterable[Graduate], problems: Sequence[RowProblem],
           institution: Organization, reminder_days: float, max_reminders: int,
           created_by: str | None = None, sender_name: str | None = None) -> Any:
    """Add a campaign and its people to the session (the caller commits). A graduate whose
    items ORCID would refuse, or who repeats a person, joins ``problems`` instead."""
    found = list(problems)
    campaign = models.Campaign(name=name[:255], source=source, lang=lang, status=ACTIVE,
                               created_by=created_by, sender_name=sender_name,
                               reminder_days=float(reminder_days),
                               max_reminders=int(max_reminders), rows_read=0)
    session.add(campaign)
    session.flush()
    seen: set[str] = set()
    read = len(found)
    for index, graduate in enumerate(graduates, start=1):
        read += 1
        where = graduate.line or index
        try:
            work, degree = build_items(graduate, institution)
        except ValidationError as exc:
            found.append(RowProblem(where, str(exc)))
            continue
        key = graduate.person_key
        if key.lower() in seen:
            found.append(RowProblem(where, f"{key} appears twice"))
            continue
        seen.add(key.lower())
        session.add(models.CampaignPerson(
            campaign_id=campaign.id, person_key=key[:255], line=graduate.line,
            name=graduate.name[:255], email=graduate.email.strip(),
            lang=(graduate.lang or lang or "en")[:8], typed_orcid=graduate.orcid,
            title=graduate.title, date=graduate.date[:10], degree=(graduate.degree or None),
            department=graduate.department, work_payload=json.dumps(work.to_dict()),
            work_key=graduate.work_key or f"campaign-thesis:{key}"[:255],
            degree_payload=json.dumps(degree.to_dict()) if degree is not None else None,
            degree_key=(graduate.degree_key or f"campaign-degree:{key}"[:255])
            if degree is not None else None,
            status=QUEUED, emails_sent=0, reminders_sent=0, send_failures=0))
    campaign.rows_read = read
    campaign.problems = json.dumps(sorted([p.line, p.message] for p in found)) if found else None
    return campaign


def problems_of(campaign: Any) -> list[RowProblem]:
    return [RowProblem(int(line), str(msg)) for line, msg in json.loads(campaign.problems or "[]")]


def due(session: Session, models: Models, *, campaign_id: int | None = None,
        limit: int = 1000) -> list[tuple[int, str, str]]:
    """``(person id, "invite" or "remind", status now)`` of the people of active campaigns
    whose next email is due, oldest first."""
    person, campaign = models.CampaignPerson, models.Campaign
    now = _now()
    query = (
        sa.select(person.id, person.status)
        .join(campaign, campaign.id == person.campaign_id)
        .where(campaign.status == ACTIVE,
               sa.or_(sa.and_(person.status == QUEUED,
                              sa.or_(person.next_action_at.is_(None),
                                     person.next_action_at <= now)),
                      sa.and_(person.status.in_(ANSWERABLE), person.next_action_at <= now)))
        .order_by(person.id).limit(limit)
    )
    if campaign_id is not None:
        query = query.where(person.campaign_id == campaign_id)
    return [(pid, INVITE if status == QUEUED else REMIND, status)
            for pid, status in session.execute(query)]


def claim(session: Session, models: Models, person_id: int, kind: str,
          from_status: str) -> str | None:
    """Take the person for one email: their claim, or None when another run took them or
    they answered meanwhile. One conditional UPDATE; the caller commits at once."""
    person = models.CampaignPerson
    token = secrets.token_hex(16)
    now = _now()
    result = session.execute(
        sa.update(person)
        .where(person.id == person_id, person.status == from_status,
               sa.or_(person.next_action_at.is_(None), person.next_action_at <= now))
        .values(status=SENDING, sending=kind, status_before=from_status, claim=token,
                claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    return token if rowcount(result) == 1 else None


def _after_send(person: Any, campaign: Any, now: datetime) -> None:
    """When to remind next (None: the last reminder went)."""
    if person.reminders_sent < campaign.max_reminders:
        person.next_action_at = now + timedelta(days=campaign.reminder_days)
    else:
        person.next_action_at = None


def record_sent(person: Any, campaign: Any) -> None:
    """The mail server took the email."""
    now = _now()
    if person.sending == REMIND:
        person.reminders_sent += 1
        person.status = REMINDED
    else:
        person.status = INVITED
    person.emails_sent += 1
    person.last_sent_at = now
    person.send_failures = 0
    person.reason = None
    _after_send(person, campaign, now)
    _release(person, now)


def record_refused(person: Any, reason: str) -> None:
    """The mail server refused the address for good (5xx): bounced, no more emails."""
    now = _now()
    person.status = BOUNCED
    person.reason = reason
    person.next_action_at = None
    _release(person, now)


def record_failure(person: Any, campaign: Any, reason: str, *, max_failures: int,
                   retry_seconds: float) -> None:
    """The email could not be handed over (no server, 4xx): try again later with a growing
    pause; after ``max_failures`` tries, a first email fails for good and a reminder is
    skipped."""
    now = _now()
    person.send_failures += 1
    person.reason = reason
    if person.send_failures < max_failures:
        person.status = person.status_before or QUEUED
        person.next_action_at = now + timedelta(
            seconds=retry_seconds * 2 ** (person.send_failures - 1))
    elif person.sending == REMIND:
        person.status = person.status_before or INVITED
        person.reminders_sent += 1
        person.send_failures = 0
        _after_send(person, campaign, now)
    else:
        person.status = FAILED
        person.reason = GAVE_UP.text(tries=max_failures, detail=reason)
        person.next_action_at = None
    _release(person, now)


def _release(person: Any, now: datetime) -> None:
    person.sending = person.claim = person.claimed_at = person.status_before = None
    person.updated_at = now


def recover_stale(session: Session, models: Models, lease_seconds: float) -> int:
    """People left ``sending`` by a run that stopped, their lease over. Without an invitation
    made yet nothing left: back to the queue. Otherwise the email may have gone: it counts as
    sent (never twice), with :data:`.campaign_reasons.UNCONFIRMED` as the reason. Not committed."""
    person, campaign = models.CampaignPerson, models.Campaign
    now = _now()
    rows = session.execute(
        sa.select(person, campaign).join(campaign, campaign.id == person.campaign_id)
        .where(person.status == SENDING,
               person.claimed_at < now - timedelta(seconds=lease_seconds))).all()
    for row, owner in rows:
        if row.sending == INVITE and row.invitation_id is None:
            row.status = QUEUED
            _release(row, now)
            continue
        record_sent(row, owner)
        row.reason = UNCONFIRMED.text()
    return len(rows)


def record_bounces(session: Session, models: Models, emails: Iterable[str],
                   reason: str) -> list[Any]:
    """Bounces reported after the email left (a mailer-daemon message): the people emailed
    at those addresses who have not answered become ``bounced``. Not committed."""
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    if not wanted:
        return []
    person = models.CampaignPerson
    rows = session.scalars(
        sa.select(person).where(sa.func.lower(person.email).in_(wanted),
                                person.status.in_(ANSWERABLE))).all()
    for row in rows:
        record_refused(row, reason)
    return list(rows)


def is_final(person: Any) -> bool:
    """Nothing more will happen unless the person acts (or an admin does)."""
    return person.status in FINAL or (person.status == CONNECTED and not person.opted_in)


def counts(session: Session, models: Models, campaign_id: int) -> dict[str, int]:
    """People per status (every status present, zero included)."""
    person = models.CampaignPerson
    result = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(
            sa.select(person.status, sa.func.count()).where(person.campaign_id == campaign_id)
            .group_by(person.status)):
        result[status] = n
    return result
