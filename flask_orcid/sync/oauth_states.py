"""Server-side single use of the OAuth ``state`` (table ``orcid_oauth_states``).

The signed session cookie holds the states of the sign-ins in flight, but a browser can send an
earlier copy of its cookie (a replayed callback), or two callbacks at once: only the database
can say that a state was already spent. :func:`consume` is one conditional ``UPDATE`` whose row
count decides, so of two concurrent callbacks exactly one exchanges its code.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from .clock import utcnow
from .models import Models

__all__ = ["consume", "find", "mark_connected", "record"]

#: issued states are kept this long (well beyond ``ORCID_STATE_MAX_AGE``), then purged
KEEP = timedelta(days=1)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def record(session: Any, models: Models, state: str, user_key: str | None,
           invitation_id: int | None = None) -> None:
    """Remember a newly issued ``state`` (and purge old ones); commits. ``invitation_id``:
    the sign-in answers that invitation."""
    table = models.OAuthState
    session.execute(sa.delete(table).where(table.created_at < utcnow() - KEEP))
    session.add(table(state_hash=_hash(state), user_key=user_key, created_at=utcnow(),
                      invitation_id=invitation_id))
    session.commit()


def consume(session: Any, models: Models, state: str) -> bool:
    """Spend ``state``: True for the one caller that spent it, False if it was unknown or
    already spent. Atomic: a conditional UPDATE, decided by its row count; commits."""
    table = models.OAuthState
    result = session.execute(
        sa.update(table)
        .where(table.state_hash == _hash(state), table.consumed_at.is_(None))
        .values(consumed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)


def mark_connected(session: Any, models: Models, state: str, user_key: str) -> None:
    """Note that the sign-in of ``state`` linked an iD to ``user_key``; commits."""
    table = models.OAuthState
    session.execute(
        sa.update(table).where(table.state_hash == _hash(state))
        .values(connected_user_key=str(user_key))
        .execution_options(synchronize_session=False)
    )
    session.commit()


def find(session: Any, models: Models, state: str) -> Any:
    """The row of ``state``, or None."""
    return session.get(models.OAuthState, _hash(state))
