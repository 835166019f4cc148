"""The running site as the check's test user sees it: the app's own test client, so every
request goes through the same code, configuration, database and extensions as a visitor's.

Requests are made at the site's public address (``ORCID_EXTERNAL_URL``, else the
``SERVER_NAME``, else ``http://localhost``), so the URLs the site builds (the redirect URI
above all) are the ones a visitor gets.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask
from lxml.html import HtmlElement

from .html_inspect import parse
from .model import CheckTargets

__all__ = ["Page", "Site", "base_url_for"]


def base_url_for(app: Flask, override: str | None = None) -> str:
    """The site's public root: the given one, ``ORCID_EXTERNAL_URL``, ``SERVER_NAME``."""
    cfg = app.config
    base = override or cfg.get("ORCID_EXTERNAL_URL")
    if not base and cfg.get("SERVER_NAME"):
        base = f"{cfg.get('PREFERRED_URL_SCHEME') or 'http'}://{cfg['SERVER_NAME']}"
    return str(base or "http://localhost").rstrip("/")


@dataclass
class Page:
    """One answer of the site."""

    url: str
    status: int
    headers: dict[str, str]
    text: str
    link_headers: list[str] = field(default_factory=list)
    _doc: HtmlElement | None = None

    @property
    def doc(self) -> HtmlElement:
        if self._doc is None:
            self._doc = parse(self.text)
        return self._doc

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308)


class Site:
    """A browser on the site, without JavaScript: cookies kept, redirects not followed."""

    def __init__(self, app: Flask, base_url: str, targets: CheckTargets,
                 idle: Callable[[], None] | None = None) -> None:
        self.app = app
        self.base_url = base_url
        self.targets = targets
        self.client = app.test_client()
        #: ends the check's own database transaction before each request, so the check never
        #: holds a lock the site needs (SQLite allows one writer)
        self.idle = idle or (lambda: None)

    def fresh(self) -> Site:
        """Another browser: no cookies, nobody signed in."""
        return Site(self.app, self.base_url, self.targets, self.idle)

    def path_of(self, url: str) -> str | None:
        """``url``'s path and query when it is on this site (relative or absolute), else None."""
        absolute = urljoin(self.base_url + "/", url)
        parts, base = urlsplit(absolute), urlsplit(self.base_url)
        if parts.netloc and parts.netloc != base.netloc:
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def absolute(self, url: str) -> str:
        return urljoin(self.base_url + "/", url)

    def sign_in(self) -> bool:
        """Sign the test user in (the host's ``sign_in``); False when the host gave none."""
        sign_in = self.targets.sign_in
        if sign_in is None:
            return False

        def transaction() -> None:
            with self.client.session_transaction(base_url=self.base_url) as session:
                sign_in(session)

        self.idle()
        contextvars.Context().run(transaction)
        return True

    def get(self, url: str) -> Page:
        return self._answer(url, self._isolated(self.client.get, self._local(url)))

    def post(self, url: str, data: dict[str, str]) -> Page:
        return self._answer(url, self._isolated(self.client.post, self._local(url), data=data))

    def _isolated(self, method: Callable[..., Any], path: str, **kwargs: Any) -> Any:
        """One request in a context of its own, like a visitor's: Flask then pushes a new
        application context for it (its own ``g`` and database session) instead of reusing
        the one the check runs in (the CLI's, or the admin's request)."""
        self.idle()
        return contextvars.Context().run(method, path, base_url=self.base_url, **kwargs)

    def session_cookie(self) -> tuple[str, str] | None:
        """The session cookie's name and value (to hand the sign-in to a real browser)."""
        name = self.app.config.get("SESSION_COOKIE_NAME") or "session"
        cookie = self.client.get_cookie(name, domain=urlsplit(self.base_url).hostname or "")
        if cookie is None:
            cookie = self.client.get_cookie(name)
        return (name, cookie.value) if cookie is not None else None

    def _local(self, url: str) -> str:
        path = self.path_of(url)
        if path is None:
            raise ValueError(f"{url} is not on this site ({self.base_url})")
        return path

    def _answer(self, url: str, response: Any) -> Page:
        text = response.get_data(as_text=True)
        response.close()
        return Page(self.absolute(url), response.status_code, dict(response.headers), text,
                    response.headers.getlist("Link"))
