"""Blinker signals flask-orcid sends. They only notify: a receiver never steers the flow.

Every signal is sent with the Flask application as sender, and always with the same keyword
arguments:

- ``orcid_connected(app, account=..., user_key=..., reconnected=bool)`` after a successful
  callback has been committed;
- ``orcid_disconnected(app, orcid=..., user_key=...)`` after the connection's local data was
  deleted (tokens revoked at ORCID, or queued for revocation);
- ``orcid_denied(app, user_key=..., error_description=...)`` when the researcher clicked "Deny".
"""

from __future__ import annotations

import logging
from typing import Any

from blinker import Namespace, Signal

log = logging.getLogger(__name__)

_signals = Namespace()

orcid_connected = _signals.signal("orcid-connected")
orcid_disconnected = _signals.signal("orcid-disconnected")
orcid_denied = _signals.signal("orcid-denied")

# Outbox delivery, sent by the worker or reconciliation (possibly from a worker thread or
# process) through :func:`notify`, always with ``user_key=, key=, kind=, orcid=`` and:
# - item_synced: ``put_code=`` (the item is on the record in its latest version);
# - item_failed: ``error=`` (the exception), ``parked=`` (True: waits for a person);
# - item_removed_by_researcher: ``put_code=`` (the item the researcher deleted).
item_synced = _signals.signal("item-synced")
item_failed = _signals.signal("item-failed")
item_removed_by_researcher = _signals.signal("item-removed-by-researcher")

# Invitations (issue 15), always with ``invitation=``:
# - invitation_accepted: after the invitee's iD was committed; also ``account=`` (their
#   connection when they opted in to the work, else None);
# - invitation_declined: the invitee said no at ORCID.
invitation_accepted = _signals.signal("invitation-accepted")
invitation_declined = _signals.signal("invitation-declined")



def notify(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send ``signal``; a receiver that fails is logged and never breaks the caller's work."""
    try:
        signal.send(sender, **kwargs)
    except Exception:
        log.exception("a receiver of %s failed", getattr(signal, "name", signal))


__all__ = [
    "invitation_accepted",
    "invitation_declined",
    "item_failed",
    "item_removed_by_researcher",
    "item_synced",
    "orcid_connected",
    "orcid_denied",
    "notify",
    "orcid_disconnected",
]
