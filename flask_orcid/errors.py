"""One exception tree for everything flask-orcid raises.

::

    ORCIDError
    ├── ConfigurationError            missing or contradictory ORCID_* settings
    ├── ValidationError (ValueError)  an item breaks ORCID's rules before anything is sent
    ├── XMLError (ValueError)         a document we refuse to parse (malformed, hostile, too big)
    ├── TransportError                ORCID could not be reached (connection error, timeout)
    │   └── ORCIDTimeout
    ├── OAuthError                    the token or revoke endpoint said no ({"error", "error_description"})
    └── APIError                      the API answered with an error status
        ├── BadRequestError           400 (9001, 9006, 9019, 9022, 9023, 9024, 9037, 9045, ...)
        ├── InvalidTokenError         401 invalid_token: expired, revoked, fake, wrong environment
        ├── ForbiddenError            403
        │   ├── InsufficientScopeError    403 forbidden / 9004 / 9005
        │   ├── NotSourceError            403 / 9010: we did not add this item
        │   └── VisibilityChangeError     403 / 9035
        ├── NotFoundError             404 (9011, 9016, 9028)
        ├── ConflictError             409
        │   ├── DuplicateError            409 / 9021, ``existing_put_code`` when ORCID named it
        │   ├── RecordLockedError         409 / 9018
        │   ├── RecordNotClaimedError     409 / 9036
        │   ├── RecordDeactivatedError    409 / 9044
        │   └── WorksLimitError           409 / 9048
        ├── RecordDeprecatedError     301 / 9007, ``primary_orcid`` when ORCID named it
        ├── RateLimitedError          429, or 503 beyond the burst; ``retry_after`` in seconds
        └── ServerError               other 5xx

Messages never contain tokens or secrets: ORCID echoes the token in 401 bodies, and the
client redacts it before building the exception.
"""

from __future__ import annotations

from typing import Any


class ORCIDError(Exception):
    """Root of every error flask-orcid raises."""


class ConfigurationError(ORCIDError):
    """The application's ORCID_* configuration is missing something or contradicts itself."""


class ValidationError(ORCIDError, ValueError):
    """An item breaks a rule ORCID enforces; ``field`` names the offending part."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: every ``(field, message)`` found when the item was validated as a whole
        self.problems: list[tuple[str, str]] = [(field, message)] if field else []


class XMLError(ORCIDError, ValueError):
    """A document was refused: malformed, too large, or carrying DTDs or entities."""


class TransportError(ORCIDError):
    """ORCID could not be reached: connection refused or dropped, DNS, TLS."""


class ORCIDTimeout(TransportError):
    """ORCID did not answer within the configured timeout."""


class OAuthError(ORCIDError):
    """The OAuth token or revoke endpoint refused the request."""

    def __init__(
        self, error: str, description: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


class APIError(ORCIDError):
    """ORCID's API answered with an error status.

    :param status: the HTTP status.
    :param error_code: ORCID's numeric error code (``9021``), when the body had one.
    :param developer_message: ORCID's developer message, tokens redacted.
    :param user_message: ORCID's message meant for people, when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        developer_message: str | None = None,
        user_message: str | None = None,
        more_info: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.developer_message = developer_message
        self.user_message = user_message
        self.more_info = more_info

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, error_code={self.error_code!r}, "
            f"message={str(self)!r})"
        )


class BadRequestError(APIError):
    """400: ORCID rejected the request's content."""


class InvalidTokenError(APIError):
    """401: the token is expired, revoked, fake or for another environment."""


class ForbiddenError(APIError):
    """403: the token is valid but not allowed to do this."""


class InsufficientScopeError(ForbiddenError):
    """403: the token lacks the scope this call needs."""


class NotSourceError(ForbiddenError):
    """403 / 9010: only the client that added an item may change or delete it."""


class VisibilityChangeError(ForbiddenError):
    """403 / 9035: visibility belongs to the researcher."""


class NotFoundError(APIError):
    """404: the record or item does not exist (or no longer does)."""


class ConflictError(APIError):
    """409: the request conflicts with the record's state."""


class DuplicateError(ConflictError):
    """409 / 9021: this client already added an item with the same ``self`` identifier."""

    def __init__(self, message: str, *, existing_put_code: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing_put_code = existing_put_code


class RecordLockedError(ConflictError):
    """409 / 9018: ORCID locked the record."""


class RecordNotClaimedError(ConflictError):
    """409 / 9036: the record has not been claimed."""


class RecordDeactivatedError(ConflictError):
    """409 / 9044: the researcher deactivated the record."""


class WorksLimitError(ConflictError):
    """409 / 9048: the record holds ORCID's maximum of 10,000 works."""


class RecordDeprecatedError(APIError):
    """301 / 9007: the record was merged into another one."""

    def __init__(self, message: str, *, primary_orcid: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.primary_orcid = primary_orcid


class RateLimitedError(APIError):
    """429, or 503 beyond the burst: slow down; ``retry_after`` is in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: something went wrong inside ORCID; worth retrying later."""


__all__ = [
    "APIError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DuplicateError",
    "ForbiddenError",
    "InsufficientScopeError",
    "InvalidTokenError",
    "NotFoundError",
    "NotSourceError",
    "OAuthError",
    "ORCIDError",
    "ORCIDTimeout",
    "RateLimitedError",
    "RecordDeactivatedError",
    "RecordDeprecatedError",
    "RecordLockedError",
    "RecordNotClaimedError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "VisibilityChangeError",
    "WorksLimitError",
    "XMLError",
]
