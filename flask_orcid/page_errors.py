"""Errors the extension renders as explanatory pages (``orcid/error.html``).

Each is a Werkzeug ``HTTPException``, so a site restyles them with ``app.errorhandler`` or by
overriding the template.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, session, url_for
from flask_babel import force_locale
from werkzeug.exceptions import (
    BadGateway,
    BadRequest,
    Conflict,
    Gone,
    HTTPException,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)

from .i18n import lazy_gettext as _l
from .state import get_state

__all__ = [
    "AlreadyLinkedError",
    "CSRFError",
    "InvitationClosedError",
    "InvitationFailedError",
    "InvitationPageError",
    "InvitationUnknownError",
    "InvitationUsedError",
    "ORCIDBadResponseError",
    "ORCIDPageError",
    "ORCIDRefusedError",
    "ORCIDUnavailableError",
    "SignInRequiredError",
    "StateError",
    "keep_problem",
    "take_problem",
]

_PROBLEM = "_orcid_problem"


class ORCIDPageError(HTTPException):
    """An HTTP error the blueprint renders as an explanatory page (``orcid/error.html``).

    Sites restyle these with ``app.errorhandler(StateError)`` etc., or override the template.
    """

    template = "orcid/error.html"
    title: Any = _l("Something went wrong")

    def __init__(
        self,
        message: Any = None,
        *,
        title: Any = None,
        next_url: str | None = None,
        retry: bool = True,
        detail: str | None = None,
    ) -> None:
        super().__init__(description=str(message) if message is not None else None)
        if title is not None:
            self.title = title
        self.next_url = next_url
        self.retry = retry
        self.detail = detail

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        retry_url = None
        if self.retry:
            retry_url = url_for("orcid.connect", next=self.next_url) if self.next_url else url_for(
                "orcid.connect"
            )
        body = render_template(
            self.template,
            error=self,
            title=str(self.title),
            message=self.description,
            detail=self.detail,
            retry_url=retry_url,
            next_url=self.next_url,
            support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"),
        )
        return Response(body, self.code, mimetype="text/html")


class StateError(ORCIDPageError, BadRequest):
    """The callback's ``state`` is missing, unknown, already used or expired."""

    title = _l("This ORCID sign-in could not be completed")


class CSRFError(ORCIDPageError, BadRequest):
    """A form arrived without this session's CSRF token."""

    title = _l("The form has expired")


class ORCIDRefusedError(ORCIDPageError, BadRequest):
    """ORCID answered the sign-in with an error (other than the researcher's denial)."""

    title = _l("ORCID could not complete the sign-in")


class AlreadyLinkedError(ORCIDPageError, Conflict):
    """The iD is linked to another user here, or this user is linked to another iD."""

    title = _l("This ORCID iD cannot be connected")


class ORCIDUnavailableError(ORCIDPageError, ServiceUnavailable):
    """ORCID could not be reached; nothing was stored."""

    title = _l("ORCID is not responding")


class ORCIDBadResponseError(ORCIDPageError, BadGateway):
    """ORCID answered something we could not use."""

    title = _l("ORCID sent an unexpected answer")


class SignInRequiredError(ORCIDPageError, Unauthorized):
    """The page needs a user signed in to the host site."""

    title = _l("Please sign in first")

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        response = super().get_response(environ, scope)
        # A 401 must name a scheme; "Basic" would make browsers pop a password dialog, so
        # name the one the site uses: its own sign-in page and session cookie.
        response.headers["WWW-Authenticate"] = "Session"
        return response


class InvitationPageError(ORCIDPageError):
    """A page of an invitation's flow: shown in the invitation's language, and "start again"
    leads back to the invitation's own page (``next_url``), never to a site sign-in."""

    title = _l("This invitation cannot be used")

    def __init__(self, message: Any = None, *, lang: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.lang = lang

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        with force_locale(self.lang or "en"):
            body = render_template(
                self.template, error=self, title=str(self.title), message=self.description,
                detail=self.detail, retry_url=self.next_url if self.retry else None,
                next_url=None, support_email=current_app.config.get("ORCID_SUPPORT_EMAIL"))
        return Response(body, self.code, mimetype="text/html")


class InvitationUnknownError(InvitationPageError, NotFound):
    """The link is not one of ours, or a newer email replaced it."""

    title = _l("This invitation link is not valid")


class InvitationClosedError(InvitationPageError, Gone):
    """The invitation expired or the inviter cancelled it."""

    title = _l("This invitation is closed")


class InvitationUsedError(InvitationPageError, Conflict):
    """The invitation was already answered with an iD (a link used twice)."""

    title = _l("This invitation was already used")


class InvitationFailedError(InvitationPageError, BadRequest):
    """ORCID's sign-in for an invitation could not be completed; nothing was stored."""

    title = _l("Your ORCID iD could not be confirmed")


def keep_problem(error: ORCIDPageError) -> None:
    """Keep ``error`` in the session, to show after a redirect to a clean URL."""
    session[_PROBLEM] = {
        "kind": type(error).__name__,
        "message": error.description,
        "next": error.next_url,
        "retry": error.retry,
        "detail": error.detail,
        "lang": getattr(error, "lang", None),
    }


def take_problem() -> ORCIDPageError | None:
    """The error :func:`keep_problem` kept (once), or None."""
    kept = session.pop(_PROBLEM, None)
    if not isinstance(kept, dict):
        return None
    kind = _KINDS.get(kept.get("kind"), ORCIDPageError)
    extra = {"lang": kept.get("lang")} if issubclass(kind, InvitationPageError) else {}
    return kind(kept.get("message"), next_url=kept.get("next"), retry=bool(kept.get("retry")),
                detail=kept.get("detail"), **extra)


_KINDS: dict[Any, type[ORCIDPageError]] = {
    cls.__name__: cls
    for cls in (StateError, CSRFError, ORCIDRefusedError, AlreadyLinkedError,
                ORCIDUnavailableError, ORCIDBadResponseError, SignInRequiredError,
                InvitationUnknownError, InvitationClosedError, InvitationUsedError,
                InvitationFailedError)
}


def signed_in_user(message: str) -> Any:
    """The host's signed-in user; without one, the page explains ``message`` (401)."""
    user = get_state().extension.current_user()
    if user is None:
        raise SignInRequiredError(message, retry=False)
    return user
