"""Permission requests through ORCID's inbox: ask a researcher whose email bounced, or who
revoked this site's access, to connect again (notification-permission, issue 16).

ORCID shows the request in the researcher's inbox with a button to ``authorization_url``:
here a link to this site (``/orcid/inbox/<token>``, :mod:`.inbox_flow`) that starts ORCID's
authorize flow for the iD it was sent to. Only premium members hold the
``/premium-notification`` scope, so the feature stays off until ``ORCID_PREMIUM_NOTIFICATIONS``
says ORCID granted it. What was sent is kept in ``orcid_permission_requests``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import timedelta
from typing import Any

from flask import current_app, url_for

from .errors import ConfigurationError, ORCIDError
from .i18n import gettext as _
from .protocol.client import ORCIDClient
from .protocol.notifications import NotificationItem, PermissionNotification
from .protocol.paths import check_orcid
from .state import get_state
from .sync import outbox as ob
from .sync import permission_requests as requests_table

__all__ = ["PREMIUM_SCOPE", "request_permission"]

log = logging.getLogger(__name__)

PREMIUM_SCOPE = "/premium-notification"
#: items listed in one request (ORCID shows them as examples of what the site would add)
MAX_ITEMS = 10

_lock = threading.Lock()
_tokens: weakref.WeakKeyDictionary[ORCIDClient, str] = weakref.WeakKeyDictionary()


def _premium_token(client: ORCIDClient, fresh: bool = False) -> str:
    """One ``/premium-notification`` client token per client, reused (API-FACTS §2.7)."""
    with _lock:
        token = None if fresh else _tokens.get(client)
        if token is None:
            token = client.client_credentials(PREMIUM_SCOPE)["access_token"]
            _tokens[client] = token
        return token


def _enabled() -> None:
    if not current_app.config.get("ORCID_PREMIUM_NOTIFICATIONS"):
        raise ConfigurationError(
            "ORCID inbox permission requests are off. They need the /premium-notification "
            "scope, which ORCID grants to premium members only: once ORCID has granted it to "
            "your client, set ORCID_PREMIUM_NOTIFICATIONS = True.")


def _link(token: str) -> str:
    base = current_app.config.get("ORCID_SITE_URL")
    path = url_for("orcid.inbox_start", token=token, _external=not base)
    return f"{str(base).rstrip('/')}{path}" if base else path


def _items(user_key: str | None) -> list[NotificationItem]:
    if user_key is None:
        return []
    ext = get_state().extension
    out = []
    for row in ob.items_for(ext.db.session, ext._models(), str(user_key))[:MAX_ITEMS]:
        item = row.item()
        name = getattr(item, "title", None) or " · ".join(
            p for p in (getattr(item, "role_title", None),
                        getattr(getattr(item, "organization", None), "name", None)) if p)
        out.append(NotificationItem(getattr(item, "section", None) or row.kind, name[:1000]))
    return out


def request_permission(orcid_id: str, *, user_key: str | None = None, reason: str = "revoked",
                       subject: str | None = None, intro: str | None = None,
                       items: list[NotificationItem] | None = None) -> Any:
    """Put a permission request in ``orcid_id``'s ORCID inbox; returns the stored request.

    ``user_key`` is the host user the connection will belong to (else the host's sign-in
    handler decides); ``items`` default to that user's outbox items. Raises
    :class:`~flask_orcid.ConfigurationError` while ``ORCID_PREMIUM_NOTIFICATIONS`` is off, and
    ORCID's refusals as :class:`~flask_orcid.APIError` (recorded as ``failed``).
    """
    _enabled()
    check_orcid(orcid_id)
    listed = list(items) if items is not None else _items(user_key)
    if not listed:
        raise ValueError("A permission request lists at least one item the site would add; "
                         "pass items= or give a user_key with items in the outbox.")
    ext = get_state().extension
    session, models = ext.db.session, ext._models()
    days = float(current_app.config.get("ORCID_PERMISSION_REQUEST_DAYS") or 30)
    row, token = requests_table.create(session, models, orcid_id, user_key, reason,
                                       timedelta(days=days))
    notification = PermissionNotification(
        authorization_url=_link(token),
        subject=subject or _("your thesis and degree"),
        intro=intro or _("We would like to connect your ORCID iD to your account with us "
                         "again, so that we can keep the items below up to date on your "
                         "ORCID record. Follow the link to grant access; you can revoke it "
                         "at any time from your ORCID account."),
        items=listed)
    client = ext.api_client()
    try:
        try:
            put_code = client.add_permission_notification(orcid_id, _premium_token(client),
                                                          notification)
        except ORCIDError as exc:
            if getattr(exc, "status", None) != 401:
                raise
            # our client token was revoked at ORCID: one fresh token, once
            put_code = client.add_permission_notification(
                orcid_id, _premium_token(client, fresh=True), notification)
    except ORCIDError as exc:
        requests_table.mark_failed(session, row, f"{type(exc).__name__}: {exc}")
        log.warning("permission request to %s failed: %s", orcid_id, type(exc).__name__)
        raise
    requests_table.mark_sent(session, row, put_code)
    log.info("permission request %s sent to %s (put-code %s)", row.id, orcid_id, put_code)
    return row
