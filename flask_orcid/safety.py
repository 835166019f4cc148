"""Same-site redirects and the CSRF token of the extension's own forms."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from flask import request, session

from .i18n import gettext as _
from .page_errors import CSRFError

__all__ = ["check_csrf", "csrf_token", "safe_next"]

_CSRF = "_orcid_csrf"


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a same-site relative path (``/deposit?x=1``), else None.

    Refuses absolute and scheme-relative URLs (``https://evil``, ``//evil``), other schemes
    (``javascript:``), backslashes (browsers read ``/\\evil`` as ``//evil``) and control
    characters (browsers strip tabs and newlines before parsing).
    """
    if not value or not isinstance(value, str) or len(value) > 2048:
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def csrf_token() -> str:
    """This session's CSRF token for the blueprint's forms (Jinja global ``orcid_csrf_token``)."""
    token = session.get(_CSRF)
    if not token:
        token = session[_CSRF] = generate_token(40)
    return token


def check_csrf() -> None:
    """Refuse a POST that does not carry this session's CSRF token."""
    expected = session.get(_CSRF)
    sent = request.form.get("csrf_token", "")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(
        expected.encode(), sent.encode()
    ):
        raise CSRFError(
            _("The form did not come from this site's page, or your session has ended. "
              "Nothing was changed. Reload the page and try again."),
            retry=False,
        )
