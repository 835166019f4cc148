"""ORCID record -> the deposit form's defaults.

The extension's ``prefill_data`` gives the generic mapping (names, email, current affiliation);
this adds the thesis form's own fields (program start from the current education).
"""

from __future__ import annotations

from typing import Any


def current_education(record: Any) -> Any | None:
    """The education still in progress (no end date), else the most recently ended one."""
    educations = list(getattr(record, "educations", None) or [])
    if not educations:
        return None

    def sort_key(item: Any) -> tuple:
        end = item.end_date
        start = item.start_date
        return (
            end is None,
            (end.year, end.month or 0, end.day or 0) if end else (0, 0, 0),
            (start.year, start.month or 0, start.day or 0) if start else (0, 0, 0),
        )

    return max(educations, key=sort_key)


def primary_email(record: Any) -> str | None:
    emails = list(getattr(record, "emails", None) or [])
    for email in emails:
        if email.primary and email.verified:
            return email.email
    for email in emails:
        if email.verified:
            return email.email
    return emails[0].email if emails else None


def thesis_prefill(record: Any | None) -> dict[str, Any]:
    """Defaults for :class:`~example_repository.forms.ThesisForm` from an ORCID ``Record``."""
    if record is None:
        return {}
    data: dict[str, Any] = {}
    if record.given_names:
        data["given_names"] = record.given_names
    if record.family_name:
        data["family_name"] = record.family_name
    email = primary_email(record)
    if email:
        data["email"] = email
    education = current_education(record)
    if education is not None:
        if education.department:
            data["department"] = education.department
        if education.organization and education.organization.name:
            data["institution"] = education.organization.name
        if education.start_date:
            start = education.start_date
            data["program_start"] = (
                f"{start.year}-{start.month:02d}" if start.month else str(start.year)
            )
    return data
