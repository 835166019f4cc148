"""Blinker signals flask-orcid sends. They only notify: a receiver never steers the flow.

Every signal is sent with the Flask application as sender:

- ``orcid_connected(app, account=..., user_key=..., reconnected=bool)`` after a successful
  callback has been committed;
- ``orcid_disconnected(app, orcid=..., user_key=...)`` after the connection's local data was
  deleted (tokens revoked at ORCID, or queued for revocation);
- ``orcid_denied(app, user_key=..., error_description=...)`` when the researcher clicked "Deny".
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

orcid_connected = _signals.signal("orcid-connected")
orcid_disconnected = _signals.signal("orcid-disconnected")
orcid_denied = _signals.signal("orcid-denied")

# Outbox delivery (sent by the worker, possibly from a worker thread or process), with
# user_key=, key=, kind=, orcid= and put_code= / error=, parked=:
item_synced = _signals.signal("item-synced")
item_failed = _signals.signal("item-failed")
item_removed_by_researcher = _signals.signal("item-removed-by-researcher")

__all__ = [
    "item_failed",
    "item_removed_by_researcher",
    "item_synced",
    "orcid_connected",
    "orcid_denied",
    "orcid_disconnected",
]
