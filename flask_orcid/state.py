"""Per-application and per-request state of the extension.

Everything that belongs to one app lives in an :class:`ORCIDState` in
``app.extensions["orcid"]`` (read through :func:`get_state`); request data lives on
``g._orcid``. The ``ORCID`` object itself only holds the host's ``db``, models and hooks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g

from .errors import ConfigurationError
from .protocol.client import ORCIDClient
from .protocol.endpoints import Endpoints
from .sync.crypto import TokenCipher

__all__ = ["ORCIDState", "RequestData", "UserInfo", "current_flask_app", "get_state",
           "request_data"]


@dataclass(frozen=True)
class UserInfo:
    """Who the current user of the host application is.

    :param key: a stable key for the user (their primary key as a string, say); it links the
        ORCID connection to the user and must not change.
    :param given_names, family_names, email: prefill ORCID's sign-in/registration screen.
    :param locale: the user's language (``es``, ``pt_BR``), used when the host does not run
        Flask-Babel's own locale selection.
    """

    key: str
    given_names: str | None = None
    family_names: str | None = None
    email: str | None = None
    locale: str | None = None


@dataclass
class ORCIDState:
    """Per-application state of the extension, in ``app.extensions["orcid"]``."""

    #: the :class:`~flask_orcid.ORCID` object serving this app
    extension: Any
    cipher: TokenCipher
    endpoints: Endpoints
    scopes: tuple[str, ...]
    key_derived_from_secret: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: ORCIDClient | None = None
    #: OpenID Connect key set, fetched once per app (re-fetched when a new ``kid`` appears)
    jwks: dict[str, Any] | None = None
    #: the in-process background deliverer (``ORCID_DELIVERY = "thread"``)
    background: Any = None
    #: called after a commit that published something, besides waking ``background`` (the
    #: Celery wake-up of :mod:`flask_orcid.tasks`)
    waker: Any = None
    #: set once the first request ran the late setup (CSRF exemption, background start)
    started: bool = False


def current_flask_app() -> Flask:
    """The real application behind ``current_app`` (a signal's sender, a thread's app)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def get_state(app: Flask | None = None) -> ORCIDState:
    """The extension's state for ``app`` (default: the current app)."""
    app = app or current_app
    try:
        state: ORCIDState = app.extensions["orcid"]
    except KeyError:
        raise ConfigurationError(
            "flask-orcid is not set up on this application: did you forget ORCID.init_app(app)?"
        ) from None
    return state


@dataclass
class RequestData:
    """What the extension keeps for one request (on ``g._orcid``)."""

    user: UserInfo | None = None
    user_loaded: bool = False


def request_data() -> RequestData:
    """This request's :class:`RequestData`."""
    data: RequestData | None = g.get("_orcid")
    if data is None:
        data = g._orcid = RequestData()
    return data
