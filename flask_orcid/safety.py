"""Same-site redirects and the CSRF token of the extension's own forms."""

from __future__ import annotations

import hmac
import unicodedata
from urllib.parse import unquote, urlsplit

from authlib.common.security import generate_token
from flask import Response, request, session

from .i18n import gettext as _
from .page_errors import CSRFError

__all__ = [
    "MAX_NEXT_LENGTH",
    "check_csrf",
    "csrf_token",
    "loggable",
    "private_page_headers",
    "safe_next",
]

#: the longest ``next`` followed (a same-site path with its query)
MAX_NEXT_LENGTH = 1024

_CSRF = "_orcid_csrf"


def _unsafe_form(value: str) -> bool:
    """True when ``value`` could leave the site once a browser has read it."""
    if "\\" in value or any(unicodedata.category(c) in _INVISIBLE for c in value):
        return True
    if not value.startswith("/") or value.startswith("//"):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme or parts.netloc)


#: control, format (zero-width, bidi) and separator characters, which browsers strip or fold
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a same-site relative path (``/deposit?x=1``), else None.

    The one safe-redirect check of the project (the sample repository uses it too). Refuses
    absolute and scheme-relative URLs (``https://evil``, ``//evil``), other schemes
    (``javascript:``), backslashes (browsers read ``/\\evil`` as ``//evil``), control, format
    and space characters (browsers strip tabs and newlines before parsing), and every
    percent-encoded or Unicode-compatible (``／``, ``＼``) spelling of those.
    """
    if not value or not isinstance(value, str) or len(value) > MAX_NEXT_LENGTH:
        return None
    if _unsafe_form(value) or _unsafe_form(unicodedata.normalize("NFKC", value)):
        return None
    # What a proxy or a second redirect might decode: the path, decoded again and again.
    path = value.split("?", 1)[0].split("#", 1)[0]
    for _round in range(4):  # %252f → %2f → /
        decoded = unquote(path)
        if decoded == path:
            return value
        path = decoded
        if _unsafe_form(path) or _unsafe_form(unicodedata.normalize("NFKC", path)):
            return None
    return None  # encoded more deeply than any real link


def loggable(value: object, limit: int = 200) -> str:
    """``value`` fit for a log line: control and format characters (CR/LF: forged log lines)
    replaced by ``?``, at most ``limit`` characters."""
    text = "" if value is None else str(value)[:limit]
    return "".join("?" if unicodedata.category(c) in _CONTROL else c for c in text)


_CONTROL = frozenset({"Cc", "Cf", "Zl", "Zp"})


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


def private_page_headers(response: Response) -> Response:
    """Headers of every page of the extension (its blueprints' ``after_request``).

    The OAuth pages carry a code and a state in their URL, and the others show a person's
    connection: never sent as a Referer, never cached, never sniffed, never framed. A host's
    own policy (set before, or after with plain assignment) wins.
    """
    headers = response.headers
    headers.setdefault("Referrer-Policy", "no-referrer")
    if not (request.endpoint or "").endswith(".static"):
        headers.setdefault("Cache-Control", "no-store")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response
