"""Same-site redirects and the CSRF token of the extension's own forms.

One token mechanism per app: when the host runs Flask-WTF's ``CSRFProtect``
(``app.extensions["csrf"]``), the extension's forms carry Flask-WTF's token and its check is
Flask-WTF's; otherwise the extension keeps its own per-session token.
"""

from __future__ import annotations

import hmac
import unicodedata
from urllib.parse import unquote, urlsplit

from authlib.common.security import generate_token
from flask import Response, current_app, g, request, session

try:  # Flask-WTF is the host's choice, not a dependency of the extension
    from flask_wtf import csrf as wtf_csrf
except ImportError:  # pragma: no cover - only hosts without Flask-WTF
    wtf_csrf = None

from .i18n import gettext as _
from .page_errors import CSRFError

__all__ = [
    "MAX_NEXT_LENGTH",
    "check_csrf",
    "csrf_field_name",
    "csrf_token",
    "host_csrf",
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


def host_csrf() -> bool:
    """Does the host run Flask-WTF's ``CSRFProtect``? Then its token is the one token."""
    return wtf_csrf is not None and current_app.extensions.get("csrf") is not None


def csrf_field_name() -> str:
    """The name of the token field of the extension's forms (Flask-WTF's, when it checks)."""
    if host_csrf():
        return str(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return "csrf_token"


def csrf_token() -> str:
    """The CSRF token for the blueprint's forms (Jinja global ``orcid_csrf_token``):
    Flask-WTF's when the host runs ``CSRFProtect``, else this session's own."""
    if host_csrf():
        return str(wtf_csrf.generate_csrf())
    token = session.get(_CSRF)
    if not token:
        token = session[_CSRF] = generate_token(40)
    return str(token)


def _refuse() -> CSRFError:
    return CSRFError(
        _("The form did not come from this site's page, or your session has ended. "
          "Nothing was changed. Reload the page and try again."),
        retry=False,
    )


def check_csrf() -> None:
    """Refuse a POST that does not carry this session's CSRF token.

    With ``CSRFProtect`` on the host, Flask-WTF's check decides: the request already passed
    it when ``g.csrf_valid`` is set; otherwise (``WTF_CSRF_CHECK_DEFAULT = False``) the token
    is validated here with Flask-WTF's own function.
    """
    if host_csrf():
        if g.get("csrf_valid"):
            return
        try:
            wtf_csrf.validate_csrf(request.form.get(csrf_field_name()))
        except wtf_csrf.ValidationError:
            raise _refuse() from None
        return
    expected = session.get(_CSRF)
    sent = request.form.get("csrf_token", "")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(
        expected.encode(), sent.encode()
    ):
        raise _refuse()


#: the pages whose URL may carry an authorization code or lead to ORCID: never a Referer
_OAUTH_ENDPOINTS = frozenset({"orcid.connect", "orcid.callback"})


def _referrer_policy() -> str:
    """``no-referrer``, except where Flask-WTF needs a Referer to accept the page's forms.

    ``CSRFProtect`` refuses an HTTPS POST without a same-origin Referer
    (``WTF_CSRF_SSL_STRICT``), and a page sent with ``no-referrer`` makes the browser send
    none: the forms of the connection, items and admin pages would all fail. ``same-origin``
    sends the Referer to this site only, never to ORCID or anyone else.
    """
    if (request.endpoint not in _OAUTH_ENDPOINTS and host_csrf()
            and current_app.config.get("WTF_CSRF_SSL_STRICT", True)):
        return "same-origin"
    return "no-referrer"


def private_page_headers(response: Response) -> Response:
    """Headers of every page of the extension (its blueprints' ``after_request``).

    The OAuth pages carry a code and a state in their URL, and the others show a person's
    connection: never sent as a Referer, never cached, never sniffed, never framed. A host's
    own policy (set before, or after with plain assignment) wins.
    """
    headers = response.headers
    headers.setdefault("Referrer-Policy", _referrer_policy())
    if not (request.endpoint or "").endswith(".static"):
        headers.setdefault("Cache-Control", "no-store")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response
