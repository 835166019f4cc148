"""Researchers' connections: storing tokens, giving them up, and ORCID refusing them.

One place answers "ORCID refused this connection's token" (:func:`token_rejected`) for the
worker, reconciliation, prefill and webhooks alike; it first checks that the token refused is
still the stored one, so a researcher who signs in again while a pass runs keeps the new
connection. Tokens we give up are queued in ``orcid_pending_revocations`` and committed before
ORCID is asked to revoke them, so none is left live and forgotten when ORCID is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import OAuthError, ORCIDError
from ..protocol.client import ORCIDClient
from .clock import utcnow
from .crypto import TokenCipher
from .mixins import AccountMixin, PendingRevocationMixin
from .models import Models
from .sql import any_row, rowcount
from .states import (
    ACTIVE,
    AWAITING,
    DECLINED,
    FAILED,
    PARK_AUTH,
    PARK_MOVED,
    PARKED,
    PENDING,
    REMOVED,
)

__all__ = [
    "AUTH_MESSAGE",
    "SCOPE_MESSAGE",
    "attempt_revocations",
    "disconnect",
    "park_for_auth",
    "moved_message",
    "park_lost_connections",
    "parse_scopes",
    "queue_revocations",
    "record_moved",
    "retry_delay",
    "retry_pending_revocations",
    "rotate_keys",
    "store_token",
    "token_rejected",
]

log = logging.getLogger(__name__)

AUTH_MESSAGE = (
    "ORCID no longer accepts this site's permission for the record (it was revoked or "
    "expired). Delivery resumes when the researcher connects again."
)
SCOPE_MESSAGE = (
    "The connection lacks the permission to update the record. Delivery resumes when the "
    "researcher connects again and grants it."
)


def parse_scopes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Scopes (a space-separated string or a list) as a tuple, order kept, no repeats."""
    if value is None:
        return ()
    items = value.split() if isinstance(value, str) else [s for v in value for s in v.split()]
    return tuple(dict.fromkeys(items))


# -- ORCID refused a token ----------------------------------------------------------------------

def park_for_auth(session: Session, models: Models, users: str | sa.Select[Any], *,
                  lease: str | None = None) -> int:
    """Park the due rows of ``users`` (a user key or a SQL selectable of them) until reconnect.

    Rows leased by another worker are left to it (its lease expires if it died); rows leased
    under ``lease`` (the caller's own claim) are parked too. Does not commit.
    """
    Item = models.Item
    now = utcnow()
    who = Item.user_key.in_(users) if isinstance(users, sa.Select) else Item.user_key == users
    free = sa.or_(Item.lease_owner.is_(None), Item.lease_expires_at < now)
    mine = Item.lease_owner == lease if lease is not None else sa.false()
    result = session.execute(
        sa.update(Item).where(who, sa.or_(mine, sa.and_(Item.state.in_((PENDING, FAILED)), free)))
        .values(state=PARKED, park_reason=PARK_AUTH, next_attempt_at=None, error_status=401,
                error_code=None, error_message=AUTH_MESSAGE, lease_owner=None,
                lease_expires_at=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return rowcount(result)


def token_rejected(session: Session, models: Models, user_key: str, token_used: str | None,
                   *, lease: str | None = None) -> int:
    """ORCID answered 401 to ``token_used``: mark the connection invalid and park its rows.

    Only if ``token_used`` is still the stored access token: a researcher who signed in again
    since the caller read the account has a new, working token, and nothing is marked (the
    caller's leased rows are released for the next pass instead). Commits. Returns how many
    rows were parked.
    """
    session.commit()  # whatever the caller recorded so far (events)
    Account, Item = models.Account, models.Item
    # populate_existing: the caller's session may hold the account as it was when the pass
    # began (sessions without expire-on-commit); what counts is the row as stored now.
    account = session.scalars(sa.select(Account).where(Account.user_key == user_key)
                              .order_by(Account.id)
                              .execution_options(populate_existing=True)).first()
    if account is None or account.status != ACTIVE or account.access_token != token_used:
        if lease is not None:
            session.execute(
                sa.update(Item).where(Item.lease_owner == lease)
                .values(lease_owner=None, lease_expires_at=None),
                execution_options={"synchronize_session": False},
            )
        if account is not None and account.status == ACTIVE:
            log.info("a 401 for %s came for a token that was since replaced; kept the new one",
                     account.orcid)
        session.commit()
        return 0
    account.mark_invalid()
    parked = park_for_auth(session, models, user_key, lease=lease)
    session.commit()
    log.warning("ORCID refused the token for %s: connection marked invalid", account.orcid)
    return parked


def moved_message(deprecated: str, primary: str | None) -> str:
    """The admin's reason for rows of a deprecated or merged record (ORCID's 9007)."""
    if primary:
        return (f"ORCID merged the record {deprecated} into {primary}. The items are for "
                f"{primary} now and are sent when the researcher connects that iD.")
    return (f"ORCID deprecated the record {deprecated} without naming the record it was "
            "merged into. The items are sent when the researcher connects their current iD.")


def record_moved(session: Session, models: Models, user_key: str, deprecated: str,
                 primary: str | None, *, lease: str | None = None) -> int:
    """ORCID answered 9007: ``deprecated`` is merged into ``primary`` (when ORCID named it).

    ORCID clears a deprecated record (ProfileEntityManagerImpl.deprecateProfile) and the token
    was granted for it, so every row of the researcher, delivered or not, is moved to the
    primary iD without a put-code and parked until they connect again; then everything is
    sent to the primary record anew. The connection moves to the primary iD too (unless
    another user here holds it), so connecting that iD is a reconnection. Rows the researcher
    removed stay removed. Only if the stored connection is still the deprecated iD's.
    Commits; returns how many rows moved.
    """
    session.commit()
    Account, Item = models.Account, models.Item
    account = session.scalars(sa.select(Account).where(Account.user_key == user_key)
                              .order_by(Account.id)
                              .execution_options(populate_existing=True)).first()
    if account is None or account.orcid != deprecated:
        return 0
    if account.status == ACTIVE:
        account.mark_invalid()
    taken = primary is not None and session.scalar(
        sa.select(Account.id).where(Account.orcid == primary)) is not None
    if primary is not None and not taken:
        account.orcid = primary  # the researcher's iD is the primary one now
    else:
        primary = None if taken else primary
    now = utcnow()
    free = sa.or_(Item.lease_owner.is_(None), Item.lease_expires_at < now)
    mine = Item.lease_owner == lease if lease is not None else sa.false()
    result = session.execute(
        # (rows waiting for approval or declined stay so: parking would resume them later)
        sa.update(Item).where(Item.user_key == user_key,
                              Item.state.not_in((REMOVED, AWAITING, DECLINED)),
                              sa.or_(Item.orcid.is_(None), Item.orcid == deprecated),
                              sa.or_(mine, free))
        .values(state=PARKED, park_reason=PARK_MOVED, orcid=primary, put_code=None,
                written_hash=None, next_attempt_at=None, error_status=None, error_code=9007,
                error_message=moved_message(deprecated, primary), lease_owner=None,
                lease_expires_at=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    log.warning("ORCID record %s was merged into %s: its rows wait for a new connection",
                deprecated, primary or "an unnamed record")
    return rowcount(result)


def park_lost_connections(session: Session, models: Models) -> int:
    """Rows waiting for a connection ORCID no longer accepts become parked with the reason.

    A 401 parks the rows of the batch at hand; this sweep (at the start of every delivery
    pass) catches the rest: rows published afterwards, or written back by another worker after
    the connection was marked invalid. Rows of users who never connected stay pending.
    """
    Account = models.Account
    if not any_row(session, Account.status != ACTIVE):
        return 0
    lost = sa.select(Account.user_key).where(Account.status != ACTIVE)
    return park_for_auth(session, models, lost)


# -- storing and giving up tokens ---------------------------------------------------------------

def store_token(account: AccountMixin, token: dict[str, Any], environment: str) -> list[str]:
    """Put a token response on ``account``; returns the old tokens it replaced."""
    old = [t for t in (account.access_token, account.refresh_token) if t] if account.id else []
    account.access_token = token["access_token"]
    account.refresh_token = token.get("refresh_token")
    account.scopes = " ".join(parse_scopes(token.get("scope") or ""))
    account.name = (token.get("name") or None) and str(token["name"])[:255]
    account.environment = environment
    account.status = ACTIVE
    expires_in = token.get("expires_in")
    try:
        account.expires_at = utcnow() + timedelta(seconds=int(expires_in)) if expires_in else None
    except (TypeError, ValueError, OverflowError):
        account.expires_at = None
    new = {token.get("access_token"), token.get("refresh_token")}
    return [t for t in old if t not in new]


def retry_delay(attempts: int) -> timedelta:
    """Back-off before the next revocation attempt: 1 min, doubling, at most a day."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 86400))


def queue_revocations(session: Session, models: Models, tokens: Iterable[str | None],
                      orcid: str | None, environment: str) -> list[PendingRevocationMixin]:
    """Add pending-revocation rows for ``tokens`` to the session (the caller commits)."""
    rows: list[PendingRevocationMixin] = []
    for token in dict.fromkeys(t for t in tokens if t):
        row = models.PendingRevocation(orcid=orcid, environment=environment, attempts=0)
        row.token = token
        row.next_attempt_at = utcnow()
        session.add(row)
        rows.append(row)
    return rows


def attempt_revocations(session: Session, client: ORCIDClient,
                        rows: Iterable[PendingRevocationMixin]) -> tuple[int, int]:
    """Try to revoke each queued token now; commit. Returns (revoked, still pending).

    Stops at the first sign that ORCID is down (the rest stay queued, untouched), so a
    disconnect during an outage costs one failed call, not one per token.
    """
    rows = list(rows)
    # every token read before the first call: a row deleted after a revocation would otherwise
    # be flushed by the next row's load, and the open write would make the rate budget (its
    # own connection, on SQLite) wait for it
    tokens = [row.token for row in rows]
    revoked: list[PendingRevocationMixin] = []
    pending = len(rows)
    for index, (row, token) in enumerate(zip(rows, tokens, strict=True)):
        try:
            client.revoke(token)
        except OAuthError as exc:
            # RFC 7009: revoking an unknown or already-revoked token is not an error, so ORCID
            # saying the token is invalid means it is dead. Any other refusal (our client
            # credentials, say) leaves it live: keep it. (API-FACTS §2.5: exact error values
            # UNCONFIRMED, so only these two count as done.)
            if exc.error in ("invalid_token", "invalid_grant"):
                revoked.append(row)
                continue
            _revocation_failed(row, exc.error or type(exc).__name__)
        except ORCIDError as exc:
            _revocation_failed(row, type(exc).__name__)
            pending = len(rows) - index
            break
        else:
            revoked.append(row)
    else:
        pending = len(rows) - len(revoked)
    _forget(session, revoked)
    session.commit()
    return len(revoked), pending


def _forget(session: Session, rows: list[PendingRevocationMixin]) -> None:
    """Delete the rows of revoked tokens. Another process (a second worker, a disconnect
    retrying) may have revoked and deleted some of them meanwhile: one statement by id, which
    finds what is left, instead of the ORM's delete, which counts on every row being there."""
    if not rows:
        return
    table = sa.inspect(type(rows[0])).local_table
    session.execute(sa.delete(table).where(table.c.id.in_([row.id for row in rows])))
    for row in rows:
        session.expunge(row)


def _revocation_failed(row: PendingRevocationMixin, reason: str) -> None:
    row.attempts = (row.attempts or 0) + 1
    row.last_error = reason[:255]
    row.next_attempt_at = utcnow() + retry_delay(row.attempts)
    log.warning("could not revoke a token of %s at ORCID (%s); retry #%d queued",
                row.orcid, reason, row.attempts)


def retry_pending_revocations(session: Session, models: Models, client: ORCIDClient,
                              environment: str, *, limit: int | None = 100,
                              due_only: bool = True) -> tuple[int, int]:
    """Retry queued revocations of ``environment``. Returns (revoked now, still pending)."""
    model = models.PendingRevocation
    stmt = sa.select(model).where(model.environment == environment)
    if due_only:
        stmt = stmt.where(model.next_attempt_at <= utcnow())
    stmt = stmt.order_by(model.next_attempt_at)
    if limit:
        stmt = stmt.limit(limit)
    rows = list(session.scalars(stmt))
    if not rows:
        return 0, 0
    return attempt_revocations(session, client, rows)


def disconnect(session: Session, models: Models, client: ORCIDClient, account: AccountMixin,
               environment: str, *,
               before_delete: Iterable[Callable[[AccountMixin], object]] = ()) -> str:
    """Revoke ``account``'s tokens at ORCID (queued when ORCID is unreachable) and delete
    everything stored for the connection; ``before_delete`` hooks run in the same transaction
    first. Returns the iD."""
    orcid_id: str = account.orcid
    tokens = [account.access_token, account.refresh_token]
    for hook in before_delete:
        hook(account)
    rows = queue_revocations(session, models, tokens, orcid_id, environment)
    session.delete(account)
    session.commit()
    log.info("disconnected ORCID iD %s", orcid_id)
    _done, kept = attempt_revocations(session, client, rows)
    if not kept:  # ORCID answered: a good moment to retry older failures too
        retry_pending_revocations(session, models, client, environment, limit=10)
    return orcid_id


def rotate_keys(session: Session, models: Models, cipher: TokenCipher) -> tuple[int, int, int]:
    """Re-encrypt every stored token under ``cipher``'s first key; all or nothing.

    Returns (tokens re-encrypted, accounts, pending revocations). Raises
    :class:`~.crypto.TokenDecryptionError` (and changes nothing) if one cannot be decrypted.
    """
    tokens = accounts = pending = 0
    try:
        for account in session.scalars(sa.select(models.Account)):
            accounts += 1
            for attr in ("_access_token", "_refresh_token"):
                value = getattr(account, attr)
                if value:
                    setattr(account, attr, cipher.rotate(value))
                    tokens += 1
        for row in session.scalars(sa.select(models.PendingRevocation)):
            pending += 1
            row._token = cipher.rotate(row._token)
            tokens += 1
    except Exception:
        session.rollback()
        raise
    session.commit()
    return tokens, accounts, pending
