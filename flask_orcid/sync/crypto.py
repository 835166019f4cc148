"""Encryption of stored OAuth tokens (tokens are credentials to a researcher's record).

``ORCID_TOKEN_KEYS`` holds one or more Fernet keys: the first encrypts, every key decrypts,
so a key can be rotated by putting a new one first and running ``flask orcid rotate-keys``.
Without it, a key is derived from ``SECRET_KEY`` with HKDF (changing ``SECRET_KEY`` then makes
stored tokens unreadable, which is why production sites should set ``ORCID_TOKEN_KEYS``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ConfigurationError

_HKDF_SALT = b"flask-orcid token encryption v1"
_HKDF_INFO = b"flask-orcid/tokens"


class TokenDecryptionError(ConfigurationError):
    """A stored token cannot be decrypted with any key in ORCID_TOKEN_KEYS."""


def parse_keys(value: str | bytes | Iterable[str | bytes] | None) -> list[bytes]:
    """``ORCID_TOKEN_KEYS`` as a list of keys: a list, or a comma/space-separated string."""
    if value is None:
        return []
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if isinstance(value, str):
        items: list[str | bytes] = [k for k in re.split(r"[\s,]+", value) if k]
    else:
        items = list(value)
    return [k.encode("ascii") if isinstance(k, str) else bytes(k) for k in items if k]


def derive_key(secret_key: str | bytes) -> bytes:
    """A Fernet key derived from the application's ``SECRET_KEY`` (HKDF-SHA256)."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("utf-8")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key
    )
    return base64.urlsafe_b64encode(raw)


class TokenCipher:
    """Encrypts and decrypts token strings with a MultiFernet (first key encrypts)."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigurationError("No token encryption key: set ORCID_TOKEN_KEYS or SECRET_KEY.")
        fernets = []
        for index, key in enumerate(keys):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise ConfigurationError(
                    f"ORCID_TOKEN_KEYS entry {index + 1} is not a Fernet key (32 url-safe "
                    "base64-encoded bytes); generate one with "
                    "`python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`."
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise TokenDecryptionError(
                "A stored ORCID token cannot be decrypted with any key in ORCID_TOKEN_KEYS "
                "(or the key derived from SECRET_KEY). Put the old key back in ORCID_TOKEN_KEYS "
                "after the new one, then run `flask orcid rotate-keys`."
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key (raises TokenDecryptionError if no key fits)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise TokenDecryptionError(
                "A stored ORCID token cannot be decrypted with any key in ORCID_TOKEN_KEYS; "
                "nothing was re-encrypted. Add the old key to ORCID_TOKEN_KEYS (after the new one)."
            ) from None


def cipher_from_config(config: Mapping[str, Any]) -> tuple[TokenCipher, bool]:
    """The cipher for an app's config, and whether its key was derived from SECRET_KEY."""
    keys = parse_keys(config.get("ORCID_TOKEN_KEYS"))
    if keys:
        return TokenCipher(keys), False
    secret = config.get("SECRET_KEY")
    if not secret:
        raise ConfigurationError(
            "flask-orcid encrypts stored tokens: set ORCID_TOKEN_KEYS to one or more Fernet keys "
            "(recommended), or at least SECRET_KEY."
        )
    return TokenCipher([derive_key(secret)]), True
