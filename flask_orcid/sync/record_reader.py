"""Reading what a form needs from a researcher's record: ``/person`` plus the education and
employment sections (API-FACTS §11, §12 step 4).

Never ``/record``: a record may hold 10,000 works (API-FACTS §4) and a form needs none of them.
Three GET requests, plus one token request the first time a ``/read-public`` token is needed
in the process.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ..errors import APIError, InvalidTokenError, XMLError
from ..protocol.client import ORCIDClient
from ..protocol.records import Record
from .states import ACTIVE

__all__ = ["READ_LIMITED", "READ_PUBLIC", "PublicTokenCache", "public_tokens", "read_for_prefill"]

log = logging.getLogger(__name__)

READ_LIMITED = "/read-limited"
READ_PUBLIC = "/read-public"


class PublicTokenCache:
    """One client-credentials ``/read-public`` token per API client, obtained once.

    ORCID: "store a single token for reuse rather than generating a new token each time"
    (API-FACTS §2.7). These tokens last about 20 years, so memory is enough; the lock makes
    concurrent first requests share one token call instead of racing for several.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def get(self, client: ORCIDClient) -> str:
        with self._lock:
            token = self._tokens.get(client)
            if token is None:
                token = client.client_credentials(READ_PUBLIC)["access_token"]
                self._tokens[client] = token
                log.info("obtained a /read-public token for client %s", client.client_id)
            return token

    def forget(self, client: ORCIDClient, token: str) -> None:
        """Drop ``token`` (ORCID said it is invalid) so the next call gets a fresh one."""
        with self._lock:
            if self._tokens.get(client) == token:
                del self._tokens[client]


#: The process-wide cache. Keyed by client, and the extension keeps one client per app, so
#: this is a cache per app.
public_tokens = PublicTokenCache()


def _client_of(state_or_client: Any) -> ORCIDClient:
    """Accept an ORCIDClient, or the extension's per-app state / extension object."""
    if hasattr(state_or_client, "read_person"):
        return state_or_client
    extension = getattr(state_or_client, "extension", None)  # the ORCIDState dataclass
    if extension is not None and callable(getattr(extension, "api_client", None)):
        return extension.api_client()
    for name in ("api_client", "client"):
        candidate = getattr(state_or_client, name, None)
        if callable(candidate) and not hasattr(candidate, "read_person"):
            candidate = candidate()
        if candidate is not None and hasattr(candidate, "read_person"):
            return candidate
    raise TypeError(
        "read_for_prefill needs an ORCIDClient or the extension's state (with .api_client); "
        f"got {type(state_or_client).__name__}."
    )


def _user_token(account: Any) -> str | None:
    """The researcher's own token when it may read limited data, else None."""
    if getattr(account, "status", ACTIVE) != ACTIVE:
        return None
    has_scopes = getattr(account, "has_scopes", None)
    allowed = has_scopes(READ_LIMITED) if callable(has_scopes) else False
    return account.access_token if allowed and account.access_token else None


def _read(client: ORCIDClient, orcid: str, token: str, with_summary: bool = False) -> Record:
    person = client.read_person(orcid, token)
    educations = client.read_affiliations(orcid, token, "education")
    employments = client.read_affiliations(orcid, token, "employment")
    record = Record.from_person(person, educations=educations, employments=employments)
    # The authenticated iD is the connection's, whatever the document says about itself.
    record.orcid = orcid
    if with_summary:
        record.verified_email_domains = verified_domains(client, orcid, token)
    return record


def verified_domains(client: ORCIDClient, orcid: str, token: str) -> list[str]:
    """The record's public, ORCID-verified email domains from the member ``/summary`` (a
    trust marker); empty when ORCID does not serve it (the summary sits behind a feature
    flag at ORCID: a 404) or refuses it. Any token of the record may read it."""
    try:
        return client.read_summary(orcid, token).verified_domains
    except InvalidTokenError:
        raise
    except (APIError, XMLError) as exc:
        log.info("no record summary for %s (%s); prefilling without trust markers", orcid,
                 type(exc).__name__)
        return []


def read_for_prefill(
    state_or_client: Any, account: Any, *, token_cache: PublicTokenCache | None = None,
    on_token_rejected: Callable[[str], Any] | None = None, with_summary: bool = False,
) -> Record:
    """Read the researcher's names, emails, educations and employments for prefill.

    Uses the connection's own token when it was granted ``/read-limited`` (so trusted-party
    data such as a limited email is included); otherwise a cached client-credentials
    ``/read-public`` token (public data only). When ORCID refuses the stored token, the account
    is marked invalid (``on_token_rejected(token)`` when given, the extension's shared routine;
    else ``account.mark_invalid()``, committing being the caller's) and the public token is
    used instead. Works are not read: ``Record.works`` is empty. ORCID errors other
    than a refused token propagate.

    :param state_or_client: the app's :class:`~flask_orcid.ORCIDClient` (or the extension's
        per-app state exposing ``api_client``).
    :param account: the researcher's ``ORCIDAccount`` (``orcid``, ``access_token``, scopes).
    :param with_summary: also read the member ``/summary`` (one more GET) and fill
        ``Record.verified_email_domains``, the trust marker prefill uses to recognise the
        host's institution (:attr:`~flask_orcid.HostInstitution.domains`).
    """
    client = _client_of(state_or_client)
    cache = token_cache or public_tokens
    orcid = account.orcid
    token = _user_token(account)
    if token is not None:
        try:
            return _read(client, orcid, token, with_summary)
        except InvalidTokenError:
            # Revoked at ORCID or expired: the connection is marked invalid (the caller
            # commits) so the site can ask to reconnect, and public data still prefills.
            log.warning("ORCID refused the stored token of %s; marked invalid", orcid)
            if on_token_rejected is not None:
                on_token_rejected(token)
            else:
                mark_invalid = getattr(account, "mark_invalid", None)
                if callable(mark_invalid):
                    mark_invalid()
    public = cache.get(client)
    try:
        return _read(client, orcid, public, with_summary)
    except InvalidTokenError:
        # ORCID revoked our /read-public token: get one fresh token, once.
        cache.forget(client, public)
        return _read(client, orcid, cache.get(client), with_summary)
