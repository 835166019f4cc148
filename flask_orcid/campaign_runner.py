"""The run step of the backfill campaigns: send what is due, remind on schedule, move every
person on; safe to run from several processes, from cron, and again after a crash.

One step (:func:`run_step`, ``flask orcid campaign run``, or a thread started from the admin
page) does, in order:

1. people left ``sending`` by a run that stopped are settled without sending anything
   (:func:`.sync.campaigns.recover_stale`);
2. every person is brought up to date from their invitation and the outbox
   (:func:`.sync.campaign_progress.advance`), which publishes the thesis and the degree of
   those who consented;
3. each person whose email is due is claimed (committed), their invitation made or its link
   renewed (committed), the email sent, and the outcome committed: invited or reminded,
   bounced on a 5xx refusal, or retried later with a growing pause.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask

from .campaign_mail import REFUSED, SENT, check_settings, send_campaign_email, sender_of
from .invitation_mail import signing_keys
from .state import get_state
from .sync import campaigns as cp
from .sync import clock
from .sync import invitations as inv
from .sync.campaign_progress import advance, advance_person

__all__ = ["StepResult", "on_invitation_answered", "run_step", "start_thread",
           "thread_running"]

log = logging.getLogger(__name__)

#: the subject of a campaign's invitations (``campaign:<id>``)
SUBJECT_PREFIX = "campaign:"


@dataclass
class StepResult:
    """What one run step did."""

    due: int = 0
    done: int = 0
    invited: int = 0
    reminded: int = 0
    bounced: int = 0
    failed: int = 0
    recovered: int = 0
    advanced: int = 0

    def line(self) -> str:
        return (f"{self.done}/{self.due} due emails handled: {self.invited} invited, "
                f"{self.reminded} reminded, {self.bounced} bounced, {self.failed} not sent; "
                f"{self.advanced} people moved on, {self.recovered} recovered")


def _ext() -> Any:
    return get_state().extension


def run_step(app: Flask, *, campaign_id: int | None = None, limit: int = 100_000,
             progress: Callable[[StepResult], None] | None = None) -> StepResult:
    """One step over every active campaign (or one); needs an app context."""
    check_settings(app)
    ext = _ext()
    session, models = ext.db.session, ext._models()
    cfg = app.config
    result = StepResult()
    result.recovered = cp.recover_stale(session, models,
                                        float(cfg["ORCID_CAMPAIGN_SEND_LEASE_SECONDS"]))
    session.commit()
    result.advanced = _advance(campaign_id)
    todo = cp.due(session, models, campaign_id=campaign_id, limit=limit)
    session.commit()
    result.due = len(todo)
    for person_id, kind, status in todo:
        _send_one(app, person_id, kind, status, result)
        result.done += 1
        if progress is not None:
            progress(result)
    result.advanced += _advance(campaign_id)
    _mark_finished(campaign_id)
    return result


def _advance(campaign_id: int | None) -> int:
    ext = _ext()
    changed = advance(ext.db.session, ext._models(), campaign_id=campaign_id)
    ext.db.session.commit()
    ext.wake_delivery()
    return changed


def _link(app: Flask, person: Any, campaign: Any) -> tuple[Any, str | None]:
    """The person's invitation and a fresh link token (None: it was answered or cancelled
    meanwhile). The first email makes the invitation; later ones renew its link."""
    ext = _ext()
    session, models = ext.db.session, ext._models()
    days = float(app.config["ORCID_INVITATION_DAYS"])
    if person.invitation_id is not None:
        invitation = session.get(models.Invitation, person.invitation_id)
        return invitation, inv.renew(session, invitation, keys=signing_keys(app), days=days)
    made = inv.create(session, models, keys=signing_keys(app),
                      subject=f"{SUBJECT_PREFIX}{campaign.id}", name=person.name,
                      email=person.email, days=days, person_key=person.person_key,
                      role="author", lang=person.lang, inviter_key=campaign.created_by,
                      inviter_name=sender_of(app, campaign), subject_title=person.title,
                      offer_work=True, typed_orcid=person.typed_orcid)
    session.flush()
    person.invitation_id = made.invitation.id
    return made.invitation, made.token


def _send_one(app: Flask, person_id: int, kind: str, status: str, result: StepResult) -> None:
    ext = _ext()
    session, models = ext.db.session, ext._models()
    if cp.claim(session, models, person_id, kind, status) is None:
        session.rollback()
        return  # another run took them, or they answered meanwhile
    session.commit()
    person = session.get(models.CampaignPerson, person_id)
    session.refresh(person)
    campaign = session.get(models.Campaign, person.campaign_id)
    invitation, token = _link(app, person, campaign)
    if token is None:  # answered or cancelled: nothing to send, the advance step decides
        person.status = person.status_before
        person.sending = person.claim = person.claimed_at = person.status_before = None
        person.next_action_at = None
        session.commit()
        return
    session.commit()  # the link works before the email leaves
    outcome = send_campaign_email(app, person, campaign, invitation, token,
                                  reminder=kind == cp.REMIND)
    inv.mark_sent(invitation, None if outcome.result == SENT else outcome.reason)
    if outcome.result == SENT:
        cp.record_sent(person, campaign)
        if kind == cp.REMIND:
            result.reminded += 1
        else:
            result.invited += 1
    elif outcome.result == REFUSED:
        cp.record_refused(person, outcome.reason or "refused")
        result.bounced += 1
    else:
        cp.record_failure(person, campaign, outcome.reason or "not sent",
                          max_failures=int(app.config["ORCID_CAMPAIGN_MAX_SEND_ATTEMPTS"]),
                          retry_seconds=float(app.config["ORCID_CAMPAIGN_RETRY_SECONDS"]))
        result.failed += 1
    session.commit()


def _mark_finished(campaign_id: int | None) -> None:
    """A campaign whose people are all settled is finished (and not, if one moves again)."""
    ext = _ext()
    session, models = ext.db.session, ext._models()
    query = sa.select(models.Campaign)
    if campaign_id is not None:
        query = query.where(models.Campaign.id == campaign_id)
    for campaign in session.scalars(query).all():
        people = session.scalars(sa.select(models.CampaignPerson).where(
            models.CampaignPerson.campaign_id == campaign.id)).all()
        done = all(cp.is_final(p) for p in people)
        if done and campaign.finished_at is None:
            campaign.finished_at = clock.utcnow()
        elif not done and campaign.finished_at is not None:
            campaign.finished_at = None
    session.commit()


def on_invitation_answered(app: Flask, invitation: Any, **_kw: Any) -> None:
    """Signal receiver (invitation accepted or declined): a campaign's person moves on at
    once, so the consent publishes the thesis and the degree without waiting for a step."""
    if not str(invitation.subject or "").startswith(SUBJECT_PREFIX):
        return
    ext = _ext()
    session, models = ext.db.session, ext._models()
    person = session.scalars(sa.select(models.CampaignPerson).where(
        models.CampaignPerson.invitation_id == invitation.id)).first()
    if person is None:
        return
    advance_person(session, models, person, session.get(models.Invitation, invitation.id))
    session.commit()
    ext.wake_delivery()


_threads: weakref.WeakKeyDictionary[Flask, threading.Thread] = weakref.WeakKeyDictionary()
_threads_lock = threading.Lock()


def thread_running(app: Flask) -> bool:
    thread = _threads.get(app)
    return thread is not None and thread.is_alive()


def start_thread(app: Flask, campaign_id: int | None = None) -> bool:
    """Run one step in a thread of this process (the admin page's "send now"); False when
    one is already running here. Other processes may run steps too: claims keep them apart."""
    with _threads_lock:
        if thread_running(app):
            return False

        def work() -> None:
            with app.app_context():
                try:
                    log.info("campaign step: %s", run_step(app, campaign_id=campaign_id).line())
                except Exception:  # noqa: BLE001 - a thread has nobody to raise to
                    log.exception("the campaign step failed")

        thread = threading.Thread(target=work, name="orcid-campaign", daemon=True)
        _threads[app] = thread
        thread.start()
        return True
