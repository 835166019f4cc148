"""The rights step: the licences a student may choose, and the distribution agreement.

``REPOSITORY_LICENSES`` (comma-separated codes of :data:`LICENSES`) says which ones the graduate
school offers, in that order. Each licence has a URL: Creative Commons' deed, or for "all
rights reserved" RightsStatements.org's "In Copyright", so that the landing page, the JSON-LD
``license``, the ``DC.rights`` meta tag and the signposting ``rel="license"`` link always name one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class License:
    code: str
    label: object  # a lazy string
    url: str


LICENSES = {
    lic.code: lic for lic in (
        License("cc-by-4.0", _l("Creative Commons Attribution 4.0 (CC BY 4.0)"),
                "https://creativecommons.org/licenses/by/4.0/"),
        License("cc-by-sa-4.0", _l("Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA 4.0)"),
                "https://creativecommons.org/licenses/by-sa/4.0/"),
        License("cc-by-nc-4.0", _l("Creative Commons Attribution-NonCommercial 4.0 (CC BY-NC 4.0)"),
                "https://creativecommons.org/licenses/by-nc/4.0/"),
        License("cc-by-nc-sa-4.0",
                _l("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 (CC BY-NC-SA 4.0)"),
                "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
        License("cc-by-nd-4.0", _l("Creative Commons Attribution-NoDerivatives 4.0 (CC BY-ND 4.0)"),
                "https://creativecommons.org/licenses/by-nd/4.0/"),
        License("cc-by-nc-nd-4.0",
                _l("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 (CC BY-NC-ND 4.0)"),
                "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
        License("cc0-1.0", _l("No rights reserved (CC0 1.0)"),
                "https://creativecommons.org/publicdomain/zero/1.0/"),
        License("all-rights-reserved", _l("All rights reserved"),
                "http://rightsstatements.org/vocab/InC/1.0/"),
    )
}


def offered() -> list[License]:
    """The licences this school offers (``REPOSITORY_LICENSES``), unknown codes left out."""
    codes = str(current_app.config["REPOSITORY_LICENSES"]).replace(" ", "").split(",")
    return [LICENSES[c] for c in codes if c in LICENSES]


def license_of(code: str | None) -> License | None:
    return LICENSES.get(code or "")
