"""The emails of a backfill campaign: the first invitation and the reminders, in the person's
language, with a plain-text and an HTML part; and what the mail server said about them.

A refusal of the address for good (an SMTP 5xx for the recipient) is a bounce; anything else
that keeps the message from leaving (no server, a 4xx) is a failure to try again later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, render_template
from flask_babel import force_locale, format_date

from .errors import ConfigurationError
from .i18n import gettext as _
from .invitation_mail import invitation_link, site_name
from .mail import MailError, MailRefused, build_message, send_mail
from .site_urls import site_base_url, site_context

__all__ = ["SENT", "REFUSED", "FAILED", "SendOutcome", "check_settings", "send_campaign_email"]

log = logging.getLogger(__name__)

SENT = "sent"
REFUSED = "refused"
FAILED = "failed"


@dataclass(frozen=True)
class SendOutcome:
    """``sent``, ``refused`` (the address bounces) or ``failed`` (try later), and why."""

    result: str
    reason: str | None = None


def check_settings(app: Flask) -> None:
    """Fail before anyone is claimed when no email could be sent or linked (the sender and the
    site's public address are settings, not a person's problem)."""
    if app.config.get("ORCID_MAIL_BACKEND", "smtp") == "smtp" and not app.config.get(
            "ORCID_MAIL_SENDER"):
        raise ConfigurationError(
            "Set ORCID_MAIL_SENDER to the address campaign emails come from, for example "
            "'Graduate School <etd@example.edu>'.")
    site_base_url(app)


def _year(person: Any) -> str:
    return (person.date or "")[:4]


def sender_of(app: Flask, campaign: Any) -> str:
    return str(campaign.sender_name or site_name(app))


def send_campaign_email(app: Flask, person: Any, campaign: Any, invitation: Any,
                        token: str, *, reminder: bool) -> SendOutcome:
    """Render and send one campaign email with the link of ``token``."""
    with site_context(app), force_locale(person.lang):
        sender = sender_of(app, campaign)
        subject = (_("Reminder: add your thesis to your ORCID record") if reminder
                   else _("Add your thesis to your ORCID record"))
        context = {
            "person": person, "reminder": reminder, "sender": sender, "subject": subject,
            "year": _year(person), "link": invitation_link(app, token),
            "expires": format_date(invitation.expires_at, format="long"),
            "support_email": current_app.config.get("ORCID_SUPPORT_EMAIL"),
        }
        text = render_template("orcid/campaign_email.txt", **context)
        html = render_template("orcid/campaign_email.html", **context)
    try:
        send_mail(build_message(person.email, subject, text, html,
                                reply_to=context["support_email"], lang=person.lang))
    except MailRefused as exc:
        log.info("campaign %s: the address of person %s bounced (%s)", campaign.id, person.id,
                 exc.code)
        return SendOutcome(REFUSED, str(exc))
    except (MailError, ConfigurationError) as exc:
        log.warning("campaign %s: email to person %s not sent: %s", campaign.id, person.id,
                    exc)
        return SendOutcome(FAILED, str(exc))
    return SendOutcome(SENT)
