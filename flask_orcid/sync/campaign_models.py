"""The tables of the backfill campaigns (issue 16): ``orcid_campaigns`` and
``orcid_campaign_people``, defined on the host's ``db`` like every ``orcid_*`` table.

A campaign invites a list of past graduates (an uploaded CSV, or the host's own list) to
connect their iD and have their thesis and degree added to their record. Each person is one
row whose status moves as the run step sends emails and as the person answers; every step is
a conditional update of that row, so a run can stop anywhere and the next one carries on
(:mod:`.campaigns`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .clock import utcnow

__all__ = ["campaign_model", "campaign_person_model"]


def campaign_model(db: Any) -> Any:
    class Campaign(db.Model):
        """One backfill campaign: where its people came from and its reminder schedule."""

        __tablename__ = "orcid_campaigns"

        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(255), nullable=False)
        #: "csv" (an uploaded file) or "host" (the host's graduates hook)
        source = sa.Column(sa.String(16), nullable=False)
        #: the language of the emails unless a row names its own
        lang = sa.Column(sa.String(8), nullable=False, default="en")
        #: "active" (the run step works on it), "paused" or "finished"
        status = sa.Column(sa.String(16), nullable=False, default="active")
        created_by = sa.Column(sa.String(255))
        #: who the emails say is asking (the graduate school), else the site's name
        sender_name = sa.Column(sa.String(255))
        reminder_days = sa.Column(sa.Float, nullable=False)
        max_reminders = sa.Column(sa.Integer, nullable=False)
        #: rows read from the source, and the ones refused (JSON list of [line, message])
        rows_read = sa.Column(sa.Integer, nullable=False, default=0)
        problems = sa.Column(sa.Text)
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
        finished_at = sa.Column(sa.DateTime)

        def __repr__(self) -> str:
            return f"<ORCIDCampaign {self.id} {self.name!r} {self.status}>"

    return Campaign


def campaign_person_model(db: Any) -> Any:
    class CampaignPerson(db.Model):
        """One graduate of a campaign, their thesis and degree, and where they are."""

        __tablename__ = "orcid_campaign_people"
        __table_args__ = (
            sa.UniqueConstraint("campaign_id", "person_key", name="uq_orcid_campaign_person"),
            sa.Index("ix_orcid_campaign_people_status", "campaign_id", "status"),
            # the run step's "what is due" query
            sa.Index("ix_orcid_campaign_people_due", "status", "next_action_at"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        campaign_id = sa.Column(sa.Integer, sa.ForeignKey("orcid_campaigns.id"),
                                nullable=False)
        #: the host's key of the person, or ``csv:<email>`` for a row of an uploaded file
        person_key = sa.Column(sa.String(255), nullable=False)
        #: the CSV line the person came from (None: from the host)
        line = sa.Column(sa.Integer)
        name = sa.Column(sa.String(255), nullable=False)
        email = sa.Column(sa.String(254), nullable=False, index=True)
        lang = sa.Column(sa.String(8), nullable=False, default="en")
        typed_orcid = sa.Column(sa.String(19))
        #: what the emails and the admin page show of the thesis
        title = sa.Column(sa.Text, nullable=False)
        date = sa.Column(sa.String(10))
        degree = sa.Column(sa.String(255))
        department = sa.Column(sa.String(300))
        #: the work and the education affiliation (``to_dict()`` JSON) and their outbox keys
        work_payload = sa.Column(sa.Text, nullable=False)
        work_key = sa.Column(sa.String(255), nullable=False)
        degree_payload = sa.Column(sa.Text)
        degree_key = sa.Column(sa.String(255))
        #: :data:`.campaigns.STATUSES`; ``reason`` says why for failed, bounced, connected
        status = sa.Column(sa.String(16), nullable=False, default="queued")
        reason = sa.Column(sa.Text)
        invitation_id = sa.Column(sa.Integer)
        #: while ``sending``: what is being sent ("invite", "remind") and by which claim
        sending = sa.Column(sa.String(8))
        claim = sa.Column(sa.String(32))
        claimed_at = sa.Column(sa.DateTime)
        #: the status to go back to when a reminder cannot be sent
        status_before = sa.Column(sa.String(16))
        emails_sent = sa.Column(sa.Integer, nullable=False, default=0)
        reminders_sent = sa.Column(sa.Integer, nullable=False, default=0)
        #: failed attempts to hand the current email to the mail server (4xx, no server)
        send_failures = sa.Column(sa.Integer, nullable=False, default=0)
        #: when the run step should next look at this person (send, retry, remind)
        next_action_at = sa.Column(sa.DateTime)
        last_sent_at = sa.Column(sa.DateTime)
        orcid = sa.Column(sa.String(19))
        opted_in = sa.Column(sa.Boolean)
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
        answered_at = sa.Column(sa.DateTime)
        delivered_at = sa.Column(sa.DateTime)

        def __repr__(self) -> str:
            return f"<ORCIDCampaignPerson {self.id} {self.person_key!r} {self.status}>"

    return CampaignPerson
