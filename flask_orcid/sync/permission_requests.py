"""Permission requests in researchers' ORCID inboxes (table ``orcid_permission_requests``).

A request carries a link back to this site with a random token; only its SHA-256 is stored.
The token is good until the request expires and is spent when a connection is made through
it (:func:`take` is one conditional UPDATE, so two tabs cannot both use it).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from .clock import utcnow
from .models import Models

__all__ = ["CONNECTED", "FAILED", "SENDING", "SENT", "create", "find_valid", "for_orcid",
           "mark_connected", "mark_failed", "mark_sent"]

SENDING = "sending"
SENT = "sent"
CONNECTED = "connected"
FAILED = "failed"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Any, models: Models, orcid: str, user_key: str | None, reason: str,
           max_age: timedelta) -> tuple[Any, str]:
    """A new request (status ``sending``) and its link token; commits."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = models.PermissionRequest(
        orcid=orcid, user_key=None if user_key is None else str(user_key), reason=reason[:32],
        token_hash=_hash(token), status=SENDING, created_at=now, expires_at=now + max_age)
    session.add(row)
    session.commit()
    return row, token


def mark_sent(session: Any, row: Any, put_code: int) -> None:
    row.status, row.put_code, row.error = SENT, put_code, None
    session.commit()


def mark_failed(session: Any, row: Any, error: str) -> None:
    row.status, row.error = FAILED, error[:2000]
    session.commit()


def find_valid(session: Any, models: Models, token: str) -> Any:
    """The sent, unexpired request of ``token``; None otherwise."""
    table = models.PermissionRequest
    return session.execute(
        sa.select(table).where(table.token_hash == _hash(token), table.status == SENT,
                               table.expires_at > utcnow())
    ).scalar_one_or_none()


def mark_connected(session: Any, models: Models, token: str) -> bool:
    """Spend ``token``: True for the one caller that did; commits."""
    table = models.PermissionRequest
    result = session.execute(
        sa.update(table).where(table.token_hash == _hash(token), table.status == SENT)
        .values(status=CONNECTED, connected_at=utcnow())
        .execution_options(synchronize_session=False))
    session.commit()
    return bool(result.rowcount == 1)


def for_orcid(session: Any, models: Models, orcid: str) -> list[Any]:
    table = models.PermissionRequest
    return list(session.execute(
        sa.select(table).where(table.orcid == orcid).order_by(table.id)).scalars())
