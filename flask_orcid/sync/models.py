"""Every ``orcid_*`` table, defined on the host's Flask-SQLAlchemy ``db``, and their states.

Tables are prefixed ``orcid_`` and defined on the host's metadata, so Alembic autogenerate sees
them. :class:`Models` holds the classes :func:`define_models` made for one ``db``.

- ``orcid_accounts``: a user's ORCID connection; tokens stored encrypted (see :mod:`.crypto`),
  exposed in plaintext only through properties, never in ``repr``.
- ``orcid_pending_revocations``: every token we gave up (disconnect, reconnect, a refused
  sign-in) until ORCID confirms the revocation, so no token is left live and forgotten.
- ``orcid_outbox_items``: one row per (user key, kind, key): the desired payload and its hash,
  the put-code ORCID gave us, the hash of what we last wrote, a state and the last error.
- ``orcid_outbox_events``: every attempt (operation, HTTP status, ORCID code; never a token).
- ``orcid_record_sync``: per record, the webhook registration and pending sync requests.
- ``orcid_oauth_states``: every OAuth ``state`` issued, by hash, until it is spent: a state is
  consumed once, atomically, whatever the browser's cookie says (see :mod:`.oauth_states`).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..errors import ConfigurationError
from ..protocol.model import Affiliation, Work
from .clock import utcnow
from .crypto import TokenCipher

__all__ = [
    "ACTIVE",
    "FAILED",
    "INVALID",
    "PARKED",
    "PARK_AUTH",
    "PARK_CONFLICT",
    "PARK_GAVE_UP",
    "PARK_REJECTED",
    "PARK_SCOPE",
    "PENDING",
    "REMOVED",
    "RESUME_ON_RECONNECT",
    "STATES",
    "SYNCED",
    "AccountMixin",
    "Models",
    "PendingRevocationMixin",
    "define_models",
    "item_from_payload",
]

#: Connection states.
ACTIVE = "active"
INVALID = "invalid"

#: Row states.
PENDING = "pending"
SYNCED = "synced"
FAILED = "failed"
PARKED = "parked"
REMOVED = "removed_by_researcher"
STATES = (PENDING, SYNCED, FAILED, PARKED, REMOVED)

#: Why a row is parked. ``auth`` and ``scope`` rows resume by themselves when the researcher
#: reconnects; the others wait for an admin's ``retry`` or a new ``publish``.
PARK_AUTH = "auth"
PARK_SCOPE = "scope"
PARK_REJECTED = "rejected"
PARK_GAVE_UP = "gave_up"
PARK_CONFLICT = "conflict"
RESUME_ON_RECONNECT = (PARK_AUTH, PARK_SCOPE)


def item_from_payload(kind: str, data: dict[str, Any]) -> Work | Affiliation:
    """Rebuild a ``Work`` or ``Affiliation`` from its stored ``to_dict()`` form."""
    return (Work if kind == "work" else Affiliation).from_dict(data)


def _no_cipher() -> TokenCipher:
    raise ConfigurationError(
        "The token cipher is not set: create the extension with ORCID(app, db=db) before "
        "reading or writing ORCID connections."
    )


class _Encrypted:
    """Gives a model its token cipher (set per ``db`` by the extension)."""

    #: returns the cipher for the current application
    cipher_provider: Callable[[], TokenCipher] = staticmethod(_no_cipher)

    def _cipher(self) -> TokenCipher:
        return type(self).cipher_provider()


class AccountMixin(_Encrypted):
    """Behaviour of ``orcid.Account`` (columns are added by :func:`define_models`)."""

    _access_token: str | None
    _refresh_token: str | None
    scopes: str
    status: str
    orcid: str

    @property
    def access_token(self) -> str | None:
        return self._cipher().decrypt(self._access_token) if self._access_token else None

    @access_token.setter
    def access_token(self, value: str | None) -> None:
        self._access_token = self._cipher().encrypt(value) if value else None

    @property
    def refresh_token(self) -> str | None:
        return self._cipher().decrypt(self._refresh_token) if self._refresh_token else None

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        self._refresh_token = self._cipher().encrypt(value) if value else None

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


class PendingRevocationMixin(_Encrypted):
    """A token to revoke at ORCID, kept until ORCID confirms (tokens encrypted)."""

    _token: str
    orcid: str | None
    attempts: int

    @property
    def token(self) -> str:
        return self._cipher().decrypt(self._token)

    @token.setter
    def token(self, value: str) -> None:
        self._token = self._cipher().encrypt(value)

    def __repr__(self) -> str:
        return f"<ORCIDPendingRevocation {self.orcid} attempts={self.attempts}>"


@dataclass(frozen=True)
class Models:
    """The SQLAlchemy classes :func:`define_models` made for one ``db``."""

    Account: Any
    PendingRevocation: Any
    Item: Any
    Event: Any
    RecordSync: Any
    OAuthState: Any

    def set_cipher_provider(self, provider: Callable[[], TokenCipher]) -> None:
        """Tell the token-holding models where their cipher comes from."""
        self.Account.cipher_provider = staticmethod(provider)
        self.PendingRevocation.cipher_provider = staticmethod(provider)


_MODELS: weakref.WeakKeyDictionary[Any, Models] = weakref.WeakKeyDictionary()


def define_models(db: Any) -> Models:
    """Define the ``orcid_*`` tables on the host's Flask-SQLAlchemy ``db`` (once per ``db``)."""
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

    class OutboxItem(db.Model):  # type: ignore[name-defined]
        """One item the site wants on one researcher's record."""

        __tablename__ = "orcid_outbox_items"
        __table_args__ = (
            sa.UniqueConstraint("user_key", "kind", "key", name="uq_orcid_outbox_item"),
            # the worker's "what is due" query
            sa.Index("ix_orcid_outbox_due", "state", "next_attempt_at"),
            sa.Index("ix_orcid_outbox_user_state", "user_key", "state"),
            sa.Index("ix_orcid_outbox_orcid", "orcid"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        user_key = sa.Column(sa.String(255), nullable=False)
        #: "work" or an affiliation section ("education", ...)
        kind = sa.Column(sa.String(32), nullable=False)
        #: the host's stable id for the item ("thesis:42")
        key = sa.Column(sa.String(255), nullable=False)
        #: desired state: the item's ``to_dict()`` JSON; kept after a retraction for display
        payload = sa.Column(sa.Text, nullable=False)
        payload_hash = sa.Column(sa.String(64), nullable=False)
        #: True once the host retracted the item: it should not be on the record
        retracted = sa.Column(sa.Boolean, nullable=False, default=False)
        #: the iD of the record ``put_code`` belongs to
        orcid = sa.Column(sa.String(19))
        put_code = sa.Column(sa.BigInteger)
        #: hash of the payload last written successfully (POST or PUT)
        written_hash = sa.Column(sa.String(64))
        state = sa.Column(sa.String(24), nullable=False, default=PENDING)
        park_reason = sa.Column(sa.String(24))
        attempts = sa.Column(sa.Integer, nullable=False, default=0)
        next_attempt_at = sa.Column(sa.DateTime)
        last_attempt_at = sa.Column(sa.DateTime)
        error_status = sa.Column(sa.Integer)
        error_code = sa.Column(sa.Integer)
        error_message = sa.Column(sa.Text)
        lease_owner = sa.Column(sa.String(64))
        lease_expires_at = sa.Column(sa.DateTime)
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
        synced_at = sa.Column(sa.DateTime)

        def item(self):
            """The desired item, rebuilt from the stored payload."""
            return item_from_payload(self.kind, json.loads(self.payload))

        @property
        def title(self) -> str:
            data = json.loads(self.payload)
            if self.kind == "work":
                return str(data.get("title") or "")
            org = data.get("organization") or {}
            parts = [data.get("role_title"), org.get("name")]
            return ", ".join(p for p in parts if p)

        @property
        def on_record(self) -> bool:
            """Whether the item is on the researcher's record as far as we know."""
            return self.put_code is not None and self.state != REMOVED

        def __repr__(self) -> str:
            return f"<OutboxItem {self.user_key!r} {self.kind}:{self.key!r} {self.state}>"

    class OutboxEvent(db.Model):  # type: ignore[name-defined]
        """One attempt to converge one row: the audit log (no tokens, no payloads)."""

        __tablename__ = "orcid_outbox_events"
        __table_args__ = (
            sa.Index("ix_orcid_outbox_events_created", "created_at"),
            sa.Index("ix_orcid_outbox_events_user", "user_key"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        item_id = sa.Column(sa.Integer, index=True)
        user_key = sa.Column(sa.String(255), nullable=False)
        orcid = sa.Column(sa.String(19))
        kind = sa.Column(sa.String(32))
        key = sa.Column(sa.String(255))
        #: POST, POST bulk, PUT, DELETE, GET works, adopt, sync
        operation = sa.Column(sa.String(24), nullable=False)
        status = sa.Column(sa.Integer)
        error_code = sa.Column(sa.Integer)
        outcome = sa.Column(sa.String(24))
        message = sa.Column(sa.Text)
        put_code = sa.Column(sa.BigInteger)
        duration_ms = sa.Column(sa.Integer)
        worker = sa.Column(sa.String(64))
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    class RecordSync(db.Model):  # type: ignore[name-defined]
        """Per record: webhook registration and pending sync requests (from webhooks)."""

        __tablename__ = "orcid_record_sync"

        orcid = sa.Column(sa.String(19), primary_key=True)
        webhook_url = sa.Column(sa.Text)
        webhook_registered_at = sa.Column(sa.DateTime)
        sync_requested_at = sa.Column(sa.DateTime, index=True)
        last_synced_at = sa.Column(sa.DateTime)
        #: set when the researcher disconnected: the worker removes the hook at ORCID, then
        #: this row (the iD is kept only until then)
        unregister_requested_at = sa.Column(sa.DateTime)

    class OAuthState(db.Model):  # type: ignore[name-defined]
        """An OAuth ``state`` issued by ``/connect``: spent once, on the server."""

        __tablename__ = "orcid_oauth_states"

        #: SHA-256 of the state (the state itself travels in URLs; it is not kept)
        state_hash = sa.Column(sa.String(64), primary_key=True)
        user_key = sa.Column(sa.String(255))
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)
        consumed_at = sa.Column(sa.DateTime)
        #: after a successful sign-in: the user the iD was linked to (a repeated callback of
        #: that user lands on a success page instead of an error)
        connected_user_key = sa.Column(sa.String(255))

    models = Models(Account=ORCIDAccount, PendingRevocation=ORCIDPendingRevocation,
                    Item=OutboxItem, Event=OutboxEvent, RecordSync=RecordSync,
                    OAuthState=OAuthState)
    _MODELS[db] = models
    return models
