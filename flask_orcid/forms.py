"""WTForms helpers for host forms: the iD validator (prefill lives in :mod:`.prefill`)."""

from __future__ import annotations

from wtforms.validators import ValidationError as FormValidationError

from .i18n import gettext
from .protocol.identifiers import ORCIDIdError, parse_orcid_id

__all__ = ["ORCIDIdValidator"]


class ORCIDIdValidator:
    """WTForms validator: the field holds an ORCID iD with a correct check digit.

    Empty fields pass (combine with ``Optional`` or ``DataRequired``). The error says what is
    wrong (a letter, the length, the check digit) so the person can fix it.

    Remember ORCID's rule: a researcher's *own* iD is collected through OAuth, never typed.
    Use this for iDs the site shows as unauthenticated (advisors, committee members).
    """

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: object, field: object) -> None:
        data = getattr(field, "data", None)
        if data is None or (isinstance(data, str) and not data.strip()):
            return
        try:
            parse_orcid_id(data)
        except ORCIDIdError as exc:
            raise FormValidationError(self.message or gettext(exc.template, **exc.params)) from exc
        except ValueError as exc:
            raise FormValidationError(self.message or str(exc)) from exc
