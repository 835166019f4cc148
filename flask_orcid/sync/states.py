"""The states a connection and an outbox row can be in, and why a row is parked.

Plain strings, stored as they are; compare with these names, never with the literals.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE",
    "FAILED",
    "INVALID",
    "INVITATION_ANSWERABLE",
    "INVITATION_AUTHENTICATED",
    "INVITATION_CANCELLED",
    "INVITATION_DECLINED",
    "INVITATION_EXPIRED",
    "INVITATION_OPENED",
    "INVITATION_SENT",
    "INVITATION_STATUSES",
    "INVITATION_UNSENT",
    "PARKED",
    "PARK_AUTH",
    "PARK_CONFLICT",
    "PARK_DEACTIVATED",
    "PARK_GAVE_UP",
    "PARK_LOCKED",
    "PARK_MOVED",
    "PARK_REJECTED",
    "PARK_SCOPE",
    "PENDING",
    "REMOVED",
    "RESUME_ON_RECONNECT",
    "STATES",
    "SYNCED",
]

#: Connection states.
ACTIVE = "active"
INVALID = "invalid"

#: Row states.
PENDING = "pending"
SYNCED = "synced"
FAILED = "failed"
PARKED = "parked"
REMOVED = "removed_by_researcher"
STATES = (PENDING, SYNCED, FAILED, PARKED, REMOVED)

#: Why a row is parked. ``auth`` and ``scope`` rows resume by themselves when the researcher
#: reconnects; the others wait for an admin's ``retry`` or a new ``publish``.
PARK_AUTH = "auth"
PARK_SCOPE = "scope"
PARK_REJECTED = "rejected"
PARK_GAVE_UP = "gave_up"
PARK_CONFLICT = "conflict"
#: The researcher's record is locked by ORCID (409/9018) or deactivated (409/9044).
PARK_LOCKED = "record_locked"
PARK_DEACTIVATED = "record_deactivated"
#: The record was deprecated or merged into a primary one (9007): the rows now belong to the
#: primary iD and resume when the researcher connects it.
PARK_MOVED = "record_moved"
RESUME_ON_RECONNECT = (PARK_AUTH, PARK_SCOPE, PARK_MOVED)

#: Invitation states. ``unsent``: the email could not be sent (the inviter may resend);
#: ``declined``: the invitee said no at ORCID (the link still works until it expires, so they
#: can change their mind); ``expired`` is also what an unanswered invitation past its expiry
#: reads as, before anything stored it.
INVITATION_UNSENT = "unsent"
INVITATION_SENT = "sent"
INVITATION_OPENED = "opened"
INVITATION_AUTHENTICATED = "authenticated"
INVITATION_DECLINED = "declined"
INVITATION_EXPIRED = "expired"
INVITATION_CANCELLED = "cancelled"
INVITATION_STATUSES = (INVITATION_UNSENT, INVITATION_SENT, INVITATION_OPENED,
                       INVITATION_AUTHENTICATED, INVITATION_DECLINED, INVITATION_EXPIRED,
                       INVITATION_CANCELLED)
#: the states in which the link still starts ORCID's sign-in (until it expires)
INVITATION_ANSWERABLE = (INVITATION_SENT, INVITATION_OPENED, INVITATION_DECLINED,
                         INVITATION_UNSENT)
