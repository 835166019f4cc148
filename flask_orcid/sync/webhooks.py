"""ORCID webhooks: registration with a client-credentials token, and a signed callback URL.

ORCID's callback is an empty ``POST`` that does not say which record changed (API-FACTS §9),
so the URL carries the iD, plus an HMAC of it under ``ORCID_WEBHOOK_SECRET``: only URLs we
handed to ORCID trigger anything, and nobody can make us re-read arbitrary records. The URL
itself is built by the Flask layer (``callback_url``) and handed in as a function.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ConfigurationError, NotFoundError, ORCIDError
from ..protocol.client import ORCIDClient
from .clock import utcnow
from .models import Models
from .states import ACTIVE

log = logging.getLogger(__name__)


def _secret(config: Mapping[str, Any]) -> bytes:
    secret = config.get("ORCID_WEBHOOK_SECRET")
    if not secret:
        raise ConfigurationError(
            "Set ORCID_WEBHOOK_SECRET to a long random string before using webhooks: it signs "
            "the callback URLs ORCID calls."
        )
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def signature(config: Mapping[str, Any], orcid: str) -> str:
    """The HMAC-SHA256 (hex) of ``orcid`` under ``ORCID_WEBHOOK_SECRET``."""
    mac = hmac.new(_secret(config), f"orcid-webhook:{orcid}".encode(), hashlib.sha256)
    return mac.hexdigest()


def verify(config: Mapping[str, Any], orcid: str, sig: str) -> bool:
    """Constant-time check of a callback URL's signature; False when webhooks are off."""
    if not config.get("ORCID_WEBHOOK_SECRET") or not isinstance(sig, str):
        return False
    return hmac.compare_digest(signature(config, orcid), sig)


@dataclass
class WebhookResult:
    orcid: str
    ok: bool
    created: bool = False
    error: str | None = None


def _webhook_token(client: ORCIDClient) -> str:
    return client.client_credentials("/webhook")["access_token"]


Progress = Callable[[int, int, "WebhookResult"], None]


def register(db: Any, models: Models, client: ORCIDClient, callback_url: Callable[[str], str],
             orcids: list[str] | None = None,
             progress: Progress | None = None) -> list[WebhookResult]:
    """Register a callback for every active connection (or ``orcids``); records it locally.

    ``callback_url(orcid)`` gives the signed public URL ORCID should call.
    """
    Account, RecordSync = models.Account, models.RecordSync
    results: list[WebhookResult] = []
    callback_url("0000-0000-0000-0000")  # fail early on missing configuration
    token = _webhook_token(client)
    with Session(db.engine, expire_on_commit=False) as session:
        stmt = sa.select(Account.orcid).where(Account.status == ACTIVE)
        if orcids:
            stmt = sa.select(Account.orcid).where(Account.orcid.in_(orcids))
        targets = list(dict.fromkeys(session.scalars(stmt.order_by(Account.id))))
        for n, orcid in enumerate(targets, 1):
            url = callback_url(orcid)
            try:
                created = client.register_webhook(orcid, token, url)
            except ORCIDError as exc:
                results.append(WebhookResult(orcid, False, error=_describe(exc)))
            else:
                row = session.get(RecordSync, orcid) or RecordSync(orcid=orcid)
                row.webhook_url = url
                row.webhook_registered_at = utcnow()
                row.unregister_requested_at = None
                session.add(row)
                session.commit()
                results.append(WebhookResult(orcid, True, created=created))
            if progress:
                progress(n, len(targets), results[-1])
    return results


def unregister(db: Any, models: Models, client: ORCIDClient, orcids: list[str] | None = None,
               progress: Progress | None = None) -> list[WebhookResult]:
    """Remove our callbacks at ORCID (all we registered, or ``orcids``)."""
    RecordSync = models.RecordSync
    results: list[WebhookResult] = []
    token = _webhook_token(client)
    with Session(db.engine, expire_on_commit=False) as session:
        stmt = sa.select(RecordSync).where(RecordSync.webhook_url.is_not(None))
        if orcids:
            stmt = stmt.where(RecordSync.orcid.in_(orcids))
        rows = session.scalars(stmt.order_by(RecordSync.orcid)).all()
        for n, row in enumerate(rows, 1):
            try:
                client.unregister_webhook(row.orcid, token, row.webhook_url)
            except NotFoundError:
                pass  # 404 / 9028: already gone
            except ORCIDError as exc:
                results.append(WebhookResult(row.orcid, False, error=_describe(exc)))
                continue
            row.webhook_url = None
            row.webhook_registered_at = None
            session.commit()
            results.append(WebhookResult(row.orcid, True))
            if progress:
                progress(n, len(rows), results[-1])
    return results


def process_unregistrations(db: Any, models: Models, client: ORCIDClient, limit: int = 100) -> int:
    """Remove the hooks of disconnected records at ORCID (called by every delivery pass)."""
    RecordSync, Account = models.RecordSync, models.Account
    with Session(db.engine, expire_on_commit=False) as session:
        rows = session.scalars(
            sa.select(RecordSync).where(RecordSync.unregister_requested_at.is_not(None))
            .order_by(RecordSync.unregister_requested_at).limit(limit)
        ).all()
        if not rows:
            return 0
        try:
            token = _webhook_token(client)
        except ORCIDError as exc:
            log.warning("cannot get a /webhook token to remove old webhooks: %s",
                        type(exc).__name__)
            return 0
        done = 0
        for row in rows:
            if session.scalar(sa.select(Account.id).where(Account.orcid == row.orcid)):
                # connected again meanwhile: keep the hook
                row.unregister_requested_at = None
                session.commit()
                continue
            try:
                client.unregister_webhook(row.orcid, token, row.webhook_url)
            except NotFoundError:
                pass
            except ORCIDError as exc:
                log.warning("could not remove the webhook of %s: %s", row.orcid,
                            type(exc).__name__)
                continue
            session.delete(row)
            session.commit()
            done += 1
        return done


def unregistered_connections(db: Any, models: Models, limit: int = 50) -> list[str]:
    """Active connections whose record has no webhook of ours yet."""
    Account, RecordSync = models.Account, models.RecordSync
    with Session(db.engine) as session:
        return list(session.scalars(
            sa.select(Account.orcid)
            .outerjoin(RecordSync, RecordSync.orcid == Account.orcid)
            .where(Account.status == ACTIVE, RecordSync.webhook_url.is_(None))
            .order_by(Account.id).limit(limit)
        ))


def registered(db: Any, models: Models) -> list[Any]:
    """The callbacks we registered (ORCID offers no way to list them)."""
    RecordSync = models.RecordSync
    with Session(db.engine) as session:
        return list(session.execute(
            sa.select(RecordSync.orcid, RecordSync.webhook_registered_at,
                      RecordSync.last_synced_at)
            .where(RecordSync.webhook_url.is_not(None),
                   RecordSync.unregister_requested_at.is_(None))
            .order_by(RecordSync.orcid)
        ))


def _describe(exc: ORCIDError) -> str:
    code = getattr(exc, "error_code", None)
    status = getattr(exc, "status", None)
    parts = [type(exc).__name__]
    if status:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(f"ORCID {code}")
    return ", ".join(parts) + f": {exc}"


__all__ = [
    "process_unregistrations",
    "unregistered_connections",
    "register",
    "registered",
    "signature",
    "unregister",
    "verify",
]
