"""Claiming due outbox rows for one worker, and giving them back.

Claiming never holds a database transaction open during HTTP calls: a short transaction stamps
a lease (owner token + expiry) on up to ``limit`` due rows of one researcher (a researcher's
batch is never split between workers) and commits. On PostgreSQL the candidate rows are picked
with ``FOR UPDATE SKIP LOCKED`` so concurrent workers take different rows without waiting; on
SQLite a single conditional ``UPDATE`` does the same (SQLite serializes writers). A worker that
dies leaves its lease to expire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .clock import utcnow
from .models import Models
from .policy import Settings, backoff_delay, error_fields
from .results import Row
from .sql import rowcount
from .states import ACTIVE, FAILED, PENDING

__all__ = ["claim", "due", "release", "release_with_backoff"]


#: The states of a row still to do: the condition of the partial index ``ix_orcid_outbox_todo``.
TODO_STATES = (PENDING, FAILED)


def to_do(state: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """``state IN ('pending', 'failed')`` with the states as literals (the partial index's
    condition: a planner matches it only against the same literals, not parameters)."""
    return state.in_([sa.literal_column(f"'{s}'") for s in TODO_STATES])


def due(models: Models, now: datetime) -> sa.ColumnElement[bool]:
    """The condition of a row a worker may take now.

    Its researcher's connection is active and their record has no sync request waiting: a
    (re)connection asks for one, so the record is read and our items on it adopted before
    anything is posted (a reconnection would otherwise post the degree a second time).
    """
    Item, Account, RecordSync = models.Item, models.Account, models.RecordSync
    sync_waiting = sa.exists().where(RecordSync.orcid == Account.orcid,
                                     RecordSync.sync_requested_at.is_not(None))
    return sa.and_(
        to_do(Item.state),
        sa.or_(Item.next_attempt_at.is_(None), Item.next_attempt_at <= now),
        sa.or_(Item.lease_expires_at.is_(None), Item.lease_expires_at < now),
        sa.exists().where(Account.user_key == Item.user_key, Account.status == ACTIVE,
                          ~sync_waiting),
    )


def claim(session: Session, models: Models, token: str, *, limit: int,
          lease_seconds: float) -> tuple[list[Row], str | None]:
    """Lease up to ``limit`` due rows of one researcher under ``token``; commits at once.

    Returns the rows and their user key (``[], None`` when nothing is due).
    """
    Item = models.Item
    now = utcnow()
    condition = due(models, now)
    target = _target(session, models, condition, limit)
    if target is None:
        session.rollback()
        return [], None
    stamp = sa.update(Item).where(target, condition).values(
        lease_owner=token, lease_expires_at=now + timedelta(seconds=lease_seconds),
        last_attempt_at=now)
    if session.get_bind().dialect.update_returning:
        conn = session.connection(bind_arguments={"mapper": Item})
        result = conn.execute(stamp.returning(*_COLUMNS(Item)))
        # sqlite3 reports no columns for a RETURNING that matched no row
        rows = result.all() if result.returns_rows else []
        session.commit()
        return _snapshots(sorted(rows, key=lambda r: r.id))
    session.execute(stamp, execution_options={"synchronize_session": False})
    session.commit()
    return _leased(session, models, token)


def _target(session: Session, models: Models, condition: sa.ColumnElement[bool],
            limit: int) -> sa.ColumnElement[bool] | None:
    """The condition picking the rows to lease: the first due researcher's, up to ``limit``.

    None when nothing is due (PostgreSQL only: elsewhere the update simply matches nothing).
    """
    Item = models.Item
    if session.get_bind().dialect.name == "postgresql":
        first = session.execute(
            sa.select(Item.user_key).where(condition).order_by(Item.id).limit(1)
            .with_for_update(skip_locked=True, of=Item)
        ).first()
        if first is None:
            return None
        ids = session.scalars(
            sa.select(Item.id).where(condition, Item.user_key == first[0]).order_by(Item.id)
            .limit(limit).with_for_update(skip_locked=True, of=Item)
        ).all()
        return Item.id.in_(ids)
    # One statement: SQLite evaluates it under its write lock, so two workers can never
    # lease the same row.
    first_user = (sa.select(Item.user_key).where(condition).order_by(Item.id).limit(1)
                  .scalar_subquery())
    return Item.id.in_(
        sa.select(Item.id).where(condition, Item.user_key == first_user).order_by(Item.id)
        .limit(limit)
    )


def _COLUMNS(Item: Any) -> tuple[Any, ...]:  # noqa: N802 - a constant, per model class
    return (Item.id, Item.user_key, Item.kind, Item.key, Item.payload, Item.payload_hash,
            Item.retracted, Item.put_code, Item.written_hash, Item.attempts, Item.orcid,
            Item.earlier_self_ids)


def _leased(session: Session, models: Models, token: str) -> tuple[list[Row], str | None]:
    """Snapshots of the rows leased under ``token``, and their user key; commits."""
    Item = models.Item
    rows = session.execute(
        sa.select(*_COLUMNS(Item)).where(Item.lease_owner == token).order_by(Item.id)
    ).all()
    session.commit()
    return _snapshots(rows)


def _snapshots(rows: Sequence[Any]) -> tuple[list[Row], str | None]:
    """The rows as :class:`Row` snapshots, and their user key."""
    if not rows:
        return [], None
    return [
        Row(id=r.id, kind=r.kind, key=r.key, payload=r.payload,
            payload_hash=r.payload_hash, retracted=bool(r.retracted),
            put_code=r.put_code, written_hash=r.written_hash, attempts=r.attempts or 0,
            earlier_self_ids=r.earlier_self_ids)
        for r in rows
    ], rows[0].user_key


def release(session: Session, models: Models, token: str) -> None:
    """Give back every row still leased under ``token`` (for the next pass); commits."""
    Item = models.Item
    session.execute(
        sa.update(Item).where(Item.lease_owner == token)
        .values(lease_owner=None, lease_expires_at=None),
        execution_options={"synchronize_session": False},
    )
    session.commit()


def release_with_backoff(session: Session, models: Models, token: str, rows: list[Row],
                         settings: Settings, exc: BaseException) -> int:
    """Give back the rows still leased under ``token`` after an error that is not ORCID's
    (a token that cannot be decrypted, a bug): they become failed and wait a backoff, so one
    persistent error never spins a pass. Commits; returns how many rows."""
    Item = models.Item
    attempts = max((r.attempts for r in rows), default=0) + 1
    now = utcnow()
    result = session.execute(
        sa.update(Item).where(Item.lease_owner == token)
        .values(lease_owner=None, lease_expires_at=None, state=FAILED,
                attempts=Item.attempts + 1, updated_at=now,
                next_attempt_at=now + timedelta(seconds=backoff_delay(attempts, settings)),
                **error_fields(exc)),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    return rowcount(result)
