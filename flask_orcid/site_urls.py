"""Absolute URLs of the site, with or without a request.

Links that leave the site in an email (an invitation) must not depend on the Host header of
whatever request made them, and a campaign run from the CLI has no request at all. The site's
public root is ``ORCID_EXTERNAL_URL``, else ``ORCID_WEBHOOK_BASE_URL`` (the same root the
webhook callback uses, :func:`flask_orcid.pages.callback_url`), else Flask's ``SERVER_NAME``
(with ``PREFERRED_URL_SCHEME``); inside a request with none of them, the request's own host
(which ``TRUSTED_HOSTS`` guards).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, has_request_context, request

from .errors import ConfigurationError

__all__ = ["external_url", "site_base_url", "site_context"]

_NO_ROOT = ("Set ORCID_EXTERNAL_URL to your site's public address (for example "
            "https://theses.example.edu): links in emails are built from it.")


def site_base_url(app: Flask) -> str:
    """The site's public root, e.g. ``https://theses.example.edu`` (no trailing slash)."""
    cfg = app.config
    base = cfg.get("ORCID_EXTERNAL_URL") or cfg.get("ORCID_WEBHOOK_BASE_URL")
    if base:
        return str(base).rstrip("/")
    if cfg.get("SERVER_NAME"):
        root = cfg.get("APPLICATION_ROOT") or "/"
        scheme = cfg.get("PREFERRED_URL_SCHEME") or "http"
        return f"{scheme}://{cfg['SERVER_NAME']}{root.rstrip('/')}"
    if has_request_context():
        return str(request.host_url).rstrip("/") + str(request.script_root)
    raise ConfigurationError(_NO_ROOT)


def external_url(app: Flask, endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under :func:`site_base_url`, in any context."""
    parts = urlsplit(site_base_url(app))
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                               url_scheme=parts.scheme or "http")
    return str(adapter.build(endpoint, values, force_external=True))


@contextmanager
def site_context(app: Flask) -> Iterator[None]:
    """A request context for rendering outside a request (the CLI): templates, translations
    and ``url_for`` work as on the site. Inside a request, the request itself."""
    if has_request_context():
        yield
        return
    with app.test_request_context("/", base_url=site_base_url(app) + "/"):
        yield
