"""ORCID record -> the deposit form's defaults, through flask-orcid's ``prefill_data``.

The extension's default mapping covers names, email and the current affiliation; this form adds
one field of its own (the program's start, from the current education), as a callable.
"""

from __future__ import annotations

from typing import Any

from flask_orcid import Record, prefill_data
from flask_orcid.prefill import current_affiliation


def program_start(record: Record) -> str | None:
    """``2021`` or ``2021-09``: when the current education began (ORCID fuzzy date)."""
    current = current_affiliation(record)
    if current is None or current.section != "education" or current.start_date is None:
        return None
    start = current.start_date
    return f"{start.year}-{start.month:02d}" if start.month else str(start.year)


#: ThesisForm field -> flask-orcid prefill key (or callable).
THESIS_FORM_MAPPING: dict[str, Any] = {
    "given_names": "given_names",
    "family_name": "family_name",
    "email": "email",
    "department": "department",
    "institution": "institution",
    "program_start": program_start,
}


def thesis_prefill(record: Record | None) -> dict[str, Any]:
    """Defaults for :class:`~example_repository.forms.ThesisForm` from an ORCID ``Record``."""
    if record is None:
        return {}
    return prefill_data(record, THESIS_FORM_MAPPING)
