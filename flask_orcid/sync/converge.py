"""Converging one claimed batch: the ORCID calls for one record.

The rules (DESIGN "Connect and synchronize"): new works for one record go as one bulk POST
(per-slot results), single items as POST; a changed payload is a PUT with the stored put-code;
a retraction is a DELETE (404 counts as done); 409 / 9021 adopts the existing item (the
put-code from ORCID's message, else by listing /works and matching normalized ``self`` ids)
and then PUTs; a PUT answering 404 means the researcher removed the item, which is never
re-posted on our own; 401 parks the researcher's rows until they reconnect (see
:func:`.connections.token_rejected`); 400 / 403 park the row with ORCID's message; anything
transient is retried with backoff. Writing each outcome is :class:`.results.ResultWriter`'s job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import DuplicateError, NotFoundError, ORCIDError, ServerError, ValidationError
from ..protocol.client import ORCIDClient
from ..protocol.model import Affiliation, Work
from ..protocol.records import WorkSummary
from ..protocol.vocabulary import MAX_BULK
from .claim import release
from .connections import token_rejected
from .policy import is_outage
from .results import PassResult, ResultWriter, Row, RunContext
from .states import PARK_CONFLICT, PARK_REJECTED

__all__ = ["Convergence"]

log = logging.getLogger(__name__)


class Convergence(ResultWriter):
    """Converging one claim: the calls for one record (results written by the base class)."""

    def __init__(self, ctx: RunContext, session: Session, client: ORCIDClient, token: str,
                 account: Any, result: PassResult) -> None:
        # account: the researcher's Account row (Any: its class is built at run time)
        super().__init__(ctx, session, token, account.user_key, account.orcid, result)
        self.client = client
        self.access_token: str = account.access_token
        self._listing: dict[tuple[str, str], int] | None = None
        Item = self.models.Item
        # put-codes other rows of this researcher already hold, per section (never adopt one
        # twice; put-codes of different sections may coincide)
        self.held = {
            (kind, pc): key for kind, pc, key in session.execute(
                sa.select(Item.kind, Item.put_code, Item.key).where(
                    Item.user_key == self.user_key, Item.put_code.is_not(None))
            )
        }
        # a row whose put-code belongs to another iD (a reconnect with another record)
        # starts over as new
        self.stale_ids = set(session.scalars(
            sa.select(Item.id).where(Item.user_key == self.user_key, Item.orcid.is_not(None),
                                     Item.orcid != self.orcid)
        ))

    def execute(self, rows: list[Row]) -> None:
        new_works: list[Row] = []
        for row in rows:
            if row.id in self.stale_ids:
                row.put_code = None
                row.written_hash = None
        for row in rows:
            if self.auth_lost or self._paused():
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
            elif row.earlier_ids() and not self.adopt_earlier(row):
                continue
            elif row.kind == "work":
                new_works.append(row)
            else:
                self.post_one(row)
        if self.auth_lost:
            self.auth_rejected()
            return
        if self._paused():
            new_works = []
        if len(new_works) == 1:
            self.post_one(new_works[0])
        elif new_works:
            self.post_bulk(new_works)
        if self.auth_lost:
            self.auth_rejected()
            return
        # rows without a written result (a lost lease, a bug) go back to the next pass
        if {r.id for r in rows} - self.written:
            release(self.session, self.models, self.token)

    def _call(self, fn: Callable[..., Any], *args: Any) -> tuple[Any, BaseException | None, int]:
        started = time.monotonic()
        breaker = self.ctx.breaker
        try:
            value = fn(*args)
        except Exception as exc:
            if breaker is not None:
                if is_outage(exc):
                    breaker.failure(f"{type(exc).__name__}: {exc}")
                elif isinstance(exc, ORCIDError):
                    breaker.success()  # ORCID answered
            return None, exc, int((time.monotonic() - started) * 1000)
        if breaker is not None:
            breaker.success()
        return value, None, int((time.monotonic() - started) * 1000)

    def _paused(self) -> bool:
        """The circuit breaker opened: leave the rest of the batch for after the pause."""
        return self.ctx.breaker is not None and self.ctx.breaker.is_open()

    def adopt_earlier(self, row: Row) -> bool:
        """A row never confirmed whose identifiers changed since a POST may have landed:
        look for our item under the earlier identifiers too, and update it in place.

        Returns True when nothing was found (post the row as new).
        """
        pc, exc = self.find_put_code(row)
        if exc is not None:
            self.fail(row, "GET works", exc, 0)
            return False
        if pc is None:
            return True
        other = self.held.get((row.kind, pc))
        if other is not None and other != row.key:
            return True  # another key's item: ORCID's 409 will tell
        self.held[(row.kind, pc)] = row.key
        self.put(row, int(pc))
        return False

    def post_one(self, row: Row) -> None:
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

    def post_bulk(self, rows: list[Row]) -> None:
        for start in range(0, len(rows), MAX_BULK):
            chunk = [(r, self._item(r)) for r in rows[start:start + MAX_BULK]]
            loaded = [(r, it) for r, it in chunk if it is not None]
            if loaded and not self._post_chunk(loaded):
                return

    def _post_chunk(self, chunk: list[tuple[Row, Work | Affiliation]]) -> bool:
        """One bulk POST (at most ``MAX_BULK`` works); then each slot's outcome.

        Returns False when ORCID refused the token and no further chunk may be sent.
        """
        results, exc, ms = self._call(self.client.add_works, self.orcid, self.access_token,
                                      [it for _, it in chunk])
        if exc is not None:
            for r, _ in chunk:
                self.fail(r, "POST bulk", exc, ms, commit=False)
            self.session.commit()
            return not self.auth_lost
        by_index = {res.index: res for res in results}
        adopt: list[tuple[Row, DuplicateError]] = []
        created: list[tuple[Row, int]] = []
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
                return False
            self.adopt(r, err)
        return not self.auth_lost

    def put(self, row: Row, put_code: int) -> None:
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

    def delete(self, row: Row, put_code: int) -> None:
        _, exc, ms = self._call(self.client.delete_item, self.orcid, self.access_token,
                                row.kind, put_code)
        if exc is None or isinstance(exc, NotFoundError):
            self.mark_deleted(row, "DELETE", 404 if exc else 204, ms)
        else:
            self.fail(row, "DELETE", exc, ms)

    def delete_unknown(self, row: Row) -> None:
        """A retracted row that may have reached ORCID without us learning its put-code."""
        pc, exc = self.find_put_code(row)
        if exc is not None:
            self.fail(row, "GET works", exc, 0)
        elif pc is None:
            self.mark_deleted(row, "lookup", None, 0)
        else:
            self.delete(row, pc)

    def adopt(self, row: Row, err: DuplicateError) -> None:
        """409 / 9021: the item is already there (maybe from a POST whose answer we lost)."""
        pc = err.existing_put_code
        if pc is None:
            pc, exc = self.find_put_code(row)
            if exc is not None:
                self.fail(row, "GET works", exc, 0)
                return
        if pc is None:
            self.park(row, "adopt", PARK_CONFLICT, err, 0,
                      message="ORCID reports this item as already added by this site, but it "
                              "could not be found on the record.")
            return
        other = self.held.get((row.kind, pc))
        if other is not None and other != row.key:
            self.park(row, "adopt", PARK_CONFLICT, err, 0,
                      message=f"The same identifier is already on the record as item "
                              f"{other!r}; ORCID keeps one copy per identifier.")
            return
        self.held[(row.kind, pc)] = row.key
        # We cannot know what the existing copy holds without reading it; a PUT costs the
        # same one request and guarantees the record matches the desired payload.
        self.put(row, int(pc))

    def find_put_code(self, row: Row) -> tuple[int | None, BaseException | None]:
        """Our item on the record with the same normalized ``self`` ids, by listing."""
        item = self._item(row, park=False)
        if item is None:
            return None, None
        wanted = item.self_ids() | row.earlier_ids()
        if not wanted:
            return None, None
        if row.kind == "work":
            return self._find_work(wanted)
        return self._find_affiliation(row.kind, wanted)

    def _find_work(self, wanted: set[tuple[str, str]]
                   ) -> tuple[int | None, BaseException | None]:
        """By the ``self`` ids of our work summaries (one listing per claim, kept)."""
        if self._listing is None:
            summaries, exc, _ = self._call(self.client.read_works, self.orcid,
                                           self.access_token)
            if exc is not None:
                return None, exc
            self._listing = {}
            for s in summaries:
                # a summary without a source client id is the researcher's own: not ours
                if s.put_code is None or not _ours(s, self.client_id):
                    continue
                for sid in _summary_self_ids(s):
                    self._listing.setdefault(sid, s.put_code)
        for sid in wanted:
            if sid in self._listing:
                return int(self._listing[sid]), None
        return None, None

    def _find_affiliation(self, section: str, wanted: set[tuple[str, str]]
                          ) -> tuple[int | None, BaseException | None]:
        """Affiliation summaries carry no external ids in our model: read ours one by one."""
        summaries, exc, _ = self._call(self.client.read_affiliations, self.orcid,
                                       self.access_token, section)
        if exc is not None:
            return None, exc
        for s in summaries:
            if s.put_code is None or not _ours(s, self.client_id):
                continue
            full, exc, _ = self._call(self.client.read_affiliation, self.orcid,
                                      self.access_token, section, s.put_code)
            if exc is not None:
                return None, exc
            if full.self_ids() & wanted:
                return int(s.put_code), None
        return None, None

    def _item(self, row: Row, park: bool = True) -> Work | Affiliation | None:
        try:
            return row.item()
        except (ValidationError, ValueError, TypeError, KeyError) as exc:
            if park:
                self.park(row, "load", PARK_REJECTED, exc, 0,
                          message=f"The stored item cannot be read: {exc}")
            return None

    def auth_rejected(self) -> None:
        """401: ORCID refused the token; the shared routine decides what that means."""
        self.result.parked += token_rejected(self.session, self.models, self.user_key,
                                             self.access_token, lease=self.token)

    @property
    def client_id(self) -> str:
        return self.ctx.client_id


def _ours(summary: Any, client_id: str) -> bool:
    """Only items whose source is our client id are ours (none: the researcher's own)."""
    return bool(client_id) and summary.source_client_id == client_id


def _summary_self_ids(summary: WorkSummary) -> set[tuple[str, str]]:
    """Normalized ``self`` ids of a work summary, normalized as the model normalizes them."""
    try:
        return Work(title=summary.title or "untitled",
                    external_ids=list(summary.external_ids or [])).self_ids()
    except Exception:  # a summary we cannot normalize matches nothing
        return set()
