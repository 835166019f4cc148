"""The outbox API: what the site wants on each researcher's ORCID record.

``publish`` and ``retract`` only write rows in the caller's database session, so a deposit and
the intent to post it commit together or not at all; no ORCID call happens inside a request.
The worker (:mod:`.worker`) converges each row later. Rows reference the host's user key, not
an account: publishing for someone who has not connected yet is recorded and delivered once
they connect.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..protocol.model import Affiliation, Work
from ..protocol.vocabulary import AFFILIATION_SECTIONS
from .approval import held_state, initial_state
from .clock import utcnow
from .mixins import item_from_payload
from .models import Models
from .results import parse_self_ids
from .sql import any_row, rowcount
from .states import (
    ACTIVE,
    APPROVAL_OPTIONAL,
    APPROVED,
    AWAITING,
    DECLINED,
    FAILED,
    PARKED,
    PENDING,
    REMOVED,
    RESUME_ON_RECONNECT,
    STATES,
    SYNCED,
)

__all__ = [
    "counts",
    "forget_user",
    "item_state",
    "items_for",
    "payload_of",
    "prune_events",
    "publish",
    "resend",
    "resume_reconnected",
    "retract",
    "retry",
]

# Rows are instances of the ``Item`` class ``define_models`` made on the host's ``db``: typed
# ``Any``, as that class is built at run time.


def _strip(item: Work | Affiliation) -> Work | Affiliation:
    """The item as we store it: no put-code (ours to manage) and no visibility.

    Visibility belongs to the researcher (API-FACTS §5: a PUT with a different visibility is
    refused with 9035), so the outbox never sends one.
    """
    kwargs: dict[str, Any] = {}
    if getattr(item, "put_code", None) is not None:
        kwargs["put_code"] = None
    if getattr(item, "visibility", None) is not None:
        kwargs["visibility"] = None
    return replace(item, **kwargs) if kwargs else item


def payload_of(item: Work | Affiliation) -> tuple[str, str]:
    """Canonical JSON of an item and its SHA-256: equal items give equal hashes."""
    text = json.dumps(_strip(item).to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check(user_key: str, key: str) -> None:
    if not isinstance(user_key, str) or not user_key.strip():
        raise ValidationError("publish needs the user's key (a non-empty string).", "user_key")
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("publish needs the item's key, e.g. 'thesis:42'.", "key")
    if len(key) > 255 or len(user_key) > 255:
        raise ValidationError("user and item keys are limited to 255 characters.", "key")


# -- the publishing API ----------------------------------------------------------------------

_NEW_ROW = ("user_key", "kind", "key", "payload", "payload_hash", "retracted", "state",
            "attempts", "approval", "approval_at", "created_at", "updated_at")


@dataclass(frozen=True)
class _NewKeyInsert:
    """:func:`publish`'s new key as one statement, compiled once per table and dialect: insert
    the row unless the key is there under any kind. Every kind is named in the probe, so it is
    one probe per kind of the unique (user_key, kind, key) index. A concurrent transaction's
    uncommitted row is not seen by the probe, so the insert then fails on that unique index,
    as two plain inserts would.

    The deposit request runs it, so it goes to the driver as compiled SQL with the column
    types' bind processors applied here: SQLAlchemy's per-call work for a compiled statement
    (looking it up, building its parameters) costs more than the insert. Connection events,
    logging and error translation stay as for any statement; a connection with a
    ``schema_translate_map`` gets the statement itself.
    """

    stmt: sa.Insert
    sql: str
    #: parameter names in the driver's order (a positional paramstyle), or None (named)
    order: tuple[str, ...] | None
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]

    @classmethod
    @functools.lru_cache(maxsize=8)
    def of(cls, table: sa.Table, dialect: sa.Dialect) -> _NewKeyInsert:
        taken = sa.select(table.c.id).where(
            table.c.user_key == sa.bindparam("user_key"),
            # the kinds as literals (a fixed vocabulary): the SQL is complete when compiled
            table.c.kind.in_([sa.literal_column(f"'{k}'")
                              for k in ("work", *AFFILIATION_SECTIONS)]),
            table.c.key == sa.bindparam("key"),
        )
        values = sa.select(*(sa.bindparam(name, type_=table.c[name].type) for name in _NEW_ROW))
        stmt = sa.insert(table).from_select(_NEW_ROW, values.where(~sa.exists(taken)))
        compiled = stmt.compile(dialect=dialect)
        processors = []
        for name in _NEW_ROW:
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((name, process))
        order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup \
            else None
        return cls(stmt, str(compiled), order, tuple(processors))

    def run(self, conn: sa.Connection, values: dict[str, Any]) -> int:
        """Run it with ``values`` (one per :data:`_NEW_ROW`); how many rows it inserted."""
        if conn.get_execution_options().get("schema_translate_map"):
            return rowcount(conn.execute(self.stmt, values))  # the SQL depends on the map
        for name, process in self.processors:
            values[name] = process(values[name])
        params: Any = values if self.order is None else tuple(values[n] for n in self.order)
        return rowcount(conn.exec_driver_sql(self.sql, params))


def publish(session: Session, models: Models, user_key: str, key: str,
            item: Work | Affiliation, *, approval: str = APPROVAL_OPTIONAL,
            approved: bool = False) -> Any:
    """Record that ``item`` should be on ``user_key``'s record under ``key``.

    ``approval`` is the site's ``ORCID_APPROVAL``: with ``required`` a new item waits for the
    researcher's approval before its first delivery; ``approved=True`` says the researcher
    already consented (on the host's own page). A declined item stays declined whatever
    changed in it (:mod:`.approval`); consent given here never overrides a decline.

    Validates at once (``ValidationError`` naming the field) and only adds or changes rows in
    ``session``'s transaction: the caller commits. Publishing an unchanged item changes nothing.
    Returns the row (None for a new key). Two transactions publishing the same new key at the
    same moment: on PostgreSQL the second fails on the unique (user_key, kind, key) constraint,
    as the host would want for a double submission; SQLite, which lets one writer in at a
    time, runs the second after the first commits, as a later publish of that key.

    A new key (the deposit, the common case) costs one light statement on the session's
    connection, an insert guarded by an indexed probe, with no ORM unit of work: publishing must
    not make the host's deposit request noticeably slower.
    """
    _check(user_key, key)
    kind = getattr(item, "kind", None)
    if kind != "work" and kind not in AFFILIATION_SECTIONS:
        raise ValidationError(
            "publish takes a Work or an Affiliation with a known section.", "item"
        )
    item.validate()
    text, digest = payload_of(item)
    Item = models.Item
    conn = session.connection(bind_arguments={"mapper": Item})
    now = utcnow()
    if _NewKeyInsert.of(Item.__table__, conn.dialect).run(conn, {
            "user_key": user_key, "kind": kind, "key": key, "payload": text,
            "payload_hash": digest, "retracted": False,
            "state": initial_state(approval, approved), "attempts": 0,
            "approval": APPROVED if approved else None, "approval_at": now if approved else None,
            "created_at": now, "updated_at": now}):
        return None
    rows = session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key)
    ).scalars().all()
    row = None
    for other in rows:
        if other.kind == kind:
            row = other
        elif not other.retracted:
            # The host re-published the key as another kind: the old item goes away.
            _retract_row(other)
    if row is None:
        row = _under_new_kind(Item, rows, user_key, kind, key, text, digest, approval,
                              approved, now)
        session.add(row)
        return row
    if approved:
        _consent(row, now)
    if row.payload_hash != digest or row.retracted:
        _new_version(row, text, digest, approval)
    return row


def _under_new_kind(Item: Any, rows: Sequence[Any], user_key: str, kind: str, key: str,
                    text: str, digest: str, approval: str, approved: bool, now: Any) -> Any:
    """The key's row for a kind it did not have: the item under another kind carries the
    researcher's decision over."""
    earlier = next((o.approval for o in rows if o.approval), None)
    decision = DECLINED if earlier == DECLINED else (
        APPROVED if approved or earlier == APPROVED else None)
    return Item(user_key=user_key, kind=kind, key=key, payload=text, payload_hash=digest,
                retracted=False, attempts=0, approval=decision,
                approval_at=now if decision else None,
                state=DECLINED if decision == DECLINED
                else initial_state(approval, decision == APPROVED))


def _new_version(row: Any, text: str, digest: str, approval: str) -> None:
    """A changed (or re-published after a retraction) item: store it and say what is to do."""
    if (row.put_code is None and row.last_attempt_at is not None
            and not (row.retracted and row.state == SYNCED)):  # (a confirmed DELETE: gone)
        _remember_self_ids(row)
    if row.retracted and row.state != SYNCED and row.put_code is not None:
        # a DELETE not yet confirmed (maybe sent, its answer lost): the put-code may name an
        # item that is gone. Post again: ORCID's 409 leads back to the item if it is there.
        row.earlier_self_ids = _merge_ids(row.earlier_self_ids, _self_ids(row))
        row.put_code = None
        row.written_hash = None
    row.payload = text
    row.payload_hash = digest
    row.retracted = False
    if row.state == REMOVED:
        # The researcher removed it; a new version is not a reason to put it back
        # (only ``resend`` does that).
        return
    held = held_state(row, approval)
    if held is not None:
        # never delivered, and declined or still waiting for the researcher's approval: the
        # new version waits likewise (the decision outlives edits)
        row.state = _forced(held)
    elif row.put_code is not None and row.written_hash == digest:
        # back to what is already on the record; decided by the UPDATE itself, as a worker
        # may be writing another version right now (then it stays pending)
        Item = type(row)
        row.state = sa.case((sa.and_(Item.put_code.is_not(None), Item.written_hash == digest,
                                     Item.lease_owner.is_(None)), SYNCED), else_=PENDING)
    else:
        row.state = _forced(PENDING)
    _clear_error(row)


def _consent(row: Any, now: Any) -> None:
    """``publish(..., approved=True)``: record consent given on the host's page, unless the
    researcher declined here (their decline wins; only :func:`.approval.approve` lifts it)."""
    if row.approval is not None:
        return
    row.approval = APPROVED
    row.approval_at = now
    if row.state == AWAITING:
        row.state = _forced(PENDING)


def retract(session: Session, models: Models, user_key: str, key: str) -> None:
    """Record that the item under ``key`` should no longer be on the record (caller commits)."""
    _check(user_key, key)
    Item = models.Item
    for row in session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key)
    ).scalars():
        if not row.retracted:
            _retract_row(row)


def _retract_row(row: Any) -> None:
    row.retracted = True
    if row.state == REMOVED:
        # already gone from the record; nothing to delete
        row.put_code = None
        row.state = SYNCED
        _clear_error(row)
        return
    if row.put_code is None and row.last_attempt_at is None:
        # never claimed by a worker (claiming stamps last_attempt_at): nothing to undo. The
        # UPDATE decides, as a worker may claim the row between our read and our write.
        Item = type(row)
        row.state = sa.case((sa.and_(Item.put_code.is_(None), Item.last_attempt_at.is_(None),
                                     Item.lease_owner.is_(None)), SYNCED), else_=PENDING)
    else:
        row.state = _forced(PENDING)
    _clear_error(row)


def _forced(state: str) -> Any:
    """``state`` as a SQL value, so the UPDATE always writes it.

    The ORM leaves out a column set to the value it loaded; but a worker may have written the
    row since (``synced`` for the version it just sent), and the host's change must win.
    """
    return sa.literal(state, sa.String)


def _self_ids(row: Any) -> set[tuple[str, str]]:
    """Normalized ``self`` ids of the row's current payload (none if it cannot be read)."""
    try:
        return item_from_payload(row.kind, json.loads(row.payload)).self_ids()
    except (ValueError, TypeError, KeyError, ValidationError):
        return set()


def _merge_ids(stored: str | None, ids: set[tuple[str, str]]) -> str | None:
    merged = parse_self_ids(stored) | ids
    return json.dumps(sorted([t, v] for t, v in merged)) if merged else None


def _remember_self_ids(row: Any) -> None:
    """A worker already tried this row and no put-code came back: a POST of the current
    payload may have landed. Keep its ``self`` ids, so the worker can find that copy even
    after the host corrects the identifiers (instead of posting a second one)."""
    row.earlier_self_ids = _merge_ids(row.earlier_self_ids, _self_ids(row))


def _clear_error(row: Any) -> None:
    row.park_reason = None
    row.attempts = 0
    row.next_attempt_at = None
    row.error_status = None
    row.error_code = None
    row.error_message = None


def resend(session: Session, models: Models, user_key: str, key: str) -> bool:
    """Post again an item the researcher removed from their record (their explicit choice).

    Returns False when there is no removed item under ``key``.
    """
    Item = models.Item
    done = False
    for row in session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key, Item.state == REMOVED)
    ).scalars():
        row.put_code = None
        row.written_hash = None
        row.state = PENDING
        _clear_error(row)
        done = True
    return done


def items_for(session: Session, models: Models, user_key: str) -> list[Any]:
    """Every item the site wrote or will write to ``user_key``'s record, newest first.

    Retracted items that are no longer on the record are left out.
    """
    Item = models.Item
    rows = session.execute(
        sa.select(Item).where(Item.user_key == user_key).order_by(Item.created_at.desc(),
                                                                  Item.id.desc())
    ).scalars().all()
    return [r for r in rows if not (r.retracted and r.state == SYNCED)]


def item_state(session: Session, models: Models, user_key: str, key: str) -> Any:
    """The row for ``key`` (the live one when the key changed kind), or None."""
    Item = models.Item
    rows = session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key).order_by(Item.id)
    ).scalars().all()
    live = [r for r in rows if not r.retracted]
    return (live or rows or [None])[-1]


def retry(session: Session, models: Models, *, parked: bool = False, key: str | None = None,
          user_key: str | None = None) -> int:
    """Make failed rows (and parked ones with ``parked``) due now; returns how many."""
    Item = models.Item
    states = [FAILED, PARKED] if parked else [FAILED]
    stmt = sa.update(Item).where(Item.state.in_(states))
    if key is not None:
        stmt = stmt.where(Item.key == key)
    if user_key is not None:
        stmt = stmt.where(Item.user_key == user_key)
    result = session.execute(
        stmt.values(state=PENDING, attempts=0, next_attempt_at=None, park_reason=None,
                    updated_at=utcnow())
    )
    return rowcount(result)


def resume_reconnected(session: Session, models: Models, user_key: str | None = None) -> int:
    """Rows parked for a lost or insufficient connection become pending once it is active.

    Called on ``orcid_connected`` and at the start of every delivery pass, so rows resume
    even if the signal was missed. Only a connection renewed after the row was parked counts
    (a 403 for a missing scope leaves the account active: resuming at once would loop).
    """
    Item, Account = models.Item, models.Account
    renewed = sa.exists().where(Account.user_key == Item.user_key, Account.status == ACTIVE,
                                Account.updated_at > Item.updated_at)
    where = [Item.state == PARKED, Item.park_reason.in_(RESUME_ON_RECONNECT), renewed]
    if user_key is not None:
        where.append(Item.user_key == user_key)
    if not any_row(session, *where):
        return 0
    result = session.execute(
        sa.update(Item).where(*where).values(state=PENDING, attempts=0, next_attempt_at=None,
                                             park_reason=None, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return rowcount(result)


def prune_events(session: Session, models: Models, days: float) -> int:
    """Delete event rows older than ``days``: the audit log keeps what is useful, not all."""
    Event = models.Event
    old = Event.created_at < utcnow() - timedelta(days=days)
    if not any_row(session, old):
        return 0
    result = session.execute(
        sa.delete(Event).where(old), execution_options={"synchronize_session": False},
    )
    return rowcount(result)


def forget_user(session: Session, models: Models, user_key: str, orcid: str | None = None) -> None:
    """Disconnect: remove everything the outbox stored for this connection (caller commits).

    What is already on the ORCID record stays there (it is the researcher's to keep or delete).
    The researcher's decisions on items never sent stay too (they are about the site's items,
    not about the connection): an item they declined is not sent after they connect again.
    """
    Item, Event, RecordSync = models.Item, models.Event, models.RecordSync
    decided = sa.and_(Item.user_key == user_key, Item.approval.is_not(None),
                      Item.put_code.is_(None), Item.retracted.is_(False))
    session.execute(
        sa.update(Item).where(decided).values(
            orcid=None, lease_owner=None, lease_expires_at=None, attempts=0,
            next_attempt_at=None, park_reason=None, error_status=None, error_code=None,
            error_message=None, updated_at=utcnow(),
            state=sa.case((Item.approval == DECLINED, DECLINED), else_=PENDING)),
        execution_options={"synchronize_session": False})
    session.execute(sa.delete(Item).where(Item.user_key == user_key, ~decided),
                    execution_options={"synchronize_session": False})
    session.execute(sa.delete(Event).where(Event.user_key == user_key),
                    execution_options={"synchronize_session": False})
    if orcid:
        # a registered webhook must be removed at ORCID first (by the worker, not in the
        # researcher's request); everything else about the record goes now
        session.execute(
            sa.update(RecordSync).where(RecordSync.orcid == orcid,
                                        RecordSync.webhook_url.is_not(None))
            .values(unregister_requested_at=utcnow(), sync_requested_at=None,
                    last_synced_at=None),
            execution_options={"synchronize_session": False})
        session.execute(sa.delete(RecordSync).where(RecordSync.orcid == orcid,
                                                    RecordSync.webhook_url.is_(None)),
                        execution_options={"synchronize_session": False})


def counts(session: Session, models: Models) -> dict[str, int]:
    """Rows per state (every state present, zero included)."""
    Item = models.Item
    result = dict.fromkeys(STATES, 0)
    for state, n in session.execute(
        sa.select(Item.state, sa.func.count()).group_by(Item.state)
    ):
        result[state] = n
    return result
