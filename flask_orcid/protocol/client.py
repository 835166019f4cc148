"""The ORCID API calls: OAuth token calls, Member API reads and writes, bulk adds, webhooks.

No Flask here: the extension, the outbox worker and command-line tools all share this one
client. Each method says which ORCID endpoint it calls, whether repeating it is safe, and
what it returns; the rest is delegated:

- :mod:`.oauth` does the OAuth calls with Authlib's ``OAuth2Client``, over the transport;
- :mod:`.transport` sends (session, timeouts, rate limit, retries with backoff, CallInfo);
- :mod:`.responses` reads the answers (ORCID's error bodies become the typed exceptions of
  :mod:`flask_orcid.errors`, put-codes come from ``Location`` headers);
- :mod:`.messages` keeps tokens, secrets and authorization codes out of messages and logs.

The names tests and callers import from here (``CallInfo``, ``BulkResult``, ``redact``,
``parse_retry_after``, …) are re-exported from those modules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import APIError
from .endpoints import Endpoints, endpoints
from .institution_calls import InstitutionCalls
from .model import (
    Affiliation,
    AffiliationSummary,
    Person,
    Record,
    Work,
    WorkSummary,
    works_bulk_xml,
)
from .oauth import TokenEndpoint, authlib_client, token_as_sent
from .paths import check_put_code, check_section, member_url, webhook_url
from .ratelimit import Limiter
from .responses import (
    REDACTED,
    BulkResult,
    build_api_error,
    bulk_results,
    error_from_response,
    existing_put_code,
    parse_retry_after,
    primary_orcid,
    put_code_from_location,
    redact,
)
from .transport import JSON, ORCID_XML, CallInfo
from .vocabulary import MAX_BULK, SECTION_PLURALS
from .xml_reader import (
    parse_affiliation,
    parse_affiliations,
    parse_person,
    parse_record,
    parse_work,
    parse_works,
    parse_works_bulk_read,
)

__all__ = [
    "BulkResult",
    "CallInfo",
    "ORCIDClient",
    # re-exported from .responses, .messages and .transport for existing imports
    "JSON",
    "ORCID_XML",
    "REDACTED",
    "build_api_error",
    "error_from_response",
    "existing_put_code",
    "parse_retry_after",
    "primary_orcid",
    "put_code_from_location",
    "redact",
]

log = logging.getLogger(__name__)


class RedactWebhookCallbacks(logging.Filter):
    """ORCID's webhook API takes our callback URL, with its HMAC, as a path segment, and
    urllib3 logs every request line at DEBUG: the segment is replaced by ``[callback]``."""

    _SEGMENT = re.compile(r"(/webhook/)[^\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/webhook/" in record.msg:
            record.msg = self._SEGMENT.sub(r"\1[callback]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._SEGMENT.sub(r"\1[callback]", arg)
                if isinstance(arg, str) and "/webhook/" in arg else arg
                for arg in record.args
            )
        return True


_REDACT_WEBHOOKS = RedactWebhookCallbacks()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    if _REDACT_WEBHOOKS not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACT_WEBHOOKS)


class ORCIDClient(InstitutionCalls):
    """A client for one ORCID member integration (client id + secret) in one environment.

    Safe to share between threads. ``on_response`` (if set) is called with a
    :class:`CallInfo` after every HTTP attempt, retries included.

    :param timeout: seconds, ``(connect, read)`` or one number; never ``None``.
    :param rate, burst: the token bucket built when no ``rate_limiter`` is given.
    :param rate_limiter: a bucket shared with other clients (``rate``/``burst`` then unused).
    :param max_retries: retries after the first attempt, where retrying is safe (0 = none).
    :param backoff: base of the exponential backoff, seconds.
    :param session: a ``requests.Session`` to use instead of the client's own.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        environment: str = "production",
        emulator_url: str | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        rate: float = 24.0,
        burst: int = 40,
        max_retries: int = 3,
        backoff: float = 0.5,
        rate_limiter: Limiter | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("ORCIDClient needs a client id and a client secret.")
        super().__init__(
            timeout=timeout,
            rate=rate,
            burst=burst,
            max_retries=max_retries,
            backoff=backoff,
            rate_limiter=rate_limiter,
            session=session,
        )
        self.client_id = client_id
        self._client_secret = client_secret
        self.endpoints: Endpoints = endpoints(environment, emulator_url)

    def __repr__(self) -> str:
        return (
            f"ORCIDClient(client_id={self.client_id!r}, environment={self.endpoints.environment!r})"
        )

    # ------------------------------------------------------------------ OAuth

    def _token_endpoint(self, operation: str, *, retry: bool,
                        secrets: list[str]) -> tuple[Any, TokenEndpoint]:
        """Authlib's client for one OAuth call, posting through this client's transport."""
        endpoint = TokenEndpoint(self._send, operation, retry=retry,
                                 secrets=[self._client_secret, *secrets])
        return authlib_client(endpoint, self.client_id, self._client_secret), endpoint

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        """Trade an authorization code for tokens; returns ORCID's token JSON as sent.

        Never retried: a code is single-use, and ORCID revokes every token issued from a
        code that is presented twice (API-FACTS §2.2).
        """
        oauth, endpoint = self._token_endpoint("exchange_code", retry=False, secrets=[code])
        return token_as_sent(
            lambda: oauth.fetch_token(self.endpoints.token_url, grant_type="authorization_code",
                                      code=code, redirect_uri=redirect_uri),
            endpoint,
        )

    def refresh_token(self, refresh_token: str, scope: str | None = None) -> dict[str, Any]:
        """A new access token from a refresh token (optionally narrowed to ``scope``).

        Retried on transport trouble: a repeated refresh at worst mints one extra token,
        since ORCID no longer honours ``revoke_old`` (API-FACTS §2.4).
        """
        oauth, endpoint = self._token_endpoint("refresh_token", retry=True,
                                               secrets=[refresh_token])
        extra = {"scope": scope} if scope else {}
        return token_as_sent(
            lambda: oauth.refresh_token(self.endpoints.token_url, refresh_token=refresh_token,
                                        **extra),
            endpoint,
        )

    def client_credentials(self, scope: str = "/read-public") -> dict[str, Any]:
        """A two-legged token (``/read-public`` or ``/webhook``); store and reuse it."""
        oauth, endpoint = self._token_endpoint("client_credentials", retry=True, secrets=[])
        return token_as_sent(
            lambda: oauth.fetch_token(self.endpoints.token_url, grant_type="client_credentials",
                                      scope=scope),
            endpoint,
        )

    def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (revoking the access token drops its refresh
        token too). Idempotent, hence retried."""
        oauth, _endpoint = self._token_endpoint("revoke", retry=True, secrets=[token])
        oauth.revoke_token(self.endpoints.revoke_url, token=token)

    # ------------------------------------------------------------------ API plumbing

    def _url(self, orcid: str, *parts: str | int) -> str:
        return member_url(self.endpoints, orcid, *parts)

    def _call(
        self,
        method: str,
        url: str,
        token: str,
        *,
        operation: str,
        orcid: str,
        ok: Iterable[int],
        retry: bool = True,
        body: bytes | None = None,
        log_path: str | None = None,
    ) -> requests.Response:
        response = self._send(
            method,
            url,
            operation=operation,
            retry=retry,
            token=token,
            body=body,
            log_path=log_path,
        )
        if response.status_code in set(ok):
            return response
        error = error_from_response(response, secrets=[token], orcid=orcid)
        log.info(
            "ORCID %s %s -> %s (error code %s)",
            method,
            log_path or urlsplit(url).path,
            response.status_code,
            error.error_code,
        )
        raise error

    def _get(self, orcid: str, token: str, operation: str, *parts: str | int) -> bytes:
        url = self._url(orcid, *parts)
        return self._call("GET", url, token, operation=operation, orcid=orcid, ok={200}).content

    # ------------------------------------------------------------------ reads

    def read_record(self, orcid: str, token: str) -> Record:
        return parse_record(self._get(orcid, token, "read_record", "record"))

    def read_person(self, orcid: str, token: str) -> Person:
        return parse_person(self._get(orcid, token, "read_person", "person"))

    def read_works(self, orcid: str, token: str) -> list[WorkSummary]:
        return parse_works(self._get(orcid, token, "read_works", "works"))

    def read_work(self, orcid: str, token: str, put_code: int) -> Work:
        code = check_put_code(put_code)
        return parse_work(self._get(orcid, token, "read_work", "work", code))

    def read_works_by_put_codes(
        self, orcid: str, token: str, put_codes: Sequence[int]
    ) -> list[Work]:
        """Full works for up to :data:`~.vocabulary.MAX_BULK` put-codes in one call
        (``GET /works/pc,pc``)."""
        codes = [check_put_code(p) for p in put_codes]
        if len(codes) > MAX_BULK:
            raise ValueError(f"ORCID reads at most {MAX_BULK} works per call, not {len(codes)}.")
        if not codes:
            return []
        joined = ",".join(str(c) for c in codes)
        xml = self._get(orcid, token, "read_works_by_put_codes", "works", joined)
        return parse_works_bulk_read(xml)

    def read_affiliations(self, orcid: str, token: str, section: str) -> list[AffiliationSummary]:
        """Summaries of one affiliation section; ``section`` singular (``"education"``)."""
        plural = SECTION_PLURALS[check_section(section)]
        xml = self._get(orcid, token, "read_affiliations", plural)
        return parse_affiliations(xml)

    def read_affiliation(self, orcid: str, token: str, section: str, put_code: int) -> Affiliation:
        code = check_put_code(put_code)
        xml = self._get(orcid, token, "read_affiliation", check_section(section), code)
        return parse_affiliation(xml)

    # ------------------------------------------------------------------ writes

    def _post_item(
        self, orcid: str, token: str, kind: str, item: Work | Affiliation, operation: str
    ) -> int:
        item.validate()
        # A POST is repeated only when the item carries a `self` external id. ORCID refuses a
        # second item from the same client with the same `self` id (409 / 9021, naming the
        # existing put-code, API-FACTS §7), so a retried POST whose first attempt did land
        # comes back as DuplicateError(existing_put_code=...) instead of a second copy.
        # Without a `self` id a retry could create a duplicate, so there is none.
        retry = bool(item.self_ids())
        url = self._url(orcid, kind)
        response = self._call(
            "POST",
            url,
            token,
            operation=operation,
            orcid=orcid,
            ok={200, 201},
            retry=retry,
            body=item.to_xml(),
        )
        code = put_code_from_location(response.headers.get("Location"))
        if code is None:
            # The item probably landed; a repeat POST will answer 9021 with its put-code.
            raise APIError(
                f"ORCID accepted the {kind} but sent no put-code in its Location header.",
                status=response.status_code,
            )
        log.info("ORCID added %s %s to %s", kind, code, orcid)
        return code

    def _put_item(
        self,
        orcid: str,
        token: str,
        kind: str,
        put_code: int,
        item: Work | Affiliation,
        operation: str,
    ) -> None:
        code = check_put_code(put_code)
        item.validate()
        url = self._url(orcid, kind, code)
        # PUT replaces the item with the body: repeating it is harmless.
        self._call(
            "PUT",
            url,
            token,
            operation=operation,
            orcid=orcid,
            ok={200, 201, 204},
            body=item.to_xml(put_code=code),
        )
        log.info("ORCID updated %s %s on %s", kind, code, orcid)

    def _delete_item(
        self, orcid: str, token: str, kind: str, put_code: int, operation: str
    ) -> None:
        code = check_put_code(put_code)
        url = self._url(orcid, kind, code)
        self._call("DELETE", url, token, operation=operation, orcid=orcid, ok={200, 204})
        log.info("ORCID deleted %s %s from %s", kind, code, orcid)

    def add_work(self, orcid: str, token: str, work: Work) -> int:
        """POST one work; returns its put-code. Validates first (ValidationError)."""
        return self._post_item(orcid, token, "work", work, "add_work")

    def update_work(self, orcid: str, token: str, put_code: int, work: Work) -> None:
        self._put_item(orcid, token, "work", put_code, work, "update_work")

    def delete_work(self, orcid: str, token: str, put_code: int) -> None:
        self._delete_item(orcid, token, "work", put_code, "delete_work")

    def add_affiliation(self, orcid: str, token: str, affiliation: Affiliation) -> int:
        section = check_section(affiliation.kind)
        return self._post_item(orcid, token, section, affiliation, "add_affiliation")

    def update_affiliation(
        self, orcid: str, token: str, put_code: int, affiliation: Affiliation
    ) -> None:
        section = check_section(affiliation.kind)
        self._put_item(orcid, token, section, put_code, affiliation, "update_affiliation")

    def delete_affiliation(self, orcid: str, token: str, section: str, put_code: int) -> None:
        self._delete_item(orcid, token, check_section(section), put_code, "delete_affiliation")

    def add_item(self, orcid: str, token: str, item: Work | Affiliation) -> int:
        """``add_work`` or ``add_affiliation``, by ``item.kind``."""
        if isinstance(item, Work):
            return self.add_work(orcid, token, item)
        return self.add_affiliation(orcid, token, item)

    def update_item(
        self, orcid: str, token: str, item: Work | Affiliation, put_code: int | None = None
    ) -> None:
        """``update_work`` or ``update_affiliation``; ``put_code`` defaults to the item's."""
        code = put_code if put_code is not None else item.put_code
        if isinstance(item, Work):
            self.update_work(orcid, token, check_put_code(code), item)
        else:
            check_section(item.kind)  # before the put-code, as update_affiliation checks
            self.update_affiliation(orcid, token, check_put_code(code), item)

    def delete_item(
        self,
        orcid: str,
        token: str,
        item_or_kind: Work | Affiliation | str,
        put_code: int | None = None,
    ) -> None:
        """Delete by kind (``"work"``, ``"education"``, …) or by an item and its put-code."""
        if isinstance(item_or_kind, str):
            kind, code = item_or_kind, put_code
        else:
            kind = item_or_kind.kind
            code = put_code if put_code is not None else item_or_kind.put_code
        if kind == "work":
            self.delete_work(orcid, token, check_put_code(code))
        else:
            self.delete_affiliation(orcid, token, check_section(kind), check_put_code(code))

    def add_works(self, orcid: str, token: str, works: Sequence[Work]) -> list[BulkResult]:
        """POST up to :data:`~.vocabulary.MAX_BULK` works in one ``bulk`` document; one
        :class:`BulkResult` per work.

        ORCID's bulk add is not atomic (API-FACTS §4): each slot of the answer is either the
        created work or an error, in the order sent. Every work is validated before anything
        is sent; the first invalid one raises :class:`ValidationError` naming ``works[i]``.
        """
        works = list(works)
        if len(works) > MAX_BULK:
            raise ValueError(f"ORCID adds at most {MAX_BULK} works per call, not {len(works)}.")
        if not works:
            return []
        # Retried only when every work has a `self` id: a repeated slot then answers 9021
        # with the existing put-code instead of creating a copy (see _post_item).
        retry = all(work.self_ids() for work in works)
        response = self._call(
            "POST",
            self._url(orcid, "works"),
            token,
            operation="add_works",
            orcid=orcid,
            ok={200, 201},
            retry=retry,
            body=works_bulk_xml(works),
        )
        results = bulk_results(response, len(works), secrets=[token], orcid=orcid)
        log.info(
            "ORCID bulk add to %s: %d added, %d refused",
            orcid,
            sum(1 for r in results if r.ok),
            sum(1 for r in results if not r.ok),
        )
        return results

    # ------------------------------------------------------------------ webhooks

    def register_webhook(self, orcid: str, token: str, callback_url: str) -> bool:
        """Ask ORCID to call ``callback_url`` when the record changes (premium members).

        Returns ``True`` if the hook was created (201), ``False`` if it already existed (204).
        """
        url, log_path = webhook_url(self.endpoints, orcid, callback_url)
        response = self._call(
            "PUT",
            url,
            token,
            operation="register_webhook",
            orcid=orcid,
            ok={200, 201, 204},
            log_path=log_path,
        )
        return response.status_code == 201

    def unregister_webhook(self, orcid: str, token: str, callback_url: str) -> None:
        url, log_path = webhook_url(self.endpoints, orcid, callback_url)
        self._call(
            "DELETE",
            url,
            token,
            operation="unregister_webhook",
            orcid=orcid,
            ok={200, 204},
            log_path=log_path,
        )
