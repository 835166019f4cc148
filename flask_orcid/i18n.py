"""Translations of flask-orcid's own strings (English source, Spanish catalog shipped).

The extension keeps its catalog in ``flask_orcid/translations`` as a separate Flask-Babel
:class:`~flask_babel.Domain`, so its strings never mix with the host application's catalog. The
language is the host's: whatever Flask-Babel's ``locale_selector`` picks for the request. A host
without Flask-Babel gets the English source strings.

In Python::

    from flask_orcid.i18n import gettext as _, lazy_gettext

In the extension's templates (``register_jinja`` installs the globals)::

    {{ orcid_gettext("Connect your ORCID iD") }}
    {{ orcid_ngettext("%(num)d item", "%(num)d items", n) }}

Re-extracting the catalog after adding strings (the commands are in ``babel.cfg``) keeps
``tests/test_i18n.py`` green.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations
from flask import current_app, has_request_context
from flask_babel import Domain, get_locale
from flask_babel.speaklater import LazyString

__all__ = [
    "LOCALES",
    "TRANSLATIONS_DIR",
    "gettext",
    "lazy_gettext",
    "lazy_ngettext",
    "ngettext",
    "page_language",
]

#: Where the compiled catalogs live (``<locale>/LC_MESSAGES/messages.mo``).
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

#: Languages the extension ships besides its English source strings.
LOCALES = ("es",)

_domain = Domain(translation_directories=[str(TRANSLATIONS_DIR)], domain="messages")
_NULL = NullTranslations()


def _translations() -> NullTranslations:
    # Flask-Babel needs a request (for the locale) and its own init_app on the host; without
    # either, the English source strings are the right answer rather than an exception.
    if not has_request_context() or "babel" not in current_app.extensions:
        return _NULL
    return _domain.get_translations()


def gettext(string: str, **variables: object) -> str:
    """Translate ``string`` into the request's language; ``%(name)s`` placeholders are filled
    from ``variables`` after translation (so translators can move them)."""
    text = _translations().ugettext(string)
    return text % variables if variables else text


def page_language() -> str:
    """The request's language as an HTML ``lang`` value (``es``, ``pt-BR``): every page of
    the extension declares the language its text is in, whichever blueprint serves it."""
    if not has_request_context() or "babel" not in current_app.extensions:
        return "en"
    locale = get_locale()
    return str(locale).replace("_", "-") if locale else "en"


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """Plural-aware :func:`gettext`; ``%(num)d`` is available in both forms."""
    variables.setdefault("num", num)
    text = _translations().ungettext(singular, plural, num)
    return text % variables


def lazy_gettext(string: str, **variables: object) -> LazyString:
    """A :func:`gettext` evaluated when the string is used (for module-level labels)."""
    return LazyString(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: object) -> LazyString:
    """A :func:`ngettext` evaluated when the string is used."""
    return LazyString(ngettext, singular, plural, num, **variables)
