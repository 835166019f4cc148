"""Reconciliation: re-read a record's summaries and bring our rows in line with it.

What a record holds can change without us: the researcher deletes an item, or a POST landed
while we never learned its put-code (a worker killed after ORCID's 201). Reconciling reads
the section summaries (``GET /works``, ``/educations`` …; never the full works) and:

- a row whose put-code is no longer on the record becomes ``removed_by_researcher`` (never
  re-posted automatically; the researcher may re-send it), or done when it was retracted;
- a row without a put-code (never sent, or tried without learning its put-code) adopts our
  item that matches it (a work by its normalized ``self`` ids, an affiliation by organization,
  role, department and dates: see :mod:`.matching`), so the next delivery updates that item
  instead of posting a copy. Every connection, first or renewed, asks for one reconciliation
  and the worker claims none of the researcher's rows until it ran (:func:`.claim.due`):
  after a disconnect and a reconnect, the degree already on the record is adopted, not
  posted again.

Rows leased by a worker are left alone, and a row written after the read began is never
judged by that read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..errors import InsufficientScopeError, InvalidTokenError, ORCIDError, RecordDeprecatedError
from ..protocol.client import ORCIDClient
from .breaker import CircuitBreaker
from .clock import utcnow
from .connections import moved_message, record_moved, token_rejected
from .crypto import TokenDecryptionError
from .matching import MatchKey, item_keys, summary_keys
from .models import Models
from .policy import is_outage
from .results import REMOVED_MESSAGE, parse_self_ids
from .sql import rowcount
from .states import ACTIVE, AWAITING, FAILED, PARKED, PENDING, REMOVED, SYNCED

log = logging.getLogger(__name__)

@dataclass
class SyncSummary:
    """What reconciling one record found."""

    orcid: str
    checked: int = 0
    removed: int = 0
    adopted: int = 0
    gone_after_retraction: int = 0
    error: str | None = None
    #: the read failed for a transient reason: a webhook's request stays for the next pass
    retry: bool = False
    #: (key, kind, put-code) of each item the researcher removed
    removed_items: list[tuple[str, str, int]] = field(default_factory=list)

    def line(self) -> str:
        if self.error:
            return f"{self.orcid}: not synchronized: {self.error}"
        return (f"{self.orcid}: {self.checked} item(s) checked, {self.removed} removed by the "
                f"researcher, {self.adopted} put-code(s) recovered")


Ours = dict[str, set[int]]
#: per kind: the match keys of our items on the record, and the put-code of each
SelfIds = dict[str, dict[MatchKey, list[int]]]


def _read_ours(client: ORCIDClient, orcid: str, token: str, kinds: list[str],
               client_id: str | None) -> tuple[Ours, SelfIds]:
    """Put-codes and match keys of our items on the record, per section."""
    ours: Ours = {}
    self_ids: SelfIds = {}
    for kind in kinds:
        summaries: list[Any]
        if kind == "work":
            summaries = list(client.read_works(orcid, token))
        else:
            summaries = list(client.read_affiliations(orcid, token, kind))
        # a summary without a source client id is the researcher's own, never ours; one
        # without a put-code cannot be addressed at all
        mine = [s for s in summaries
                if s.put_code is not None and client_id and s.source_client_id == client_id]
        ours[kind] = {int(s.put_code) for s in mine}
        ids: dict[MatchKey, list[int]] = {}
        for s in mine:
            for key in summary_keys(s):
                ids.setdefault(key, []).append(int(s.put_code))
        self_ids[kind] = ids
    return ours, self_ids


def reconcile(session: Session, models: Models, client: ORCIDClient, account: Any, *,
              client_id: str | None = None, sender: Any = None) -> SyncSummary:
    """Reconcile one connected record; commits its changes. ``sender``: the signals' sender.

    ``account``: the researcher's ``Account`` row (``Any``, as its class is built at run time).
    """
    Item = models.Item
    summary = SyncSummary(orcid=account.orcid)
    rows = session.scalars(sa.select(Item).where(Item.user_key == account.user_key)).all()
    if not rows:
        return summary
    client_id = client_id or getattr(client, "client_id", None)
    try:
        token = account.access_token
    except TokenDecryptionError:  # the rows' delivery records it, with a backoff
        summary.error = "the stored token cannot be decrypted (see ORCID_TOKEN_KEYS)"
        return summary
    started = utcnow()
    try:
        ours, self_ids = _read_ours(client, account.orcid, token,
                                    sorted({r.kind for r in rows}), client_id)
    except InvalidTokenError:
        summary.error = "ORCID refused the connection's token; the researcher must reconnect"
        token_rejected(session, models, account.user_key, token)
        return summary
    except InsufficientScopeError:
        summary.error = "the connection may not read the record (missing /read-limited)"
        return summary
    except RecordDeprecatedError as exc:  # 301/9007: merged into a primary record
        summary.error = moved_message(account.orcid, exc.primary_orcid)
        record_moved(session, models, account.user_key, account.orcid, exc.primary_orcid)
        return summary
    except ORCIDError as exc:
        summary.error = f"ORCID could not be read ({type(exc).__name__})"
        summary.retry = is_outage(exc)
        return summary
    _apply(session, models, account, rows, ours, self_ids, started, summary)
    session.commit()
    for key, kind, put_code in summary.removed_items:
        signals.notify(signals.item_removed_by_researcher, sender, user_key=account.user_key,
                       key=key, kind=kind, orcid=account.orcid, put_code=put_code)
    return summary


@dataclass
class _Judging:
    """What judging one record's rows shares: the read, and the guards of every update."""

    session: Session
    models: Models
    account: Any  # the host's ``Account`` row (a class built at run time by define_models)
    summary: SyncSummary
    now: datetime
    #: a row no worker holds
    free: sa.ColumnElement[bool]
    #: a row not written since the read began
    unchanged_since_read: sa.ColumnElement[bool]
    #: (kind, put-code) every row of this researcher holds
    held: set[tuple[str, int]]


def _apply(session: Session, models: Models, account: Any, rows: Sequence[Any], ours: Ours,
           self_ids: SelfIds, started: datetime, summary: SyncSummary) -> None:
    """Judge each row by what the record holds (rows written since ``started`` are skipped).

    ``rows`` are the researcher's ``Item`` rows (typed ``Any``: built at run time).
    """
    Item = models.Item
    now = utcnow()
    judging = _Judging(
        session=session, models=models, account=account, summary=summary, now=now,
        free=sa.or_(Item.lease_owner.is_(None), Item.lease_expires_at < now),
        unchanged_since_read=sa.or_(Item.synced_at.is_(None), Item.synced_at < started),
        held={(r.kind, r.put_code) for r in rows if r.put_code is not None},
    )
    for row in rows:
        summary.checked += 1
        present = ours.get(row.kind, set())
        if row.put_code is not None and row.state != REMOVED and int(row.put_code) not in present:
            _gone(judging, row)
        elif row.put_code is None and row.state in (PENDING, FAILED, PARKED, AWAITING):
            # (a row waiting for approval whose item is on the record already, from an earlier
            # connection: it was delivered then, so the next pass updates it. A declined row
            # is never adopted: nothing of it is ever written.)
            _adopt(judging, row, self_ids.get(row.kind, {}))


def _gone(j: _Judging, row: Any) -> None:
    """Our put-code is no longer on the record: removed by the researcher, or retracted."""
    Item = j.models.Item
    values: dict[str, Any]
    if row.retracted:
        values = {"state": SYNCED, "put_code": None, "written_hash": None}
        outcome = "deleted"
        j.summary.gone_after_retraction += 1
    else:
        values = {"state": REMOVED, "error_status": 404, "error_code": None,
                  "error_message": REMOVED_MESSAGE, "park_reason": None,
                  "next_attempt_at": None}
        outcome = REMOVED
    res = j.session.execute(
        sa.update(Item).where(Item.id == row.id, Item.put_code == row.put_code, j.free,
                              j.unchanged_since_read)
        .values(updated_at=j.now, **values),
        execution_options={"synchronize_session": False},
    )
    if not rowcount(res):
        return
    if outcome == REMOVED:
        j.summary.removed += 1
        j.summary.removed_items.append((row.key, row.kind, int(row.put_code)))
    j.session.add(j.models.Event(
        item_id=row.id, user_key=j.account.user_key, orcid=j.account.orcid, kind=row.kind,
        key=row.key, operation="sync", outcome=outcome, put_code=row.put_code,
        message=REMOVED_MESSAGE if outcome == REMOVED else None))


def _adopt(j: _Judging, row: Any, self_ids: dict[MatchKey, list[int]]) -> None:
    """A row without a put-code: adopt our item on the record that matches it (never one
    another row holds); the next delivery writes the row's content over it."""
    Item = j.models.Item
    try:
        wanted: set[MatchKey] = item_keys(row.item()) | parse_self_ids(row.earlier_self_ids)
    except Exception:
        return
    match = next((code for s in sorted(wanted) for code in self_ids.get(s, ())
                  if (row.kind, code) not in j.held), None)
    if match is None:
        return
    res = j.session.execute(
        sa.update(Item).where(Item.id == row.id, Item.put_code.is_(None), j.free)
        .values(put_code=match, orcid=j.account.orcid, written_hash=None, updated_at=j.now,
                state=sa.case((Item.state == PARKED, Item.state), else_=PENDING)),
        execution_options={"synchronize_session": False},
    )
    if rowcount(res):
        j.held.add((row.kind, match))
        j.summary.adopted += 1
        j.session.add(j.models.Event(
            item_id=row.id, user_key=j.account.user_key, orcid=j.account.orcid, kind=row.kind,
            key=row.key, operation="sync", outcome="adopted", put_code=match))


def sync_records(app: Any, db: Any, models: Models, client: ORCIDClient, *,
                 orcid: str | None = None,
                 progress: Callable[[int, int, SyncSummary], None] | None = None,
                 ) -> list[SyncSummary]:
    """Reconcile every active connection with outbox rows (or just ``orcid``).

    ``app``: the host (its ``config``; the signals' sender); ``db``: its Flask-SQLAlchemy
    instance. Both ``Any``: this layer never imports Flask.
    """
    Account, Item = models.Account, models.Item
    results: list[SyncSummary] = []
    with Session(db.engine, expire_on_commit=False) as session:
        stmt = sa.select(Account).where(Account.status == ACTIVE)
        if orcid:
            stmt = stmt.where(Account.orcid == orcid)
        else:
            stmt = stmt.where(Account.user_key.in_(sa.select(Item.user_key)))
        accounts = session.scalars(stmt.order_by(Account.id)).all()
        for n, account in enumerate(accounts, 1):
            results.append(reconcile(session, models, client, account,
                                     client_id=app.config.get("ORCID_CLIENT_ID"), sender=app))
            if results[-1].checked or results[-1].error:
                # (a new connection without rows keeps its request for its first rows)
                _touch(session, models, account.orcid, requested_before=None)
            if progress:
                progress(n, len(accounts), results[-1])
    return results


def request_sync(session: Session, models: Models, orcid: str) -> None:
    """Ask the next delivery pass to reconcile ``orcid`` (the webhook callback and every
    connection call this; caller commits). No row of the record is claimed until it ran."""
    RecordSync = models.RecordSync
    now = utcnow()
    res = session.execute(
        sa.update(RecordSync).where(RecordSync.orcid == orcid).values(sync_requested_at=now),
        execution_options={"synchronize_session": False},
    )
    if not rowcount(res):
        session.add(RecordSync(orcid=orcid, sync_requested_at=now))


def _touch(session: Session, models: Models, orcid: str,
           requested_before: datetime | None) -> None:
    RecordSync = models.RecordSync
    now = utcnow()
    stmt = sa.update(RecordSync).where(RecordSync.orcid == orcid)
    if requested_before is not None:
        # a request that arrived while we were reading stays for the next pass
        stmt = stmt.where(RecordSync.sync_requested_at <= requested_before)
    res = session.execute(stmt.values(sync_requested_at=None, last_synced_at=now),
                          execution_options={"synchronize_session": False})
    if not rowcount(res) and requested_before is None:
        session.add(RecordSync(orcid=orcid, last_synced_at=now))
    session.commit()


def process_sync_requests(app: Any, db: Any, models: Models, client: ORCIDClient, *,
                          limit: int = 100, breaker: CircuitBreaker | None = None) -> int:
    """Reconcile the records whose webhook fired, or that were connected, since the last
    pass; returns how many.

    A connected record with no outbox row yet keeps its request (nothing to adopt into, and
    nothing to read for): it is reconciled by the first pass after the host publishes.
    ``breaker``: the worker's; a read that finds ORCID down counts as a failure, and once it
    opens the remaining requests wait for the next pass.
    """
    Account, Item, RecordSync = models.Account, models.Item, models.RecordSync
    done = 0
    with Session(db.engine, expire_on_commit=False) as session:
        connected = sa.exists().where(Account.orcid == RecordSync.orcid,
                                      Account.status == ACTIVE)
        with_rows = sa.exists().where(Account.orcid == RecordSync.orcid,
                                      Account.status == ACTIVE,
                                      Item.user_key == Account.user_key)
        pending = session.execute(
            sa.select(RecordSync.orcid, RecordSync.sync_requested_at)
            .where(RecordSync.sync_requested_at.is_not(None), sa.or_(~connected, with_rows))
            .order_by(RecordSync.sync_requested_at).limit(limit)
        ).all()
        session.commit()
        for orcid, requested in pending:
            if breaker is not None and breaker.is_open():
                break
            if not _sync_one(app, session, models, client, orcid, breaker):
                continue  # ORCID could not be read: keep the request
            _touch(session, models, orcid, requested_before=requested)
            done += 1
    return done


def _sync_one(app: Any, session: Session, models: Models, client: ORCIDClient, orcid: str,
              breaker: CircuitBreaker | None) -> bool:
    """Reconcile one requested record; False when ORCID could not be read (try again)."""
    Account = models.Account
    account = session.scalars(
        sa.select(Account).where(Account.orcid == orcid, Account.status == ACTIVE)
    ).first()
    if account is None:
        return True
    try:
        summary = reconcile(session, models, client, account,
                            client_id=app.config.get("ORCID_CLIENT_ID"), sender=app)
    except Exception:  # a bug must not hold the record's rows back for ever
        session.rollback()
        log.exception("reconciling %s failed; its rows are delivered without it", orcid)
        return True
    log.info("sync: %s", summary.line())
    if breaker is not None:
        if summary.retry:
            breaker.failure(summary.error or "ORCID could not be read")
        elif summary.error is None and summary.checked:
            breaker.success()  # ORCID answered
    return not summary.retry


__all__ = ["SyncSummary", "process_sync_requests", "reconcile", "request_sync", "sync_records"]
