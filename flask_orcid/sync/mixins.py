"""What the ``orcid_*`` rows do beyond holding columns: token encryption, scopes, titles.

The tables themselves are made by :func:`.models.define_models` on the host's ``db``, which
gives each class its columns; the attributes annotated here are those columns, as Python sees
them on a loaded row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..errors import ConfigurationError
from ..protocol.model import Affiliation, Work
from .crypto import TokenCipher
from .states import INVALID, REMOVED

__all__ = ["AccountMixin", "OutboxItemMixin", "PendingRevocationMixin", "item_from_payload"]


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

    id: int | None
    user_key: str
    orcid: str
    name: str | None
    environment: str
    scopes: str
    _access_token: str | None
    _refresh_token: str | None
    expires_at: datetime | None
    status: str
    created_at: datetime
    updated_at: datetime

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

    def mark_invalid(self) -> None:
        """ORCID refused the token (401): keep the row, ask the researcher to reconnect."""
        self.status = INVALID

    def __repr__(self) -> str:
        return f"<ORCIDAccount {self.orcid} {self.status}>"


class PendingRevocationMixin(_Encrypted):
    """A token to revoke at ORCID, kept until ORCID confirms (tokens encrypted)."""

    id: int | None
    orcid: str | None
    environment: str
    _token: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime

    @property
    def token(self) -> str:
        return self._cipher().decrypt(self._token)

    @token.setter
    def token(self, value: str) -> None:
        self._token = self._cipher().encrypt(value)

    def __repr__(self) -> str:
        return f"<ORCIDPendingRevocation {self.orcid} attempts={self.attempts}>"


class OutboxItemMixin:
    """Behaviour of ``orcid.Item`` (the columns it reads; all are added by
    :func:`define_models`)."""

    user_key: str
    kind: str
    key: str
    payload: str
    retracted: bool
    put_code: int | None
    state: str
    approval: str | None

    def item(self) -> Work | Affiliation:
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
