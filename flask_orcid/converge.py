"""Converging one claimed batch: the ORCID calls for one record, and writing their results.

The rules (DESIGN "Connect and synchronize", issue 5): new works for one record go as one
bulk POST (per-slot results), single items as POST; a changed payload is a PUT with the stored
put-code; a retraction is a DELETE (404 counts as done); 409 / 9021 adopts the existing item
(the put-code from ORCID's message, else by listing /works and matching normalized ``self``
ids) and then PUTs; a PUT answering 404 means the researcher removed the item, which is
never re-posted on our own; 401 parks the researcher's rows until they reconnect; 400 / 403
park the row with ORCID's message; anything transient is retried with backoff.

Every result is written with ``UPDATE … WHERE lease_owner = <claim token>``, so a worker that
lost its lease never overwrites a newer state.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import outbox as ob
from .errors import (
    APIError,
    BadRequestError,
    ConflictError,
    DuplicateError,
    ForbiddenError,
    InsufficientScopeError,
    InvalidTokenError,
    NotFoundError,
    ORCIDError,
    RateLimitedError,
    RecordDeprecatedError,
    ServerError,
    TransportError,
    ValidationError,
    XMLError,
)
from .outbox import FAILED, PARKED, PENDING, REMOVED, SYNCED, utcnow

if TYPE_CHECKING:
    from .delivery import Deliverer, PassResult

log = logging.getLogger(__name__)

BULK_LIMIT = 100  # API-FACTS §4: at most 100 works per bulk POST

AUTH_MESSAGE = (
    "ORCID no longer accepts this site's permission for the record (it was revoked or "
    "expired). Delivery resumes when the researcher connects again."
)
SCOPE_MESSAGE = (
    "The connection lacks the permission to update the record. Delivery resumes when the "
    "researcher connects again and grants it."
)

def _error_fields(exc: BaseException) -> dict:
    """Status, ORCID code and the message we show people for an exception."""
    if isinstance(exc, APIError):
        message = exc.user_message or exc.developer_message or str(exc)
        return {"error_status": exc.status, "error_code": exc.error_code,
                "error_message": (message or type(exc).__name__)[:2000]}
    return {"error_status": None, "error_code": None,
            "error_message": (str(exc) or type(exc).__name__)[:2000]}


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later: ORCID down, slow, overloaded or unreachable."""
    if isinstance(exc, (ServerError, RateLimitedError, TransportError, XMLError)):
        return True
    if isinstance(exc, APIError) and exc.status is not None and exc.status >= 500:
        return True
    return not isinstance(exc, ORCIDError)  # unexpected: retry rather than lose the row


@dataclass
class _Row:
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

    def item(self):
        return ob.item_from_payload(self.kind, json.loads(self.payload))


class Convergence:
    """Converging one claim: the calls for one record, and writing their results."""

    def __init__(self, deliverer: Deliverer, session: Session, client, token: str,
                 user_key: str, account, result: PassResult) -> None:
        self.d = deliverer
        self.models = deliverer.models
        self.session = session
        self.client = client
        self.token = token
        self.user_key = user_key
        self.account = account
        self.orcid = account.orcid
        self.access_token = account.access_token
        self.result = result
        self.auth_lost = False
        self.written: set[int] = set()
        self._listing: dict[tuple[str, str], int] | None = None
        # put-codes other rows of this researcher already hold, per section (never adopt one
        # twice; put-codes of different sections may coincide)
        Item = self.models.Item
        self.held = {
            (kind, pc): key for kind, pc, key in session.execute(
                sa.select(Item.kind, Item.put_code, Item.key).where(
                    Item.user_key == user_key, Item.put_code.is_not(None))
            )
        }
        # a row whose put-code belongs to another iD (a reconnect with another record)
        # starts over as new
        self.stale_ids = {
            rid for rid, o in session.execute(
                sa.select(Item.id, Item.orcid).where(
                    Item.user_key == user_key, Item.orcid.is_not(None),
                    Item.orcid != self.orcid)
            )
        }

    # ... planning

    def execute(self, rows: list[_Row]) -> None:
        new_works: list[_Row] = []
        for row in rows:
            if row.id in self.stale_ids:
                row.put_code = None
                row.written_hash = None
        for row in rows:
            if self.auth_lost:
                break
            if row.retracted:
                if row.put_code is not None:
                    self.delete(row, row.put_code)
                else:
                    self.delete_unknown(row)
            elif row.put_code is not None:
                if row.written_hash == row.payload_hash:
                    self.mark_synced(row, row.put_code, "noop", None, 0)
                else:
                    self.put(row, row.put_code)
            elif row.kind == "work":
                new_works.append(row)
            else:
                self.post_one(row)
        if self.auth_lost:
            self.park_all_for_auth()
            return
        if len(new_works) == 1:
            self.post_one(new_works[0])
        elif new_works:
            self.post_bulk(new_works)
        if self.auth_lost:
            self.park_all_for_auth()
            return
        # rows without a written result (a lost lease, a bug) go back to the next pass
        if {r.id for r in rows} - self.written:
            self.d._release(self.session, self.token)

    # ... calls

    def _call(self, fn, *args):
        started = time.monotonic()
        try:
            value = fn(*args)
            return value, None, int((time.monotonic() - started) * 1000)
        except Exception as exc:
            return None, exc, int((time.monotonic() - started) * 1000)

    def post_one(self, row: _Row) -> None:
        item = self._item(row)
        if item is None:
            return
        pc, exc, ms = self._call(self.client.add_item, self.orcid, self.access_token, item)
        if exc is None:
            self.mark_synced(row, pc, "POST", 201, ms)
        elif isinstance(exc, DuplicateError):
            self.event(row, "POST", exc, ms, "duplicate")
            self.adopt(row, exc)
        else:
            self.fail(row, "POST", exc, ms)

    def post_bulk(self, rows: list[_Row]) -> None:
        for start in range(0, len(rows), BULK_LIMIT):
            chunk = [(r, self._item(r)) for r in rows[start:start + BULK_LIMIT]]
            chunk = [(r, it) for r, it in chunk if it is not None]
            if not chunk:
                continue
            results, exc, ms = self._call(self.client.add_works, self.orcid, self.access_token,
                                          [it for _, it in chunk])
            if exc is not None:
                for r, _ in chunk:
                    self.fail(r, "POST bulk", exc, ms, commit=False)
                self.session.commit()
                if self.auth_lost:
                    return
                continue
            by_index = {res.index: res for res in results}
            adopt: list[tuple[_Row, DuplicateError]] = []
            created: list[tuple[_Row, int]] = []
            for i, (r, _) in enumerate(chunk):
                res = by_index.get(i)
                if res is None:
                    self.fail(r, "POST bulk",
                              ServerError("ORCID's bulk answer had no result for this work",
                                          status=200), ms, commit=False)
                elif res.error is None and res.put_code is not None:
                    created.append((r, int(res.put_code)))
                elif isinstance(res.error, DuplicateError):
                    self.event(r, "POST bulk", res.error, ms, "duplicate")
                    adopt.append((r, res.error))
                else:
                    self.fail(r, "POST bulk", res.error or ServerError(
                        "ORCID's bulk answer had neither a put-code nor an error",
                        status=200), ms, commit=False)
            if created:
                self.mark_synced_many(created, "POST bulk", 200, ms)
            self.session.commit()
            for r, err in adopt:
                if self.auth_lost:
                    return
                self.adopt(r, err)

    def put(self, row: _Row, put_code: int) -> None:
        item = self._item(row)
        if item is None:
            return
        _, exc, ms = self._call(self.client.update_item, self.orcid, self.access_token,
                                item, put_code)
        if exc is None:
            self.mark_synced(row, put_code, "PUT", 200, ms)
        elif isinstance(exc, NotFoundError):
            # The researcher deleted it: never re-post on our own (DESIGN, issue 5).
            self.mark_removed(row, put_code, "PUT", exc, ms)
        else:
            self.fail(row, "PUT", exc, ms)

    def delete(self, row: _Row, put_code: int) -> None:
        _, exc, ms = self._call(self.client.delete_item, self.orcid, self.access_token,
                                row.kind, put_code)
        if exc is None or isinstance(exc, NotFoundError):
            self.mark_deleted(row, "DELETE", 404 if exc else 204, ms)
        else:
            self.fail(row, "DELETE", exc, ms)

    def delete_unknown(self, row: _Row) -> None:
        """A retracted row that may have reached ORCID without us learning its put-code."""
        pc, exc = self.find_put_code(row)
        if exc is not None:
            self.fail(row, "GET works", exc, 0)
        elif pc is None:
            self.mark_deleted(row, "lookup", None, 0)
        else:
            self.delete(row, pc)

    def adopt(self, row: _Row, err: DuplicateError) -> None:
        """409 / 9021: the item is already there (maybe from a POST whose answer we lost)."""
        pc = err.existing_put_code
        if pc is None:
            pc, exc = self.find_put_code(row)
            if exc is not None:
                self.fail(row, "GET works", exc, 0)
                return
        if pc is None:
            self.park(row, "adopt", ob.PARK_CONFLICT, err, 0,
                      message="ORCID reports this item as already added by this site, but it "
                              "could not be found on the record.")
            return
        other = self.held.get((row.kind, pc))
        if other is not None and other != row.key:
            self.park(row, "adopt", ob.PARK_CONFLICT, err, 0,
                      message=f"The same identifier is already on the record as item "
                              f"{other!r}; ORCID keeps one copy per identifier.")
            return
        self.held[(row.kind, pc)] = row.key
        # We cannot know what the existing copy holds without reading it; a PUT costs the
        # same one request and guarantees the record matches the desired payload.
        self.put(row, int(pc))

    def find_put_code(self, row: _Row) -> tuple[int | None, BaseException | None]:
        """Our item on the record with the same normalized ``self`` ids, by listing."""
        item = self._item(row, park=False)
        if item is None:
            return None, None
        wanted = item.self_ids()
        if not wanted:
            return None, None
        if row.kind == "work":
            if self._listing is None:
                summaries, exc, ms = self._call(self.client.read_works, self.orcid,
                                                self.access_token)
                if exc is not None:
                    return None, exc
                self._listing = {}
                for s in summaries:
                    if s.source_client_id and s.source_client_id != self.client_id:
                        continue
                    for sid in _summary_self_ids(s):
                        self._listing.setdefault(sid, s.put_code)
            for sid in wanted:
                if sid in self._listing:
                    return int(self._listing[sid]), None
            return None, None
        # affiliations: summaries carry no external ids in our model; read ours one by one
        summaries, exc, ms = self._call(self.client.read_affiliations, self.orcid,
                                        self.access_token, row.kind)
        if exc is not None:
            return None, exc
        for s in summaries:
            if s.source_client_id and s.source_client_id != self.client_id:
                continue
            full, exc, _ = self._call(self.client.read_affiliation, self.orcid,
                                      self.access_token, row.kind, s.put_code)
            if exc is not None:
                return None, exc
            if full.self_ids() & wanted:
                return int(s.put_code), None
        return None, None

    @property
    def client_id(self) -> str:
        return self.d.app.config.get("ORCID_CLIENT_ID") or ""

    def _item(self, row: _Row, park: bool = True):
        try:
            return row.item()
        except (ValidationError, ValueError, TypeError, KeyError) as exc:
            if park:
                self.park(row, "load", ob.PARK_REJECTED, exc, 0,
                          message=f"The stored item cannot be read: {exc}")
            return None

    # ... writing results (each fenced by our lease token)

    def _update(self, row: _Row, values: dict, commit: bool = True) -> bool:
        Item = self.models.Item
        self.written.add(row.id)
        res = self.session.execute(
            sa.update(Item).where(Item.id == row.id, Item.lease_owner == self.token)
            .values(lease_owner=None, lease_expires_at=None, updated_at=utcnow(), **values),
            execution_options={"synchronize_session": False},
        )
        if commit:
            self.session.commit()
        if not res.rowcount:
            log.warning("lost the lease on outbox row %s before writing its result", row.id)
            return False
        return True

    def event(self, row: _Row, operation: str, exc: BaseException | None, ms: int,
              outcome: str, status: int | None = None, put_code: int | None = None,
              message: str | None = None) -> None:
        fields = _error_fields(exc) if exc is not None else {}
        self.session.add(self.models.Event(
            item_id=row.id, user_key=self.user_key, orcid=self.orcid, kind=row.kind,
            key=row.key, operation=operation,
            status=fields.get("error_status") if exc is not None else status,
            error_code=fields.get("error_code"), outcome=outcome,
            message=message or fields.get("error_message"), put_code=put_code,
            duration_ms=ms, worker=self.d.owner[:64],
        ))

    def mark_synced(self, row: _Row, put_code: int, operation: str, status: int | None,
                    ms: int, commit: bool = True) -> None:
        Item = self.models.Item
        sent = row.payload_hash
        if operation != "noop":
            self.event(row, operation, None, ms, SYNCED, status=status, put_code=put_code)
        ok = self._update(row, {
            "put_code": put_code, "orcid": self.orcid, "written_hash": sent,
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
            self._signal("item_synced", row, put_code=put_code)

    def mark_synced_many(self, created: list[tuple[_Row, int]], operation: str,
                         status: int | None, ms: int) -> None:
        """``mark_synced`` for the slots of one bulk answer: two statements, not 2 per row."""
        table = self.models.Item.__table__
        c = table.c
        now = utcnow()
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
                lease_owner=None, lease_expires_at=None,
            )
        )
        self.session.execute(stmt, [
            {"b_id": r.id, "b_put_code": pc, "b_hash": r.payload_hash} for r, pc in created
        ])
        worker = self.d.owner[:64]
        self.session.execute(sa.insert(self.models.Event.__table__), [
            {"item_id": r.id, "user_key": self.user_key, "orcid": self.orcid, "kind": r.kind,
             "key": r.key, "operation": operation, "status": status, "error_code": None,
             "outcome": SYNCED, "message": None, "put_code": pc, "duration_ms": ms,
             "worker": worker, "created_at": now}
            for r, pc in created
        ])
        for r, pc in created:
            self.written.add(r.id)
            self.held[(r.kind, pc)] = r.key
            self.result.synced += 1
            self._signal("item_synced", r, put_code=pc)

    def mark_deleted(self, row: _Row, operation: str, status: int | None, ms: int) -> None:
        Item = self.models.Item
        self.event(row, operation, None, ms, "deleted", status=status, put_code=row.put_code)
        ok = self._update(row, {
            "put_code": None, "written_hash": None,
            "state": sa.case((Item.retracted.is_(True), SYNCED), else_=PENDING),
            "attempts": 0, "next_attempt_at": None, "park_reason": None,
            "error_status": None, "error_code": None, "error_message": None,
            "synced_at": utcnow(),
        })
        if ok:
            self.result.synced += 1

    def mark_removed(self, row: _Row, put_code: int, operation: str, exc, ms: int) -> None:
        Item = self.models.Item
        self.event(row, operation, exc, ms, REMOVED, put_code=put_code)
        ok = self._update(row, {
            "state": sa.case((Item.retracted.is_(True), SYNCED), else_=REMOVED),
            "put_code": sa.case((Item.retracted.is_(True), None), else_=Item.put_code),
            "attempts": 0, "next_attempt_at": None, "park_reason": None,
            "error_status": 404, "error_code": getattr(exc, "error_code", None),
            "error_message": "The researcher removed this item from their ORCID record.",
        })
        if ok:
            self.result.removed += 1
            self._signal("item_removed_by_researcher", row, put_code=put_code)

    def park(self, row: _Row, operation: str, reason: str, exc, ms: int,
             message: str | None = None, commit: bool = True) -> None:
        fields = _error_fields(exc) if exc is not None else {}
        if message:
            fields["error_message"] = message
        self.event(row, operation, exc, ms, PARKED, message=fields.get("error_message"))
        ok = self._update(row, {"state": PARKED, "park_reason": reason,
                                "attempts": row.attempts + 1, "next_attempt_at": None,
                                **fields}, commit=commit)
        if ok:
            self.result.parked += 1
            self._signal("item_failed", row, error=exc, parked=True)

    def fail(self, row: _Row, operation: str, exc: BaseException, ms: int,
             commit: bool = True) -> None:
        """Classify an error: retry later, park, or mark the connection invalid."""
        if isinstance(exc, InvalidTokenError):
            self.event(row, operation, exc, ms, PARKED, message=AUTH_MESSAGE)
            self.auth_lost = True
            return
        if isinstance(exc, InsufficientScopeError):
            self.park(row, operation, ob.PARK_SCOPE, exc, ms, message=SCOPE_MESSAGE,
                      commit=commit)
            return
        if isinstance(exc, (BadRequestError, ForbiddenError, RecordDeprecatedError,
                            ConflictError, NotFoundError, ValidationError)):
            self.park(row, operation, ob.PARK_REJECTED, exc, ms, commit=commit)
            return
        if not is_transient(exc):
            self.park(row, operation, ob.PARK_REJECTED, exc, ms, commit=commit)
            return
        if not isinstance(exc, ORCIDError):
            log.error("unexpected error delivering outbox row %s: %r", row.id, exc)
        attempts = row.attempts + 1
        if attempts >= self.d.settings.max_attempts:
            fields = _error_fields(exc)
            fields["error_message"] = (
                f"Gave up after {attempts} attempts; last error: {fields['error_message']}")
            self.event(row, operation, exc, ms, PARKED, message=fields["error_message"])
            ok = self._update(row, {"state": PARKED, "park_reason": ob.PARK_GAVE_UP,
                                    "attempts": attempts, "next_attempt_at": None, **fields},
                              commit=commit)
            if ok:
                self.result.parked += 1
                self._signal("item_failed", row, error=exc, parked=True)
            return
        from .delivery import backoff_delay

        delay = backoff_delay(attempts, self.d.settings, getattr(exc, "retry_after", None))
        self.event(row, operation, exc, ms, FAILED)
        ok = self._update(row, {"state": FAILED, "attempts": attempts, "park_reason": None,
                                "next_attempt_at": utcnow() + timedelta(seconds=delay),
                                **_error_fields(exc)}, commit=commit)
        if ok:
            self.result.failed += 1
            self._signal("item_failed", row, error=exc, parked=False)

    def park_all_for_auth(self) -> None:
        """401: the connection is dead. Mark it invalid and park its rows until reconnect."""
        Item, Account = self.models.Item, self.models.Account
        self.session.commit()  # the events recorded so far
        account = self.session.get(Account, self.account.id)
        if account is not None:
            mark = getattr(account, "mark_invalid", None)
            if callable(mark):
                mark()
            else:  # pragma: no cover - older account model
                account.status = "invalid"
        res = self.session.execute(
            sa.update(Item).where(
                Item.user_key == self.user_key,
                sa.or_(Item.lease_owner == self.token,
                       sa.and_(Item.state.in_((PENDING, FAILED)), Item.lease_owner.is_(None))),
            ).values(state=PARKED, park_reason=ob.PARK_AUTH, next_attempt_at=None,
                     error_status=401, error_code=None, error_message=AUTH_MESSAGE,
                     lease_owner=None, lease_expires_at=None, updated_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        self.session.commit()
        self.result.parked += res.rowcount or 0
        log.warning("ORCID refused the token for %s: connection marked invalid", self.orcid)

    def _signal(self, name: str, row: _Row, **extra) -> None:
        if not self.d.signals:
            return
        try:
            from . import signals as sigmod
        except ImportError:  # pragma: no cover - signals module not there yet
            return
        sig = getattr(sigmod, name, None)
        if sig is None:
            return
        try:
            sig.send(self.d.app, user_key=self.user_key, key=row.key, kind=row.kind,
                     orcid=self.orcid, **extra)
        except Exception:  # receivers only observe; they must not break delivery
            log.exception("a receiver of %s failed", name)


def _summary_self_ids(summary) -> set[tuple[str, str]]:
    """Normalized ``self`` ids of a work summary, normalized as the model normalizes them."""
    from .model import Work

    try:
        return Work(title=summary.title or "untitled",
                    external_ids=list(summary.external_ids or [])).self_ids()
    except Exception:  # a summary we cannot normalize matches nothing
        return set()


__all__ = ["AUTH_MESSAGE", "BULK_LIMIT", "Convergence", "is_transient"]
