"""Trust markers for staff: what ORCID's member ``/summary`` says about a connected researcher.

Verified email domains (public ones: ORCID lists only those) and how many works and
affiliations others asserted (``validated``) versus the researcher alone, so an admin
reviewing a deposit sees at a glance whether the iD's record is corroborated.
"""

from __future__ import annotations

import logging
from typing import Any

from .errors import InvalidTokenError, ORCIDError
from .protocol.summary import RecordSummary
from .sync.record_reader import public_tokens
from .sync.states import ACTIVE

__all__ = ["trust_markers"]

log = logging.getLogger(__name__)


def trust_markers(extension: Any, user_key: str) -> RecordSummary | None:
    """The summary of ``user_key``'s connected record, or None (no connection, or ORCID
    cannot tell right now: logged). Read with the connection's own token when it still
    works, else with the site's ``/read-public`` client token (ORCID accepts either)."""
    account = extension.get_account(user_key)
    if account is None:
        return None
    client = extension.api_client()
    # any scope of the record implies /read-public, which is all the summary needs
    token = account.access_token if getattr(account, "status", ACTIVE) == ACTIVE else None
    try:
        if token:
            try:
                return client.read_summary(account.orcid, token)
            except InvalidTokenError:
                log.info("stored token of %s refused for the summary", account.orcid)
        return client.read_summary(account.orcid, public_tokens.get(client))
    except ORCIDError as exc:
        log.warning("no trust markers for %s: %s", account.orcid, type(exc).__name__)
        return None
