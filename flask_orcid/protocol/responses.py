"""Reading ORCID's answers: an HTTP status, headers and body become a result or ONE exception.

- :func:`error_from_response` / :func:`build_api_error`: status + ORCID error code → the one
  class of :mod:`flask_orcid.errors` (API-FACTS §7), credentials redacted;
- :func:`oauth_error_from_response`, :func:`token_payload`: the token endpoint's answers;
- :func:`bulk_results`: one :class:`BulkResult` per slot of a bulk ``POST /works``;
- :func:`put_code_from_location`, :func:`parse_retry_after`, :func:`error_code_of`: what
  the headers and body say, for the client and the transport.

The rules for ORCID's free text (redaction, the put-code in a 409, the iD in a 301) live in
:mod:`.messages`, which the body readers share; they are re-exported here.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import urlsplit

import requests

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
    RateLimitedError,
    RecordDeactivatedError,
    RecordDeprecatedError,
    RecordLockedError,
    RecordNotClaimedError,
    ServerError,
    VisibilityChangeError,
    WorksLimitError,
)
from .messages import REDACTED, existing_put_code, primary_orcid, redact
from .model import Work
from .records import ErrorInfo
from .xml_reader import parse_bulk_response, parse_error

__all__ = [
    "REDACTED",
    "BulkResult",
    "build_api_error",
    "bulk_results",
    "error_class",
    "error_code_of",
    "error_from_response",
    "existing_put_code",
    "json_or_none",
    "oauth_error_from_response",
    "parse_retry_after",
    "primary_orcid",
    "put_code_from_location",
    "redact",
    "token_payload",
]

_PUT_CODE_IN_LOCATION = re.compile(r"/(\d+)/?$")
#: How much of a body is read for JSON or a fallback message.
_BODY_PEEK = 65536

_FORBIDDEN: dict[int, type[ForbiddenError]] = {
    9004: InsufficientScopeError,
    9005: InsufficientScopeError,
    9010: NotSourceError,
    9035: VisibilityChangeError,
}
_CONFLICTS: dict[int, type[ConflictError]] = {
    9018: RecordLockedError,
    9021: DuplicateError,
    9036: RecordNotClaimedError,
    9044: RecordDeactivatedError,
    9048: WorksLimitError,
}


@dataclass(frozen=True)
class BulkResult:
    """The outcome of one slot of a bulk ``POST /works``: a put-code or an error."""

    index: int
    put_code: int | None = None
    error: APIError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.put_code is not None


class _ErrorFields(TypedDict):
    """The keyword arguments every :class:`APIError` takes."""

    status: int
    error_code: int | None
    developer_message: str | None
    user_message: str | None
    more_info: str | None


# ------------------------------------------------------------------------- headers


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


# ------------------------------------------------------------------------- bodies


def json_or_none(response: requests.Response | None) -> Any:
    """The body as JSON (whatever shape ORCID sent), or ``None`` when it is not JSON."""
    if response is None:
        return None
    try:
        return json.loads(response.content[:_BODY_PEEK].decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # hostile nesting: not JSON to us
        return None


def _error_info(response: requests.Response) -> ErrorInfo | None:
    try:
        return parse_error(response.content, response.headers.get("Content-Type"))
    except Exception:  # an unreadable body still deserves a typed error
        return None


def error_code_of(response: requests.Response | None) -> int | None:
    """ORCID's error code in an error response (for :class:`~.transport.CallInfo`)."""
    if response is None or response.status_code < 300:
        return None
    info = _error_info(response)
    return info.error_code if info is not None else None


def token_payload(response: requests.Response, operation: str) -> dict[str, Any]:
    """The token endpoint's JSON answer, which must carry an ``access_token``."""
    payload = json_or_none(response)
    if not isinstance(payload, dict) or not payload.get("access_token"):
        raise OAuthError(
            "invalid_response",
            f"ORCID's {operation} answer carried no access token.",
            response.status_code,
        )
    return payload


# ------------------------------------------------------------------------- errors


def oauth_error_from_response(
    response: requests.Response, operation: str, secrets: Sequence[str | None]
) -> OAuthError | APIError:
    """The exception for a token or revoke endpoint's error ``response``.

    RFC 6749 error JSON, when ORCID sent one, is an :class:`OAuthError`; 429/5xx without it
    are transport trouble (:func:`error_from_response`); anything else is an ``OAuthError``
    ``invalid_response``.
    """
    payload = json_or_none(response)
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        description = payload.get("error_description") or payload.get("error-description")
        return OAuthError(
            redact(payload["error"], secrets) or "error",
            redact(str(description), secrets) if description else None,
            response.status_code,
        )
    if response.status_code == 429 or response.status_code >= 500:
        return error_from_response(response, secrets=secrets)
    return OAuthError(
        "invalid_response",
        f"ORCID's {operation} endpoint answered {response.status_code} "
        "without an OAuth error document.",
        response.status_code,
    )


def error_from_response(
    response: requests.Response,
    *,
    secrets: Sequence[str | None] = (),
    orcid: str | None = None,
) -> APIError:
    """The typed exception for an ORCID error response (XML, JSON or the 401/403 OAuth form)."""
    info = _error_info(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if info is None:
        text = response.content[:300].decode("utf-8", "replace").strip()
        return build_api_error(
            response.status_code,
            None,
            text or None,
            secrets=secrets,
            orcid=orcid,
            retry_after=retry_after,
        )
    return build_api_error(
        response.status_code,
        info.error_code,
        info.developer_message,
        info.user_message,
        info.more_info,
        secrets=secrets,
        orcid=orcid,
        oauth_error=info.error,
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
    code = _int_or_none(error_code)
    fields = _ErrorFields(
        status=status,
        error_code=code,
        developer_message=redact(developer_message, secrets),
        user_message=redact(user_message, secrets),
        more_info=more_info,
    )
    message = _error_message(fields, oauth_error)
    cls = error_class(status, code, oauth_error)
    developer = fields["developer_message"]
    if cls is RecordDeprecatedError:
        return RecordDeprecatedError(
            message, primary_orcid=primary_orcid(developer, orcid), **fields
        )
    if cls is DuplicateError:
        return DuplicateError(message, existing_put_code=existing_put_code(developer), **fields)
    if cls is RateLimitedError:
        return RateLimitedError(message, retry_after=retry_after, **fields)
    return cls(message, **fields)


def error_class(status: int, code: int | None, oauth_error: str | None = None) -> type[APIError]:
    """The exception class for an HTTP ``status`` and ORCID error ``code`` (API-FACTS §7)."""
    if status == 301 or code == 9007:
        return RecordDeprecatedError
    if status in (400, 413):
        return BadRequestError
    if status == 401:
        return InvalidTokenError
    if status == 403:
        if code in _FORBIDDEN:
            return _FORBIDDEN[code]
        return InsufficientScopeError if oauth_error == "forbidden" else ForbiddenError
    if status == 404:
        return NotFoundError
    if status == 409:
        return _CONFLICTS.get(code or 0, ConflictError)
    if status in (429, 503):
        # 503 is what ORCID sends beyond the burst (API-FACTS §8).
        return RateLimitedError
    if status >= 500:
        return ServerError
    return APIError


def _error_message(fields: _ErrorFields, oauth_error: str | None) -> str:
    summary = fields["developer_message"] or fields["user_message"] or oauth_error or "no details"
    if len(summary) > 500:
        summary = summary[:497] + "..."
    code = fields["error_code"]
    return (
        f"ORCID answered {fields['status']}" + (f" (error {code})" if code else "") + f": {summary}"
    )


def _int_or_none(value: int | str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------- bulk


def bulk_results(
    response: requests.Response,
    expected: int,
    *,
    secrets: Sequence[str | None] = (),
    orcid: str | None = None,
) -> list[BulkResult]:
    """One :class:`BulkResult` per work sent: ORCID's bulk add is not atomic (API-FACTS §4),
    each slot of its answer is the created work or an error, in the order sent."""
    slots = parse_bulk_response(response.content)
    results: list[BulkResult] = []
    for index in range(expected):
        if index >= len(slots):
            missing = APIError(
                "ORCID's bulk answer had no result for this work.", status=response.status_code
            )
            results.append(BulkResult(index, error=missing))
            continue
        slot = slots[index]
        if isinstance(slot, Work):
            results.append(BulkResult(index, put_code=slot.put_code))
            continue
        error = build_api_error(
            slot.status or 400,
            slot.error_code,
            slot.developer_message,
            slot.user_message,
            slot.more_info,
            secrets=secrets,
            orcid=orcid,
        )
        results.append(BulkResult(index, error=error))
    return results
