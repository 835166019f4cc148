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

__all__ = ["orcid_connected", "orcid_denied", "orcid_disconnected"]
