"""Who is signed in to the host site, for hosts that use Flask-Login and register no loader.

When the app has a ``login_manager`` (Flask-Login) and the extension has no
``current_user_loader``, the signed-in user is Flask-Login's ``current_user``: the key is
``get_id()``, the names and email come from the attributes named by
``ORCID_USER_GIVEN_NAMES_ATTR``, ``ORCID_USER_FAMILY_NAMES_ATTR``, ``ORCID_USER_EMAIL_ATTR``
and ``ORCID_USER_LOCALE_ATTR``. An anonymous user (``is_authenticated`` false) is nobody: a
loader that wrapped ``current_user.get_id()`` blindly would sign every visitor in.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from .state import UserInfo

try:  # Flask-Login is the host's choice, not a dependency of the extension
    import flask_login
except ImportError:  # pragma: no cover - only hosts without Flask-Login
    flask_login = None

__all__ = ["flask_login_user", "uses_flask_login"]


def uses_flask_login(app: Flask) -> bool:
    """Has ``app`` set up Flask-Login (``LoginManager.init_app``)?"""
    return flask_login is not None and getattr(app, "login_manager", None) is not None


def _text(user: Any, setting: str) -> str | None:
    """The user's attribute named by the config key ``setting`` (None when unset or empty)."""
    name = current_app.config.get(setting)
    if not name:
        return None
    value = getattr(user, str(name), None)
    if callable(value):
        value = value()
    return str(value) if value not in (None, "") else None


def flask_login_user() -> UserInfo | None:
    """Flask-Login's ``current_user`` as a :class:`UserInfo`; None when anonymous."""
    user = flask_login.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    key = user.get_id()
    if key is None or key == "":
        return None
    return UserInfo(
        key=str(key),
        given_names=_text(user, "ORCID_USER_GIVEN_NAMES_ATTR"),
        family_names=_text(user, "ORCID_USER_FAMILY_NAMES_ATTR"),
        email=_text(user, "ORCID_USER_EMAIL_ATTR"),
        locale=_text(user, "ORCID_USER_LOCALE_ATTR"),
    )
