"""The researcher's say before anything is sent: approving and declining outbox items.

A site chooses with ``ORCID_APPROVAL`` whether items wait for the researcher's approval before
their first delivery (``required``) or go out unless the researcher declines them first
(``optional``, the default). The gate is the row's state, not a condition of the claim: a row
waiting for approval is ``awaiting_approval`` and a declined one ``declined``, both outside the
states a worker claims (:data:`.claim.TODO_STATES`, the condition of the partial index
``ix_orcid_outbox_todo``), so no path that sends (a pass, a bulk POST, Celery, a resumed or
retried row) can see them, and claiming stays an indexed lookup.

The decision itself lives in the row's ``approval`` column and outlives new versions of the
item: :func:`.outbox.publish` puts a declined item back in ``declined`` whatever changed.
Decisions are about the first delivery only. An item already on the record (it has a
put-code) is past deciding: the researcher deletes it at ORCID (it is then never sent again
unless they ask) or the site retracts it.
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ConfigurationError
from .clock import utcnow
from .models import Models
from .sql import rowcount
from .states import (
    APPROVAL_MODES,
    APPROVAL_REQUIRED,
    APPROVED,
    AWAITING,
    DECLINED,
    FAILED,
    PARKED,
    PENDING,
)

__all__ = [
    "Decision",
    "approve",
    "check_mode",
    "decline",
    "held_state",
    "initial_state",
    "pending_approval",
    "undelivered",
]

#: States of a row never delivered that a decision can change.
_UNSENT = (PENDING, FAILED, PARKED, AWAITING, DECLINED)


class Decision(enum.StrEnum):
    """What :func:`approve` or :func:`decline` did."""

    #: the decision is recorded (and the row's state follows it)
    DONE = "done"
    #: the row already carried that decision
    UNCHANGED = "unchanged"
    #: the item is on the record already: deciding is over (delete it at ORCID instead)
    ALREADY_SENT = "already_sent"
    #: a worker is sending it right now; try again in a moment
    BEING_SENT = "being_sent"
    #: no such item for this researcher (or it was retracted by the site)
    NOT_FOUND = "not_found"


def check_mode(mode: object) -> str:
    """``ORCID_APPROVAL`` as given, or ConfigurationError naming the choices."""
    if mode not in APPROVAL_MODES:
        raise ConfigurationError(
            f"ORCID_APPROVAL is {mode!r}; set it to 'optional' (items go to ORCID unless the "
            "researcher declines them first) or 'required' (items wait for the researcher's "
            "approval before they are first sent)."
        )
    return str(mode)


def initial_state(mode: str, approved: bool) -> str:
    """The state of a new row: it waits for approval only when the site requires it."""
    return AWAITING if mode == APPROVAL_REQUIRED and not approved else PENDING


def held_state(row: Any, mode: str) -> str | None:
    """The state a never-delivered row is held in by its decision and the site's mode, or
    None when it may go (a row with a put-code was delivered: it is never held)."""
    if row.put_code is not None:
        return None
    if row.approval == DECLINED:
        return DECLINED
    if mode == APPROVAL_REQUIRED and row.approval != APPROVED:
        return AWAITING
    return None


def pending_approval(session: Session, models: Models, user_key: str) -> list[Any]:
    """The researcher's items waiting for their approval, oldest first."""
    Item = models.Item
    return list(session.scalars(
        sa.select(Item).where(Item.user_key == user_key, Item.state == AWAITING,
                              Item.retracted.is_(False)).order_by(Item.id)))


def undelivered(session: Session, models: Models, user_key: str) -> list[Any]:
    """Every item of the researcher not yet on the record that a decision still concerns:
    waiting for approval, declined, or on its way (which they may still decline)."""
    Item = models.Item
    return list(session.scalars(
        sa.select(Item).where(Item.user_key == user_key, Item.state.in_(_UNSENT),
                              Item.put_code.is_(None), Item.retracted.is_(False))
        .order_by(Item.id)))


def _row(session: Session, models: Models, user_key: str, kind: str, key: str) -> Any:
    Item = models.Item
    return session.scalars(
        sa.select(Item).where(Item.user_key == user_key, Item.kind == kind, Item.key == key)
        .execution_options(populate_existing=True)).first()


def approve(session: Session, models: Models, user_key: str, kind: str, key: str) -> Decision:
    """The researcher agrees that the item goes to their record (the caller commits).

    A row waiting for approval, or declined earlier, becomes due; a row on its way keeps
    going and remembers the consent.
    """
    return _decide(session, models, user_key, kind, key, APPROVED)


def decline(session: Session, models: Models, user_key: str, kind: str, key: str) -> Decision:
    """The researcher does not want the item on their record: it is never sent, whatever
    new versions the site publishes, until they approve it (the caller commits).

    Only before the first delivery: a row with a put-code is :attr:`Decision.ALREADY_SENT`,
    and one a worker holds right now :attr:`Decision.BEING_SENT` (its lease decides: the
    update only matches a free row, so a decline never races a POST in flight).
    """
    return _decide(session, models, user_key, kind, key, DECLINED)


def _decide(session: Session, models: Models, user_key: str, kind: str, key: str,
            decision: str) -> Decision:
    row = _row(session, models, user_key, kind, key)
    if row is None or row.retracted:
        return Decision.NOT_FOUND
    if row.put_code is not None or row.state not in _UNSENT:
        return Decision.ALREADY_SENT
    held = row.state in (AWAITING, DECLINED)
    if row.approval == decision and (row.state == DECLINED if decision == DECLINED
                                     else not held):
        return Decision.UNCHANGED
    Item = models.Item
    now = utcnow()
    values: dict[str, Any] = {"approval": decision, "approval_at": now, "updated_at": now}
    if decision == DECLINED:
        values.update(state=DECLINED, next_attempt_at=None)
    else:
        # waiting or declined: due now; on its way (pending, failed, parked): unchanged
        values["state"] = sa.case((Item.state.in_((AWAITING, DECLINED)), PENDING),
                                  else_=Item.state)
        values["next_attempt_at"] = sa.case((Item.state.in_((AWAITING, DECLINED)), None),
                                            else_=Item.next_attempt_at)
    free = sa.or_(Item.lease_owner.is_(None), Item.lease_expires_at < now)
    result = session.execute(
        sa.update(Item).where(Item.id == row.id, Item.put_code.is_(None),
                              Item.retracted.is_(False), Item.state.in_(_UNSENT), free)
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if not rowcount(result):
        return Decision.BEING_SENT
    session.add(models.Event(item_id=row.id, user_key=user_key, orcid=row.orcid, kind=kind,
                             key=key, operation="approve" if decision == APPROVED
                             else "decline", outcome=decision))
    session.expire(row)
    return Decision.DONE
