"""The life of an invitation (table ``orcid_invitations``), without a request.

An invitation asks one person, by email, to prove their iD through ORCID for one of the host's
subjects (a thesis). Its link carries a random token with an HMAC tag: the tag is checked
first (a forged or mangled link is refused without a query), and only the token's SHA-256 is
stored, so the table cannot be used to rebuild a link. A resend replaces the token (the older
link stops working) and restarts the expiry.

States (:mod:`.states`): ``unsent`` → ``sent`` → ``opened`` → ``authenticated``, or
``declined`` (the invitee said no at ORCID; the link keeps working until it expires, so they
can change their mind), ``expired`` (read as such once past ``expires_at``), ``cancelled`` (by
the inviter). Answering is one conditional ``UPDATE`` whose row count decides, so a link is
spent once even when two browsers finish at the same moment.

Times come from :func:`.clock.utcnow` through the module (tests move the clock by patching
``flask_orcid.sync.clock.utcnow``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ValidationError
from . import clock
from .models import Models
from .sql import rowcount
from .states import (
    INVITATION_ANSWERABLE,
    INVITATION_AUTHENTICATED,
    INVITATION_CANCELLED,
    INVITATION_DECLINED,
    INVITATION_EXPIRED,
    INVITATION_OPENED,
    INVITATION_SENT,
    INVITATION_UNSENT,
)

__all__ = [
    "DEFAULT_DAYS",
    "NewInvitation",
    "accept",
    "cancel",
    "create",
    "decline",
    "effective_status",
    "find_by_token",
    "for_subject",
    "INVITEE_KEY_PREFIX",
    "invitee_key",
    "is_invitee_key",
    "mark_opened",
    "mark_sent",
    "renew",
    "sign",
    "split_name",
    "token_hash",
    "verify",
]

#: The user key of an invitee's connection (``orcid_accounts.user_key``, the outbox's
#: ``user_key``): the iD after a prefix no host key may start with (:class:`~flask_orcid.ORCID`
#: refuses a signed-in user whose key does), so it can never name one of the host's users.
INVITEE_KEY_PREFIX = "orcid-invitee:"


def invitee_key(orcid: str) -> str:
    return f"{INVITEE_KEY_PREFIX}{orcid}"


def is_invitee_key(user_key: str | None) -> bool:
    return bool(user_key) and str(user_key).startswith(INVITEE_KEY_PREFIX)


#: how long a link works unless the site says otherwise (``ORCID_INVITATION_DAYS``)
DEFAULT_DAYS = 14
_TAG_BYTES = 12


def _now() -> datetime:
    return clock.utcnow()


def token_hash(token: str) -> str:
    """What the table keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _tag(key: bytes, token: str) -> str:
    digest = hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign(token: str, keys: Sequence[bytes]) -> str:
    """The link's form of ``token``: ``token.tag``, tagged with the first key."""
    return f"{token}.{_tag(keys[0], token)}"


def verify(signed: str, keys: Sequence[bytes]) -> str | None:
    """The token inside a link, or None when no key made its tag (forged, mangled, or made
    before every key it could be checked with was retired)."""
    if not isinstance(signed, str) or signed.count(".") != 1 or len(signed) > 200:
        return None
    token, tag = signed.split(".")
    if not token or not any(hmac.compare_digest(_tag(k, token), tag) for k in keys):
        return None
    return token


def split_name(name: str) -> tuple[str | None, str | None]:
    """Given and family names for ORCID's registration form, from one name: the last word is
    taken as the family name. Only a prefill the person corrects on ORCID's page; a host that
    knows the parts passes them instead."""
    words = name.split()
    if len(words) < 2:
        return (words[0] if words else None), None
    return " ".join(words[:-1]), words[-1]


@dataclass(frozen=True)
class NewInvitation:
    """What :func:`create` made: the row, and the link token to put in the email (the only
    place it exists)."""

    invitation: Any
    token: str


def _fresh_token(keys: Sequence[bytes]) -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return sign(token, keys), token_hash(token)


def create(session: Session, models: Models, *, keys: Sequence[bytes], subject: str,
           name: str, email: str, days: float = DEFAULT_DAYS, **fields: Any) -> NewInvitation:
    """Add an invitation to the session (status ``unsent`` until :func:`mark_sent`); the
    caller commits. ``fields`` are further columns (``role``, ``lang``, ``inviter_key``, ...)."""
    name, email = (name or "").strip(), (email or "").strip()
    if not subject or not name:
        raise ValidationError("An invitation needs a subject and the person's name.", "name")
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise ValidationError("An invitation needs a valid email address.", "email")
    if not fields.get("given_names") and not fields.get("family_names"):
        fields["given_names"], fields["family_names"] = split_name(name)
    signed, digest = _fresh_token(keys)
    now = _now()
    row = models.Invitation(subject=subject, name=name[:255], email=email, token_hash=digest,
                            status=INVITATION_UNSENT, send_count=0, created_at=now,
                            updated_at=now, expires_at=now + timedelta(days=days), **fields)
    session.add(row)
    return NewInvitation(row, signed)


def renew(session: Session, invitation: Any, *, keys: Sequence[bytes],
          days: float = DEFAULT_DAYS) -> str | None:
    """A new link for a resend: new token, new expiry, status ``unsent`` until sent again.
    None (nothing changed) when the invitation was answered or cancelled. The caller commits."""
    if invitation.status in (INVITATION_AUTHENTICATED, INVITATION_CANCELLED):
        return None
    signed, digest = _fresh_token(keys)
    now = _now()
    invitation.token_hash = digest
    invitation.expires_at = now + timedelta(days=days)
    invitation.status = INVITATION_UNSENT
    invitation.opened_at = invitation.answered_at = None
    invitation.updated_at = now
    return signed


def mark_sent(invitation: Any, error: str | None = None) -> None:
    """Record the outcome of sending the email (``error``: why it failed)."""
    now = _now()
    invitation.updated_at = now
    invitation.last_error = error
    if error is None:
        invitation.status = INVITATION_SENT
        invitation.sent_at = now
        invitation.send_count = (invitation.send_count or 0) + 1


def find_by_token(session: Session, models: Models, signed: str,
                  keys: Sequence[bytes]) -> Any:
    """The invitation a link belongs to, or None (forged, mangled, or replaced by a resend)."""
    token = verify(signed, keys)
    if token is None:
        return None
    table = models.Invitation
    return session.scalars(sa.select(table).where(table.token_hash == token_hash(token))).first()


def effective_status(invitation: Any, now: datetime | None = None) -> str:
    """The status as the inviter and the invitee read it: an unanswered invitation past its
    expiry is ``expired`` whatever is stored."""
    now = now or _now()
    if invitation.status in INVITATION_ANSWERABLE and invitation.expires_at <= now:
        return INVITATION_EXPIRED
    return str(invitation.status)


def mark_opened(invitation: Any) -> None:
    """The invitee followed the link (kept the first time only)."""
    if invitation.status in (INVITATION_SENT, INVITATION_UNSENT):
        now = _now()
        invitation.status = INVITATION_OPENED
        invitation.opened_at = invitation.opened_at or now
        invitation.updated_at = now


def accept(session: Session, models: Models, invitation_id: int, orcid: str, *,
           opted_in: bool, account_key: str | None) -> bool:
    """Spend the invitation for ``orcid``: True for the one caller that did, False when it was
    answered, cancelled or expired in the meantime. One conditional UPDATE; not committed."""
    table = models.Invitation
    now = _now()
    result = session.execute(
        sa.update(table)
        .where(table.id == invitation_id, table.status.in_(INVITATION_ANSWERABLE),
               table.expires_at > now)
        .values(status=INVITATION_AUTHENTICATED, orcid=orcid, opted_in=opted_in,
                account_key=account_key, answered_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    spent = rowcount(result) == 1
    if spent:
        row = session.get(table, invitation_id)
        if row is not None:
            session.refresh(row)
    return spent


def decline(invitation: Any) -> bool:
    """The invitee said no at ORCID; the link keeps working until it expires."""
    if invitation.status not in INVITATION_ANSWERABLE:
        return False
    now = _now()
    invitation.status = INVITATION_DECLINED
    invitation.answered_at = now
    invitation.updated_at = now
    return True


def cancel(invitation: Any) -> bool:
    """The inviter withdrew the invitation: its link stops working. False when it was already
    answered with an iD or cancelled."""
    if invitation.status in (INVITATION_AUTHENTICATED, INVITATION_CANCELLED):
        return False
    now = _now()
    invitation.status = INVITATION_CANCELLED
    invitation.cancelled_at = now
    invitation.updated_at = now
    return True


def for_subject(session: Session, models: Models, subject: str,
                person_key: str | None = None) -> list[Any]:
    """The invitations of ``subject`` (of one person, with ``person_key``), oldest first."""
    table = models.Invitation
    query = sa.select(table).where(table.subject == subject)
    if person_key is not None:
        query = query.where(table.person_key == person_key)
    return list(session.scalars(query.order_by(table.id)))

