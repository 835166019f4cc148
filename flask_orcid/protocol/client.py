"""The ORCID API client: OAuth token calls, Member API reads and writes, webhooks.

No Flask here: the extension, the outbox worker and command-line tools all share this one
client. It owns the things every ORCID call needs to get right:

- one ``requests.Session`` (keep-alive, a pool large enough for worker threads) and a
  timeout on every call;
- a token bucket (:class:`~flask_orcid.ratelimit.RateLimiter`) in front of every attempt;
- retries with exponential backoff and full jitter for 429/5xx and transport failures,
  honouring ``Retry-After``, only where repeating the request cannot do harm;
- ORCID's error bodies turned into the typed exceptions of :mod:`flask_orcid.errors`;
- tokens, secrets and authorization codes kept out of messages, reprs and logs.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..errors import (
    APIError,
    BadRequestError,
    ConflictError,
    DuplicateError,
    ForbiddenError,
    InsufficientScopeError,
    InvalidTokenError,
    NotFoundError,
    NotSourceError,
    OAuthError,
    ORCIDTimeout,
    RateLimitedError,
    RecordDeactivatedError,
    RecordDeprecatedError,
    RecordLockedError,
    RecordNotClaimedError,
    ServerError,
    TransportError,
    VisibilityChangeError,
    WorksLimitError,
)
from .endpoints import Endpoints, endpoints
from .model import (
    Affiliation,
    AffiliationSummary,
    Person,
    Record,
    Work,
    WorkSummary,
    works_bulk_xml,
)
from .ratelimit import RateLimiter
from .vocabulary import MAX_BULK, SECTION_PLURALS
from .xml_reader import (
    parse_affiliation,
    parse_affiliations,
    parse_bulk_response,
    parse_error,
    parse_person,
    parse_record,
    parse_work,
    parse_works,
    parse_works_bulk_read,
)

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

ORCID_XML = "application/vnd.orcid+xml"
JSON = "application/json"

#: Affiliation sections (singular, as in item paths) and their plural summary paths.
AFFILIATION_SECTIONS: dict[str, str] = SECTION_PLURALS


_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ORCID_ID = re.compile(r"\b\d{4}-\d{4}-\d{4}-\d{3}[\dX]\b")
_BARE_ORCID_ID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_PUT_CODE_IN_MESSAGE = re.compile(r"put-code\b\W{0,3}(\d+)", re.IGNORECASE)
_PUT_CODE_IN_LOCATION = re.compile(r"/(\d+)/?$")
# ORCID echoes credentials in some messages: "Invalid access token: <token>" (401) and
# "Invalid authorization code: <code>" (token endpoint). Whatever follows such a label goes.
# A label must be followed by ":" or "=", "put-code: 123" / "error-code" are not labels, and a
# short number ("error code: 9021") is not a credential.
_ECHOED_SECRET = re.compile(
    r"(?i)(?<![\w-])((?:access|refresh|bearer)[ _-]?token|token|authorization[ _-]code|code|"
    r"client[ _-]secret|secret)(\s*[:=]\s*)(\"?)(?!\d{1,5}\b)([A-Za-z0-9._~+/=-]{4,})"
)
REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class CallInfo:
    """One HTTP attempt, for metrics and audit logs: never carries tokens or bodies.

    ``status`` is ``None`` when no response arrived (timeout, connection error).
    """

    method: str
    operation: str
    url_path: str
    status: int | None
    error_code: int | None
    duration_ms: float


@dataclass(frozen=True)
class BulkResult:
    """The outcome of one slot of a bulk ``POST /works``: a put-code or an error."""

    index: int
    put_code: int | None = None
    error: APIError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.put_code is not None


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """``text`` without any of ``secrets`` and without credentials ORCID echoed back."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _ECHOED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{REDACTED}", text)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def put_code_from_location(location: str | None) -> int | None:
    """The put-code at the end of a ``Location`` header (``…/v3.0/<iD>/<section>/12345``)."""
    if not location:
        return None
    match = _PUT_CODE_IN_LOCATION.search(urlsplit(location).path)
    return int(match.group(1)) if match else None


def existing_put_code(message: str | None) -> int | None:
    """The put-code ORCID names in a 409/9021 message ("…element with put-code 123"), if any."""
    if not message:
        return None
    match = _PUT_CODE_IN_MESSAGE.search(message)
    return int(match.group(1)) if match else None


def primary_orcid(message: str | None, deprecated: str | None = None) -> str | None:
    """The primary iD a 301/9007 message points to (not the deprecated one we asked for)."""
    for candidate in _ORCID_ID.findall(message or ""):
        if candidate != deprecated:
            return candidate
    return None


def _check_orcid(orcid: str) -> str:
    # The iD goes into a URL path: refuse anything but the bare canonical form.
    if not isinstance(orcid, str) or not _BARE_ORCID_ID.match(orcid):
        raise ValueError(f"{orcid!r} is not a bare ORCID iD such as 0000-0002-1825-0097.")
    return orcid


def _check_put_code(put_code: Any) -> int:
    try:
        value = int(put_code)
    except (TypeError, ValueError):
        value = 0
    if isinstance(put_code, bool) or value <= 0:
        raise ValueError(f"{put_code!r} is not a put-code (a positive integer).")
    return value


def _check_section(section: str) -> str:
    if section not in AFFILIATION_SECTIONS:
        raise ValueError(
            f"{section!r} is not an affiliation section; use one of "
            + ", ".join(AFFILIATION_SECTIONS)
            + "."
        )
    return section


class ORCIDClient:
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

    #: Upper bound of one backoff wait, seconds.
    max_backoff: float = 30.0
    #: A ``Retry-After`` longer than this is not waited for: the error is raised at once
    #: with ``retry_after`` set, so the caller can schedule the work for later.
    max_retry_after: float = 60.0

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
        rate_limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("ORCIDClient needs a client id and a client secret.")
        if timeout is None:
            raise ValueError("ORCIDClient needs a timeout: every ORCID call must be bounded.")
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative.")
        self.client_id = client_id
        self._client_secret = client_secret
        self.endpoints: Endpoints = endpoints(environment, emulator_url)
        self.timeout = timeout
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.rate_limiter = rate_limiter or RateLimiter(rate, burst)
        self.session = session or self._new_session()
        self.on_response: Callable[[CallInfo], None] | None = None
        #: How to wait between retries (tests replace it to record the waits).
        self.sleep: Callable[[float], None] = time.sleep
        self._count = 0
        self._count_lock = threading.Lock()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        # Retries are ours (they know what is safe to repeat); urllib3 must not add its own.
        adapter = HTTPAdapter(pool_connections=10, pool_maxsize=20, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def __repr__(self) -> str:
        return (
            f"ORCIDClient(client_id={self.client_id!r}, environment={self.endpoints.environment!r})"
        )

    @property
    def request_count(self) -> int:
        """HTTP requests this client actually sent, retries included."""
        with self._count_lock:
            return self._count

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ transport

    def _backoff_delay(self, attempt: int) -> float:
        # Full jitter: uniform over [0, min(cap, base * 2**attempt)] spreads retries of many
        # workers instead of having them hit ORCID again in lockstep.
        return random.uniform(0.0, min(self.max_backoff, self.backoff * (2**attempt)))

    def _send(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        retry: bool,
        token: str | None = None,
        body: bytes | None = None,
        form: dict[str, str] | None = None,
        accept: str = ORCID_XML,
        log_path: str | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying where ``retry`` allows; return the final response.

        Raises :class:`ORCIDTimeout` / :class:`TransportError` when no response came, and
        :class:`RateLimitedError` at once when ORCID asks us to wait longer than
        :attr:`max_retry_after`. Other error statuses are returned for the caller to map.
        """
        headers = {"Accept": accept}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data: Any = None
        if body is not None:
            headers["Content-Type"] = ORCID_XML
            data = body
        elif form is not None:
            data = form  # requests sends it form-encoded
        path = log_path or urlsplit(url).path
        attempt = 0
        while True:
            self.rate_limiter.acquire()
            with self._count_lock:
                self._count += 1
            started = time.monotonic()
            failure: TransportError | None = None
            response: requests.Response | None = None
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=data,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.Timeout:
                failure = ORCIDTimeout(
                    f"ORCID did not answer {method} {path} within {self.timeout} seconds."
                )
            except requests.RequestException as exc:
                failure = TransportError(
                    f"Could not reach ORCID for {method} {path}: {type(exc).__name__}."
                )
            duration_ms = (time.monotonic() - started) * 1000.0
            status = response.status_code if response is not None else None
            error_code = _peek_error_code(response)
            self._notify(
                CallInfo(
                    method=method,
                    operation=operation,
                    url_path=path,
                    status=status,
                    error_code=error_code,
                    duration_ms=round(duration_ms, 1),
                )
            )
            # The path holds the iD and put-code, never a query string or a secret; token
            # calls log only /oauth/token, never their form body.
            log.debug(
                "ORCID %s %s -> %s%s in %.0f ms (attempt %d)",
                method,
                path,
                status if status is not None else type(failure).__name__,
                f" (error code {error_code})" if error_code else "",
                duration_ms,
                attempt + 1,
            )
            retry_after: float | None = None
            if response is not None:
                if status not in _RETRY_STATUSES:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > self.max_retry_after:
                    return response  # too long to wait here: the caller gets retry_after
            if not retry or attempt >= self.max_retries:
                if failure is not None:
                    log.info("ORCID %s %s failed: %s", method, path, failure)
                    raise failure
                return response  # type: ignore[return-value]
            delay = self._backoff_delay(attempt)
            if retry_after is not None:
                delay = max(delay, retry_after)
            log.warning(
                "ORCID %s %s -> %s; retry %d of %d in %.2f s",
                method,
                path,
                status if status is not None else type(failure).__name__,
                attempt + 1,
                self.max_retries,
                delay,
            )
            self.sleep(delay)
            attempt += 1

    def _notify(self, info: CallInfo) -> None:
        if self.on_response is None:
            return
        try:
            self.on_response(info)
        except Exception:  # a metrics hook must never break an ORCID call
            log.exception("on_response callback failed")

    # ------------------------------------------------------------------ errors

    def _api_error(
        self,
        response: requests.Response,
        *,
        secrets: Sequence[str | None] = (),
        orcid: str | None = None,
    ) -> APIError:
        """The typed exception for an error ``response`` (API-FACTS §7), credentials redacted."""
        return error_from_response(response, secrets=secrets, orcid=orcid)

    def _oauth_call(
        self, operation: str, url: str, form: dict[str, str], *, retry: bool, secrets: list[str]
    ) -> requests.Response:
        form = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        secrets = [self._client_secret, *secrets]
        response = self._send("POST", url, operation=operation, retry=retry, form=form, accept=JSON)
        if response.status_code < 400:
            return response
        # RFC 6749 error JSON, when ORCID sent one; 429/5xx without it are transport trouble.
        payload = _json_or_none(response)
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            description = payload.get("error_description") or payload.get("error-description")
            error = OAuthError(
                redact(payload["error"], secrets) or "error",
                redact(str(description), secrets) if description else None,
                response.status_code,
            )
        elif response.status_code == 429 or response.status_code >= 500:
            raise self._api_error(response, secrets=secrets)
        else:
            error = OAuthError(
                "invalid_response",
                f"ORCID's {operation} endpoint answered {response.status_code} "
                "without an OAuth error document.",
                response.status_code,
            )
        log.info("ORCID %s refused: %s (HTTP %s)", operation, error.error, error.status)
        raise error

    def _token_response(self, response: requests.Response, operation: str) -> dict:
        payload = _json_or_none(response)
        if not isinstance(payload, dict) or not payload.get("access_token"):
            raise OAuthError(
                "invalid_response",
                f"ORCID's {operation} answer carried no access token.",
                response.status_code,
            )
        return payload

    # ------------------------------------------------------------------ OAuth

    def exchange_code(self, code: str, redirect_uri: str) -> dict:
        """Trade an authorization code for tokens; returns ORCID's token JSON as sent.

        Never retried: a code is single-use, and ORCID revokes every token issued from a
        code that is presented twice (API-FACTS §2.2).
        """
        response = self._oauth_call(
            "exchange_code",
            self.endpoints.token_url,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            retry=False,
            secrets=[code],
        )
        return self._token_response(response, "exchange_code")

    def refresh_token(self, refresh_token: str, scope: str | None = None) -> dict:
        """A new access token from a refresh token (optionally narrowed to ``scope``).

        Retried on transport trouble: a repeated refresh at worst mints one extra token,
        since ORCID no longer honours ``revoke_old`` (API-FACTS §2.4).
        """
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            form["scope"] = scope
        response = self._oauth_call(
            "refresh_token", self.endpoints.token_url, form, retry=True, secrets=[refresh_token]
        )
        return self._token_response(response, "refresh_token")

    def client_credentials(self, scope: str = "/read-public") -> dict:
        """A two-legged token (``/read-public`` or ``/webhook``); store and reuse it."""
        response = self._oauth_call(
            "client_credentials",
            self.endpoints.token_url,
            {"grant_type": "client_credentials", "scope": scope},
            retry=True,
            secrets=[],
        )
        return self._token_response(response, "client_credentials")

    def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (revoking the access token drops its refresh
        token too). Idempotent, hence retried."""
        self._oauth_call(
            "revoke", self.endpoints.revoke_url, {"token": token}, retry=True, secrets=[token]
        )

    # ------------------------------------------------------------------ API plumbing

    def _url(self, orcid: str, *parts: str | int) -> str:
        tail = "/".join(str(p) for p in parts)
        return f"{self.endpoints.member_api}/{_check_orcid(orcid)}/{tail}"

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
        error = self._api_error(response, secrets=[token], orcid=orcid)
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
        code = _check_put_code(put_code)
        return parse_work(self._get(orcid, token, "read_work", "work", code))

    def read_works_by_put_codes(
        self, orcid: str, token: str, put_codes: Sequence[int]
    ) -> list[Work]:
        """Full works for up to 100 put-codes in one call (``GET /works/pc,pc``)."""
        codes = [_check_put_code(p) for p in put_codes]
        if len(codes) > MAX_BULK:
            raise ValueError(f"ORCID reads at most {MAX_BULK} works per call, not {len(codes)}.")
        if not codes:
            return []
        joined = ",".join(str(c) for c in codes)
        xml = self._get(orcid, token, "read_works_by_put_codes", "works", joined)
        return parse_works_bulk_read(xml)

    def read_affiliations(self, orcid: str, token: str, section: str) -> list[AffiliationSummary]:
        """Summaries of one affiliation section; ``section`` singular (``"education"``)."""
        plural = AFFILIATION_SECTIONS[_check_section(section)]
        xml = self._get(orcid, token, "read_affiliations", plural)
        return parse_affiliations(xml)

    def read_affiliation(self, orcid: str, token: str, section: str, put_code: int) -> Affiliation:
        code = _check_put_code(put_code)
        xml = self._get(orcid, token, "read_affiliation", _check_section(section), code)
        return parse_affiliation(xml)

    # ------------------------------------------------------------------ writes

    def _post_item(self, orcid: str, token: str, kind: str, item: Any, operation: str) -> int:
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
        self, orcid: str, token: str, kind: str, put_code: int, item: Any, operation: str
    ) -> None:
        code = _check_put_code(put_code)
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
        code = _check_put_code(put_code)
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
        section = _check_section(affiliation.kind)
        return self._post_item(orcid, token, section, affiliation, "add_affiliation")

    def update_affiliation(
        self, orcid: str, token: str, put_code: int, affiliation: Affiliation
    ) -> None:
        section = _check_section(affiliation.kind)
        self._put_item(orcid, token, section, put_code, affiliation, "update_affiliation")

    def delete_affiliation(self, orcid: str, token: str, section: str, put_code: int) -> None:
        self._delete_item(orcid, token, _check_section(section), put_code, "delete_affiliation")

    def add_item(self, orcid: str, token: str, item: Work | Affiliation) -> int:
        """``add_work`` or ``add_affiliation``, by ``item.kind``."""
        if item.kind == "work":
            return self.add_work(orcid, token, item)  # type: ignore[arg-type]
        return self.add_affiliation(orcid, token, item)  # type: ignore[arg-type]

    def update_item(
        self, orcid: str, token: str, item: Work | Affiliation, put_code: int | None = None
    ) -> None:
        """``update_work`` or ``update_affiliation``; ``put_code`` defaults to the item's."""
        code = put_code if put_code is not None else item.put_code
        if item.kind == "work":
            self.update_work(orcid, token, code, item)  # type: ignore[arg-type]
        else:
            self.update_affiliation(orcid, token, code, item)  # type: ignore[arg-type]

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
            self.delete_work(orcid, token, code)  # type: ignore[arg-type]
        else:
            self.delete_affiliation(orcid, token, kind, code)  # type: ignore[arg-type]

    def add_works(self, orcid: str, token: str, works: Sequence[Work]) -> list[BulkResult]:
        """POST up to 100 works in one ``bulk`` document; one :class:`BulkResult` per work.

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
        return self._bulk_results(response, len(works), orcid, token)

    def _bulk_results(
        self, response: requests.Response, expected: int, orcid: str, token: str
    ) -> list[BulkResult]:
        slots = parse_bulk_response(response.content)
        results: list[BulkResult] = []
        for index in range(expected):
            if index >= len(slots):
                results.append(
                    BulkResult(
                        index,
                        error=APIError(
                            "ORCID's bulk answer had no result for this work.",
                            status=response.status_code,
                        ),
                    )
                )
                continue
            slot = slots[index]
            if isinstance(slot, Work):
                results.append(BulkResult(index, put_code=slot.put_code))
            else:
                error = build_api_error(
                    getattr(slot, "status", None) or 400,
                    getattr(slot, "error_code", None),
                    getattr(slot, "developer_message", None),
                    getattr(slot, "user_message", None),
                    getattr(slot, "more_info", None),
                    secrets=[token],
                    orcid=orcid,
                )
                results.append(BulkResult(index, error=error))
        log.info(
            "ORCID bulk add to %s: %d added, %d refused",
            orcid,
            sum(1 for r in results if r.ok),
            sum(1 for r in results if not r.ok),
        )
        return results

    # ------------------------------------------------------------------ webhooks

    def _webhook_url(self, orcid: str, callback_url: str) -> tuple[str, str]:
        # No /v3.0 prefix on webhook paths (API-FACTS §9); the callback is one path segment.
        base = f"{self.endpoints.webhook_api}/{_check_orcid(orcid)}/webhook/"
        # The callback URL may carry an HMAC: log and report the path without it.
        log_path = urlsplit(base).path + "[callback]"
        return base + quote(callback_url, safe=""), log_path

    def register_webhook(self, orcid: str, token: str, callback_url: str) -> bool:
        """Ask ORCID to call ``callback_url`` when the record changes (premium members).

        Returns ``True`` if the hook was created (201), ``False`` if it already existed (204).
        """
        url, log_path = self._webhook_url(orcid, callback_url)
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
        url, log_path = self._webhook_url(orcid, callback_url)
        self._call(
            "DELETE",
            url,
            token,
            operation="unregister_webhook",
            orcid=orcid,
            ok={200, 204},
            log_path=log_path,
        )


# ---------------------------------------------------------------------- helpers


def _json_or_none(response: requests.Response | None) -> Any:
    if response is None:
        return None
    try:
        return json.loads(response.content[:65536].decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # hostile nesting: not JSON to us
        return None


_ERROR_CODE_IN_BODY = re.compile(rb"error-code\W{1,3}(\d{4})")


def _peek_error_code(response: requests.Response | None) -> int | None:
    """ORCID's error code from an error body, cheaply (for CallInfo only)."""
    if response is None or response.status_code < 300:
        return None
    match = _ERROR_CODE_IN_BODY.search(response.content[:65536])
    return int(match.group(1)) if match else None


def error_from_response(
    response: requests.Response,
    *,
    secrets: Sequence[str | None] = (),
    orcid: str | None = None,
) -> APIError:
    """The typed exception for an ORCID error response (XML, JSON or the 401/403 OAuth form)."""
    status = response.status_code
    content_type = response.headers.get("Content-Type")
    code = developer = user = more = None
    try:
        info = parse_error(response.content, content_type)
    except Exception:  # an unreadable body still deserves a typed error
        info = None
    oauth_error = None
    if info is not None:
        code = info.error_code
        developer = info.developer_message
        user = info.user_message
        more = info.more_info
        oauth_error = info.error
    else:
        text = response.content[:300].decode("utf-8", "replace").strip()
        developer = text or None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return build_api_error(
        status,
        code,
        developer,
        user,
        more,
        secrets=secrets,
        orcid=orcid,
        oauth_error=oauth_error,
        retry_after=retry_after,
    )


def build_api_error(
    status: int,
    error_code: int | str | None,
    developer_message: str | None,
    user_message: str | None = None,
    more_info: str | None = None,
    *,
    secrets: Sequence[str | None] = (),
    orcid: str | None = None,
    oauth_error: str | None = None,
    retry_after: float | None = None,
) -> APIError:
    """Pick the class for ``status`` + ORCID ``error_code`` (API-FACTS §7) and build it."""
    try:
        code = int(error_code) if error_code is not None else None
    except (TypeError, ValueError):
        code = None
    developer = redact(developer_message, secrets)
    user = redact(user_message, secrets)
    summary = developer or user or oauth_error or "no details"
    if len(summary) > 500:
        summary = summary[:497] + "..."
    message = f"ORCID answered {status}" + (f" (error {code})" if code else "") + f": {summary}"
    kwargs: dict[str, Any] = {
        "status": status,
        "error_code": code,
        "developer_message": developer,
        "user_message": user,
        "more_info": more_info,
    }
    if status == 301 or code == 9007:
        return RecordDeprecatedError(
            message, primary_orcid=primary_orcid(developer, orcid), **kwargs
        )
    if status in (400, 413):
        return BadRequestError(message, **kwargs)
    if status == 401:
        return InvalidTokenError(message, **kwargs)
    if status == 403:
        if code == 9010:
            return NotSourceError(message, **kwargs)
        if code == 9035:
            return VisibilityChangeError(message, **kwargs)
        if code in (9004, 9005) or oauth_error == "forbidden":
            return InsufficientScopeError(message, **kwargs)
        return ForbiddenError(message, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 409:
        if code == 9021:
            return DuplicateError(message, existing_put_code=existing_put_code(developer), **kwargs)
        conflict = {
            9018: RecordLockedError,
            9036: RecordNotClaimedError,
            9044: RecordDeactivatedError,
            9048: WorksLimitError,
        }.get(code or 0, ConflictError)
        return conflict(message, **kwargs)
    if status in (429, 503):
        # 503 is what ORCID sends beyond the burst (API-FACTS §8).
        return RateLimitedError(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return APIError(message, **kwargs)


__all__ = ["BulkResult", "CallInfo", "ORCIDClient"]
