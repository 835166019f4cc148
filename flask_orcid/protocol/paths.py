"""Where an ORCID API call goes: its URL, built only from arguments checked to be what they claim.

An iD, a put-code and a section end up in a URL path, so each is refused (``ValueError``)
unless it has its canonical form; nothing a caller passes can add a path segment or a query.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from .endpoints import Endpoints
from .identifiers import ORCID_ID_SHAPE
from .vocabulary import SECTION_PLURALS

__all__ = ["check_orcid", "check_put_code", "check_section", "member_url", "webhook_url"]

_BARE_ORCID_ID = re.compile(rf"^{ORCID_ID_SHAPE}$")


def check_orcid(orcid: str) -> str:
    """``orcid`` if it is a bare canonical iD (``0000-0002-1825-0097``), else ``ValueError``."""
    if not isinstance(orcid, str) or not _BARE_ORCID_ID.match(orcid):
        raise ValueError(f"{orcid!r} is not a bare ORCID iD such as 0000-0002-1825-0097.")
    return orcid


def check_put_code(put_code: int | str | None) -> int:
    """``put_code`` as a positive ``int``, else ``ValueError`` (``None`` and ``True`` included)."""
    try:
        value = int(put_code) if put_code is not None else 0
    except (TypeError, ValueError):
        value = 0
    if isinstance(put_code, bool) or value <= 0:
        raise ValueError(f"{put_code!r} is not a put-code (a positive integer).")
    return value


def check_section(section: str) -> str:
    """``section`` if it is an affiliation section, singular (``"education"``)."""
    if section not in SECTION_PLURALS:
        raise ValueError(
            f"{section!r} is not an affiliation section; use one of "
            + ", ".join(SECTION_PLURALS)
            + "."
        )
    return section


def member_url(endpoints: Endpoints, orcid: str, *parts: str | int) -> str:
    """``{member_api}/{iD}/{part}/{part}…`` (the caller checks put-codes and sections)."""
    tail = "/".join(str(p) for p in parts)
    return f"{endpoints.member_api}/{check_orcid(orcid)}/{tail}"


def webhook_url(endpoints: Endpoints, orcid: str, callback_url: str) -> tuple[str, str]:
    """The webhook URL for ``callback_url``, and the path to log and report instead of it."""
    # No /v3.0 prefix on webhook paths (API-FACTS §9); the callback is one path segment.
    base = f"{endpoints.webhook_api}/{check_orcid(orcid)}/webhook/"
    # The callback URL may carry an HMAC: log and report the path without it.
    log_path = urlsplit(base).path + "[callback]"
    return base + quote(callback_url, safe=""), log_path
