"""Writing the outcome of each ORCID call on a claimed row: state, event, signal.

Every result is written with ``UPDATE … WHERE lease_owner = <claim token>``, so a worker that
lost its lease never overwrites a newer state.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from blinker import Signal
from sqlalchemy.orm import Session

from .. import signals
from ..errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InsufficientScopeError,
    InvalidTokenError,
    NotFoundError,
    ORCIDError,
    RecordDeactivatedError,
    RecordDeprecatedError,
    RecordLockedError,
    ValidationError,
)
from ..protocol.model import Affiliation, Work
from .breaker import CircuitBreaker
from .clock import utcnow
from .connections import AUTH_MESSAGE, SCOPE_MESSAGE, moved_message, record_moved
from .mixins import item_from_payload
from .models import Models
from .policy import Settings, backoff_delay, error_fields, is_transient
from .sql import rowcount
from .states import (
    FAILED,
    PARK_DEACTIVATED,
    PARK_LOCKED,
    PARK_REJECTED,
    PARK_SCOPE,
    PARKED,
    PENDING,
    REMOVED,
    SYNCED,
)

__all__ = ["PassResult", "ResultWriter", "Row", "RunContext", "parse_self_ids"]

log = logging.getLogger(__name__)

REMOVED_MESSAGE = "The researcher removed this item from their ORCID record."


@dataclass
class PassResult:
    """What one delivery pass did."""

    claimed: int = 0
    synced: int = 0
    failed: int = 0
    parked: int = 0
    removed: int = 0
    requests: int = 0
    records_synced: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassResult) -> None:
        for name in ("claimed", "synced", "failed", "parked", "removed", "requests",
                     "records_synced"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


@dataclass
class RunContext:
    """What every claim of one delivery run shares."""

    models: Models
    settings: Settings
    #: this worker's name, stored on events
    owner: str
    #: our ORCID client id: only items whose source is this client are ours
    client_id: str
    #: the signals' sender (the Flask app)
    sender: Any
    #: send item_* signals
    signals: bool = True
    #: the worker's circuit breaker (None: no breaker)
    breaker: CircuitBreaker | None = None


@dataclass
class Row:
    """What the worker needs from a claimed row (a snapshot; the row may change meanwhile)."""

    id: int
    kind: str
    key: str
    payload: str
    payload_hash: str
    retracted: bool
    put_code: int | None
    written_hash: str | None
    attempts: int
    #: JSON list of the ``self`` ids of earlier payloads a lost POST may have written
    earlier_self_ids: str | None = None

    def item(self) -> Work | Affiliation:
        return item_from_payload(self.kind, json.loads(self.payload))

    def earlier_ids(self) -> set[tuple[str, str]]:
        """The normalized ``self`` ids of earlier payloads (see the column's comment)."""
        return parse_self_ids(self.earlier_self_ids)


def parse_self_ids(text: str | None) -> set[tuple[str, str]]:
    """The ``earlier_self_ids`` column as a set (unreadable text counts as none)."""
    try:
        return {(str(t), str(v)) for t, v in json.loads(text or "[]")}
    except (ValueError, TypeError):
        return set()


class ResultWriter:
    """Writes the results of one claim (``token``) for one researcher's record."""

    def __init__(self, ctx: RunContext, session: Session, token: str, user_key: str,
                 orcid: str, result: PassResult) -> None:
        self.ctx = ctx
        self.models = ctx.models
        self.session = session
        self.token = token
        self.user_key = user_key
        self.orcid = orcid
        self.result = result
        self.auth_lost = False
        self.written: set[int] = set()
        #: put-codes rows of this researcher hold, per section (never adopt one twice)
        self.held: dict[tuple[str, int], str] = {}

    def _update(self, row: Row, values: dict[str, Any], commit: bool = True) -> bool:
        Item = self.models.Item
        self.written.add(row.id)
        res = self.session.execute(
            sa.update(Item).where(Item.id == row.id, Item.lease_owner == self.token)
            .values(lease_owner=None, lease_expires_at=None, updated_at=utcnow(), **values),
            execution_options={"synchronize_session": False},
        )
        if commit:
            self.session.commit()
        if not rowcount(res):
            log.warning("lost the lease on outbox row %s before writing its result", row.id)
            return False
        return True

    def event(self, row: Row, operation: str, exc: BaseException | None, ms: int,
              outcome: str, status: int | None = None, put_code: int | None = None,
              message: str | None = None) -> None:
        fields = error_fields(exc) if exc is not None else {}
        self.session.add(self.models.Event(
            item_id=row.id, user_key=self.user_key, orcid=self.orcid, kind=row.kind,
            key=row.key, operation=operation,
            status=fields.get("error_status") if exc is not None else status,
            error_code=fields.get("error_code"), outcome=outcome,
            message=message or fields.get("error_message"), put_code=put_code,
            duration_ms=ms, worker=self.ctx.owner[:64],
        ))

    def mark_synced(self, row: Row, put_code: int, operation: str, status: int | None,
                    ms: int, commit: bool = True) -> None:
        Item = self.models.Item
        sent = row.payload_hash
        if operation != "noop":
            self.event(row, operation, None, ms, SYNCED, status=status, put_code=put_code)
        ok = self._update(row, {
            "put_code": put_code, "orcid": self.orcid, "written_hash": sent,
            "earlier_self_ids": None,
            # the host may have published a newer version or retracted meanwhile
            "state": sa.case(
                (sa.and_(Item.payload_hash == sent, Item.retracted.is_(False)), SYNCED),
                else_=PENDING),
            "attempts": 0, "next_attempt_at": None, "park_reason": None,
            "error_status": None, "error_code": None, "error_message": None,
            "synced_at": utcnow(),
        }, commit=commit)
        self.held[(row.kind, put_code)] = row.key
        if ok:
            self.result.synced += 1
            self._signal(signals.item_synced, row, put_code=put_code)

    def mark_synced_many(self, created: list[tuple[Row, int]], operation: str,
                         status: int | None, ms: int) -> None:
        """``mark_synced`` for the slots of one bulk answer: two statements, not 2 per row."""
        table = self.models.Item.__table__
        c = table.c
        now = utcnow()
        # only the rows this claim still holds (a lapsed lease belongs to another worker now)
        held = set(self.session.scalars(
            sa.select(c.id).where(c.id.in_([r.id for r, _ in created]),
                                  c.lease_owner == self.token).with_for_update()))
        for r, _ in created:
            self.written.add(r.id)
            if r.id not in held:
                log.warning("lost the lease on outbox row %s before writing its result", r.id)
        created = [(r, pc) for r, pc in created if r.id in held]
        if not created:
            return
        stmt = (
            table.update()
            .where(c.id == sa.bindparam("b_id"), c.lease_owner == self.token)
            .values(
                put_code=sa.bindparam("b_put_code"), orcid=self.orcid,
                written_hash=sa.bindparam("b_hash"),
                state=sa.case((sa.and_(c.payload_hash == sa.bindparam("b_hash"),
                                       c.retracted.is_(False)), SYNCED), else_=PENDING),
                attempts=0, next_attempt_at=None, park_reason=None, error_status=None,
                error_code=None, error_message=None, synced_at=now, updated_at=now,
                earlier_self_ids=None,
                lease_owner=None, lease_expires_at=None,
            )
        )
        self.session.execute(stmt, [
            {"b_id": r.id, "b_put_code": pc, "b_hash": r.payload_hash} for r, pc in created
        ])
        worker = self.ctx.owner[:64]
        self.session.execute(sa.insert(self.models.Event.__table__), [
            {"item_id": r.id, "user_key": self.user_key, "orcid": self.orcid, "kind": r.kind,
             "key": r.key, "operation": operation, "status": status, "error_code": None,
             "outcome": SYNCED, "message": None, "put_code": pc, "duration_ms": ms,
             "worker": worker, "created_at": now}
            for r, pc in created
        ])
        for r, pc in created:
            self.held[(r.kind, pc)] = r.key
            self.result.synced += 1
            self._signal(signals.item_synced, r, put_code=pc)

    def mark_deleted(self, row: Row, operation: str, status: int | None, ms: int) -> None:
        Item = self.models.Item
        self.event(row, operation, None, ms, "deleted", status=status, put_code=row.put_code)
        ok = self._update(row, {
            "put_code": None, "written_hash": None, "earlier_self_ids": None,
            "state": sa.case((Item.retracted.is_(True), SYNCED), else_=PENDING),
            "attempts": 0, "next_attempt_at": None, "park_reason": None,
            "error_status": None, "error_code": None, "error_message": None,
            "synced_at": utcnow(),
        })
        if ok:
            self.result.synced += 1

    def mark_removed(self, row: Row, put_code: int, operation: str, exc: BaseException,
                     ms: int) -> None:
        Item = self.models.Item
        self.event(row, operation, exc, ms, REMOVED, put_code=put_code)
        ok = self._update(row, {
            "state": sa.case((Item.retracted.is_(True), SYNCED), else_=REMOVED),
            "put_code": sa.case((Item.retracted.is_(True), None), else_=Item.put_code),
            "attempts": 0, "next_attempt_at": None, "park_reason": None,
            "error_status": 404, "error_code": getattr(exc, "error_code", None),
            "error_message": REMOVED_MESSAGE,
        })
        if ok:
            self.result.removed += 1
            self._signal(signals.item_removed_by_researcher, row, put_code=put_code)

    def park(self, row: Row, operation: str, reason: str, exc: BaseException | None, ms: int,
             message: str | None = None, commit: bool = True) -> None:
        fields = error_fields(exc) if exc is not None else {}
        if message:
            fields["error_message"] = message
        self.event(row, operation, exc, ms, PARKED, message=fields.get("error_message"))
        ok = self._update(row, {"state": PARKED, "park_reason": reason,
                                "attempts": row.attempts + 1, "next_attempt_at": None,
                                **fields}, commit=commit)
        if ok:
            self.result.parked += 1
            self._signal(signals.item_failed, row, error=exc, parked=True)

    def fail(self, row: Row, operation: str, exc: BaseException, ms: int,
             commit: bool = True) -> None:
        """Classify an error: retry later, park, or mark the connection invalid."""
        if isinstance(exc, InvalidTokenError):
            self.event(row, operation, exc, ms, PARKED, message=AUTH_MESSAGE)
            self.auth_lost = True
            return
        if isinstance(exc, InsufficientScopeError):
            self.park(row, operation, PARK_SCOPE, exc, ms, message=SCOPE_MESSAGE,
                      commit=commit)
            return
        if self._record_unavailable(row, operation, exc, ms, commit):
            return
        if isinstance(exc, (BadRequestError, ForbiddenError, RecordDeprecatedError,
                            ConflictError, NotFoundError, ValidationError)):
            self.park(row, operation, PARK_REJECTED, exc, ms, commit=commit)
            return
        if not is_transient(exc):
            self.park(row, operation, PARK_REJECTED, exc, ms, commit=commit)
            return
        if not isinstance(exc, ORCIDError):
            log.error("unexpected error delivering outbox row %s: %r", row.id, exc)
        # transient: never given up (issue 11): the backoff stops growing at retry_max
        self._retry_later(row, operation, exc, ms, commit)

    def _record_unavailable(self, row: Row, operation: str, exc: BaseException, ms: int,
                            commit: bool) -> bool:
        """The record itself refuses every call: locked (9018), deactivated (9044), or
        deprecated / merged (9007, see :func:`.connections.record_moved`). True if handled."""
        if isinstance(exc, RecordLockedError):
            self.park(row, operation, PARK_LOCKED, exc, ms, commit=commit)
        elif isinstance(exc, RecordDeactivatedError):
            self.park(row, operation, PARK_DEACTIVATED, exc, ms, commit=commit)
        elif isinstance(exc, RecordDeprecatedError):
            primary = exc.primary_orcid if exc.primary_orcid != self.orcid else None
            self.event(row, operation, exc, ms, PARKED,
                       message=moved_message(self.orcid, primary))
            self.result.parked += record_moved(self.session, self.models, self.user_key,
                                               self.orcid, primary, lease=self.token)
            self.written.add(row.id)
            self.auth_lost = True  # nothing more can be sent with this connection
        else:
            return False
        return True

    def _retry_later(self, row: Row, operation: str, exc: BaseException, ms: int,
                     commit: bool) -> None:
        """A transient failure: schedule the next attempt with backoff."""
        attempts = row.attempts + 1
        delay = backoff_delay(attempts, self.ctx.settings, getattr(exc, "retry_after", None))
        self.event(row, operation, exc, ms, FAILED)
        ok = self._update(row, {"state": FAILED, "attempts": attempts, "park_reason": None,
                                "next_attempt_at": utcnow() + timedelta(seconds=delay),
                                **error_fields(exc)}, commit=commit)
        if ok:
            self.result.failed += 1
            self._signal(signals.item_failed, row, error=exc, parked=False)

    def _signal(self, signal: Signal, row: Row, **extra: Any) -> None:
        if self.ctx.signals:
            signals.notify(signal, self.ctx.sender, user_key=self.user_key, key=row.key,
                           kind=row.kind, orcid=self.orcid, **extra)
