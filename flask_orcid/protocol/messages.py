"""ORCID's free-text messages: what must be cut out of them, and what can be read from them.

One copy of each rule, used by the error-body readers (:mod:`.xml_reader`,
:class:`~.records.ErrorInfo`) and by the client's error mapping (:mod:`.responses`):

- :func:`redact`: credentials (tokens, codes, secrets) never survive into a message;
- :func:`existing_put_code`: the put-code a 409 / 9021 names;
- :func:`primary_orcid`: the iD a 301 / 9007 points to.

This module imports nothing else from the package but :mod:`.identifiers`, so that every
reader can use it without an import cycle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .identifiers import ORCID_ID_SHAPE

__all__ = ["REDACTED", "REDACTED_IN_BODY", "existing_put_code", "primary_orcid", "redact"]

#: What replaces a credential in the client's exceptions and logs.
REDACTED = "[REDACTED]"
#: What replaces a credential in a parsed error body (:func:`~.xml_reader.parse_error`).
#: Lower case for historical reasons: :class:`~.records.ErrorInfo` has always carried it, and
#: callers (and tests) match it, so the two markers are one parameter of :func:`redact`.
REDACTED_IN_BODY = "[redacted]"

# ORCID echoes credentials in some messages: "Invalid access token: <token>" (401) and
# "Invalid authorization code: <code>" (token endpoint). Whatever follows such a label goes.
# A label must be followed by ":" or "=", "put-code: 123" / "error-code" are not labels, and a
# short number ("error code: 9021") is not a credential.
_ECHOED_SECRET = re.compile(
    r"(?i)(?<![\w-])((?:access|refresh|bearer)[ _-]?token|token|authorization[ _-]code|code|"
    r"client[ _-]secret|secret)(\s*[:=]\s*)(\"?)(?!\d{1,5}\b)([A-Za-z0-9._~+/=-]{4,})"
)
# "token" followed (without a label colon) by a run that has a digit in it: tokens are UUIDs
# or similar; a run without a digit ("token provided") is an ordinary word and stays.
_TOKEN_AFTER_WORD = re.compile(
    r"(token\W{0,3})(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE
)
# ORCID's tokens are UUIDs: one anywhere in a message is treated as a credential.
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_PUT_CODE_IN_MESSAGE = re.compile(r"put-code\b\W{0,3}(\d+)", re.IGNORECASE)
_ORCID_IN_MESSAGE = re.compile(rf"\b{ORCID_ID_SHAPE}\b")


def redact(
    text: str | None, secrets: Iterable[str | None] = (), *, marker: str = REDACTED
) -> str | None:
    """``text`` without any of ``secrets`` and without credentials ORCID echoed back.

    Known ``secrets`` (of at least 4 characters) are replaced wherever they appear; then a
    value after a credential label (``token: …``, ``code=…``, ``client_secret: …``), a
    digit-bearing run after the word "token", and any UUID are replaced by ``marker``.
    """
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, marker)
    text = _ECHOED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{marker}", text)
    text = _TOKEN_AFTER_WORD.sub(lambda m: f"{m.group(1)}{marker}", text)
    return _UUID.sub(marker, text)


def existing_put_code(message: str | None) -> int | None:
    """The put-code ORCID names in a 409/9021 message ("…element with put-code 123"), if any."""
    if not message:
        return None
    match = _PUT_CODE_IN_MESSAGE.search(message)
    return int(match.group(1)) if match else None


def primary_orcid(message: str | None, deprecated: str | None = None) -> str | None:
    """The primary iD a 301/9007 message points to: the first iD in it that is not
    ``deprecated`` (the one we asked for, when known)."""
    for candidate in _ORCID_IN_MESSAGE.findall(message or ""):
        if candidate != deprecated:
            return str(candidate)
    return None
