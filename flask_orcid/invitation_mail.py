"""Making and sending invitations: the rows of :mod:`.sync.invitations` and their emails.

Works with or without a request (a campaign run from the CLI): links are built from the site's
public root (:mod:`.site_urls`) and the message is rendered in the invitation's language, the
inviter's choice. The row is committed before the email leaves, so the link works as soon as
it arrives; what sending did (or why it failed) is committed afterwards.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template
from flask_babel import force_locale, format_date

from .errors import ConfigurationError, ValidationError
from .i18n import LOCALES
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .mail import MailError, build_message, send_mail
from .protocol.identifiers import parse_orcid_id
from .site_urls import external_url, site_base_url, site_context
from .state import UserInfo, current_flask_app
from .sync import invitations as inv
from .sync.models import Models

__all__ = ["ROLE_LABELS", "create_invitation", "invitation_link", "role_label",
           "send_invitation", "signing_keys", "site_name"]

log = logging.getLogger(__name__)

#: How the emails and pages name the roles the sample uses (a host's own roles show as given).
ROLE_LABELS = {
    "advisor": _l("advisor"),
    "committee_member": _l("committee member"),
    "co_author": _l("co-author"),
    # a backfill campaign's graduates, and record holders invited from the people page
    "author": _l("author"),
    "researcher": _l("researcher"),
}


def role_label(role: str | None) -> str:
    if not role:
        return _("contributor")
    label = ROLE_LABELS.get(role)
    return str(label) if label is not None else role.replace("_", " ")


def signing_keys(app: Flask) -> list[bytes]:
    """The keys that tag invitation links: ``SECRET_KEY`` first (new links), then Flask's
    ``SECRET_KEY_FALLBACKS`` (links sent before a key rotation keep working)."""
    keys = [app.config["SECRET_KEY"], *(app.config.get("SECRET_KEY_FALLBACKS") or ())]
    return [k.encode("utf-8") if isinstance(k, str) else bytes(k) for k in keys if k]


def site_name(app: Flask) -> str:
    """The site as the emails and pages name it (``ORCID_SITE_NAME``, else its host name)."""
    name = app.config.get("ORCID_SITE_NAME")
    return str(name) if name else urlsplit(site_base_url(app)).netloc


def invitation_link(app: Flask, token: str) -> str:
    return external_url(app, "orcid_invitations.show", token=token)


def _language(lang: str | None) -> str:
    lang = (lang or "en").replace("-", "_").split("_")[0].lower()
    return lang if lang in ("en", *LOCALES) else "en"


def create_invitation(session: Any, models: Models, *, subject: str, name: str, email: str,
                      inviter: UserInfo | str | None = None, inviter_name: str | None = None,
                      typed_orcid: str | None = None, lang: str | None = "en",
                      send: bool = True, **fields: Any) -> Any:
    """Add, commit and (with ``send``) email one invitation; returns the row."""
    app = current_flask_app()
    inviter_key = inviter.key if isinstance(inviter, UserInfo) else inviter
    if inviter_name is None and isinstance(inviter, UserInfo):
        inviter_name = " ".join(p for p in (inviter.given_names, inviter.family_names) if p)
    try:
        typed = parse_orcid_id(typed_orcid) if typed_orcid else None
    except ValueError:
        typed = None
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 255:
        raise ValidationError("invite() needs the subject's key, e.g. 'thesis:42'.", "subject")
    made = inv.create(session, models, keys=signing_keys(app), subject=subject, name=name,
                      email=email, days=float(app.config["ORCID_INVITATION_DAYS"]),
                      inviter_key=str(inviter_key) if inviter_key is not None else None,
                      inviter_name=(inviter_name or None), typed_orcid=typed,
                      lang=_language(lang), **fields)
    session.commit()
    log.info("invitation %s made for %s", made.invitation.id, made.invitation.subject)
    if send:
        send_invitation(made.invitation, made.token)
        session.commit()
    return made.invitation


def send_invitation(invitation: Any, token: str) -> str | None:
    """Render and send the email of ``invitation`` with the link of ``token``; record the
    outcome on the row (not committed). Returns why it failed, or None."""
    app = current_flask_app()
    with site_context(app), force_locale(invitation.lang):
        context = {
            "invitation": invitation,
            "link": invitation_link(app, token),
            "site": site_name(app),
            "inviter": invitation.inviter_name or site_name(app),
            "role": role_label(invitation.role),
            "expires": format_date(invitation.expires_at, format="long"),
            "support_email": current_app.config.get("ORCID_SUPPORT_EMAIL"),
        }
        subject = _("%(inviter)s asks you to confirm your ORCID iD", inviter=context["inviter"])
        text = render_template("orcid/invitation_email.txt", **context)
        html = render_template("orcid/invitation_email.html", **context)
    error = None
    try:
        message = build_message(invitation.email, subject, text, html,
                                reply_to=context["support_email"], lang=invitation.lang)
        send_mail(message)
    except (MailError, ConfigurationError) as exc:
        error = str(exc)
        log.warning("invitation %s could not be sent: %s", invitation.id, error)
    inv.mark_sent(invitation, error)
    return error
