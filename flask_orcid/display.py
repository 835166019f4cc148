"""Showing ORCID iDs the way ORCID's display guidelines ask (API-FACTS §10, §11 item 7).

The markup lives in the Jinja macros of ``templates/orcid/macros.html``; this module gives them
what they need (the iD's URI in the configured environment, the extension's translations) through
Jinja globals that :func:`register_jinja` installs. ``ORCID.init_app`` calls it.

Use in a template::

    {% import "orcid/macros.html" as orcid %}
    {{ orcid.connect_button(next=request.path) }}
    {{ orcid.orcid_id_full(account.orcid) }}
    {{ orcid.orcid_id_inline(advisor_orcid, name=advisor_name, authenticated=False) }}
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context

from . import i18n
from .protocol.endpoints import DEFAULT_EMULATOR_URL
from .protocol.identifiers import orcid_uri, parse_orcid_id

__all__ = ["canonical_orcid_id", "orcid_uri_for", "register_jinja"]

log = logging.getLogger(__name__)

def canonical_orcid_id(orcid: object) -> str | None:
    """The bare canonical iD, or None when ``orcid`` is not a valid iD.

    Display code must never turn arbitrary text into a link (``javascript:`` …), so anything
    that fails the checksum is shown as plain, escaped text instead.
    """
    if not isinstance(orcid, str):
        return None
    try:
        return parse_orcid_id(orcid)
    except ValueError:
        return None


def orcid_uri_for(orcid: object, environment: str | None = None) -> str | None:
    """The full iD URI in ``environment`` (default: the app's ``ORCID_ENVIRONMENT``).

    Sandbox iDs link to ``https://sandbox.orcid.org/…`` and emulator iDs to the emulator, so a
    test site never sends people to a production record that does not exist. None when ``orcid``
    is not a valid iD.
    """
    bare = canonical_orcid_id(orcid)
    if bare is None:
        return None
    emulator_url = DEFAULT_EMULATOR_URL
    if has_app_context():
        config = current_app.config
        environment = environment or config.get("ORCID_ENVIRONMENT") or "production"
        emulator_url = config.get("ORCID_EMULATOR_URL") or DEFAULT_EMULATOR_URL
    return orcid_uri(bare, environment or "production", emulator_url)


def register_jinja(app: Flask) -> None:
    """Install the globals the ``orcid/macros.html`` macros and the extension's pages use.

    Globals: ``orcid_gettext``, ``orcid_ngettext`` (the extension's own catalog),
    ``orcid_page_language`` (the ``lang`` of the page), ``orcid_uri`` and ``orcid_canonical``; filters: ``orcid_uri``. Safe to call twice.
    """
    env = app.jinja_env
    env.globals.update(
        orcid_gettext=i18n.gettext,
        orcid_ngettext=i18n.ngettext,
        orcid_page_language=i18n.page_language,
        orcid_uri=orcid_uri_for,
        orcid_canonical=canonical_orcid_id,
    )
    env.filters["orcid_uri"] = orcid_uri_for
