"""The researcher's ORCID connection, stored on the host's Flask-SQLAlchemy ``db``.

Tables are prefixed ``orcid_`` and defined on the host's metadata, so ``db.create_all()`` and
Alembic autogenerate see them. Tokens are stored encrypted (see :mod:`flask_orcid.crypto`); the
model exposes the plaintext only through properties, never in ``repr``.

``orcid_pending_revocations`` keeps every token we decided to give up (disconnect, reconnect,
a sign-in we refused) until ORCID has confirmed the revocation, so no token is ever left live
and forgotten when ORCID is down.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["AccountMixin", "Models", "PendingRevocationMixin", "define_models", "utcnow"]

ACTIVE = "active"
INVALID = "invalid"
REVOKED = "revoked"


def utcnow() -> datetime:
    """Naive UTC now: SQLite drops time zones, so every stored timestamp is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def _cipher():
    from .extension import get_state

    return get_state().cipher


class AccountMixin:
    """Behaviour of ``orcid.Account`` (columns are added by :func:`define_models`)."""

    _access_token: str | None
    _refresh_token: str | None
    scopes: str
    status: str
    orcid: str

    @property
    def access_token(self) -> str | None:
        return _cipher().decrypt(self._access_token) if self._access_token else None

    @access_token.setter
    def access_token(self, value: str | None) -> None:
        self._access_token = _cipher().encrypt(value) if value else None

    @property
    def refresh_token(self) -> str | None:
        return _cipher().decrypt(self._refresh_token) if self._refresh_token else None

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        self._refresh_token = _cipher().encrypt(value) if value else None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset((self.scopes or "").split())

    def has_scopes(self, *scopes: str) -> bool:
        """Whether every scope was granted (``openid`` counts as ``/authenticate``)."""
        granted = set(self.scope_set)
        if "openid" in granted:
            granted.add("/authenticate")
        return all(s in granted for s in scopes)

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def mark_invalid(self) -> None:
        """ORCID refused the token (401): keep the row, ask the researcher to reconnect."""
        self.status = INVALID

    def __repr__(self) -> str:
        return f"<ORCIDAccount {self.orcid} {self.status}>"


class PendingRevocationMixin:
    """A token to revoke at ORCID, kept until ORCID confirms (tokens encrypted)."""

    _token: str
    orcid: str | None
    attempts: int

    @property
    def token(self) -> str:
        return _cipher().decrypt(self._token)

    @token.setter
    def token(self, value: str) -> None:
        self._token = _cipher().encrypt(value)

    def __repr__(self) -> str:
        return f"<ORCIDPendingRevocation {self.orcid} attempts={self.attempts}>"


@dataclass(frozen=True)
class Models:
    Account: Any
    PendingRevocation: Any


_MODELS: weakref.WeakKeyDictionary[Any, Models] = weakref.WeakKeyDictionary()


def define_models(db: Any) -> Models:
    """Define the ``orcid_*`` tables on ``db`` once (cached per ``db``)."""
    cached = _MODELS.get(db)
    if cached is not None:
        return cached

    class ORCIDAccount(AccountMixin, db.Model):
        __tablename__ = "orcid_accounts"

        id = db.Column(db.Integer, primary_key=True)
        user_key = db.Column(db.String(255), nullable=False, index=True)
        orcid = db.Column(db.String(19), nullable=False, unique=True)
        name = db.Column(db.String(255), nullable=True)
        environment = db.Column(db.String(16), nullable=False)
        scopes = db.Column(db.String(255), nullable=False, default="")
        _access_token = db.Column("access_token", db.Text, nullable=False)
        _refresh_token = db.Column("refresh_token", db.Text, nullable=True)
        expires_at = db.Column(db.DateTime, nullable=True)
        status = db.Column(db.String(16), nullable=False, default=ACTIVE)
        created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
        updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    class ORCIDPendingRevocation(PendingRevocationMixin, db.Model):
        __tablename__ = "orcid_pending_revocations"

        id = db.Column(db.Integer, primary_key=True)
        orcid = db.Column(db.String(19), nullable=True)
        environment = db.Column(db.String(16), nullable=False)
        _token = db.Column("token", db.Text, nullable=False)
        attempts = db.Column(db.Integer, nullable=False, default=0)
        next_attempt_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
        last_error = db.Column(db.String(255), nullable=True)
        created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    models = Models(Account=ORCIDAccount, PendingRevocation=ORCIDPendingRevocation)
    _MODELS[db] = models
    return models


def retry_delay(attempts: int) -> timedelta:
    """Back-off before the next revocation attempt: 1 min, doubling, at most a day."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 86400))
