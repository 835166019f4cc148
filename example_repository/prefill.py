"""ORCID record -> the deposit form's defaults, through flask-orcid's ``prefill_data``.

Names and the verified email come from the record's person section. The department and the
program's start come only from an affiliation at this graduate school's own institution
(matched by ROR, else by name and country, see ``flask_orcid.prefill``): a degree finished
elsewhere or a job at another university must not end up in this school's degree on the
student's ORCID record. Without such an affiliation those fields stay empty.

:func:`thesis_prefill` also says where each value came from; the form shows it under the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from flask_orcid import HostInstitution, Record, prefill_data
from flask_orcid.prefill import host_affiliation

from .orcid_setup import orcid


def host_institution() -> HostInstitution:
    """This repository's degree-granting institution, from ``REPOSITORY_INSTITUTION_*``."""
    cfg = current_app.config
    return HostInstitution(
        name=cfg["REPOSITORY_INSTITUTION_NAME"],
        country=cfg.get("REPOSITORY_INSTITUTION_COUNTRY") or None,
        ror=cfg.get("REPOSITORY_INSTITUTION_ROR") or None,
        # its email domains (ORCID_INSTITUTION_DOMAINS): a verified address there on the
        # student's record vouches for an affiliation named like the institution
        domains=orcid.institution_domains(),
    )


def _fuzzy(date: Any) -> str | None:
    if date is None or not date.year:
        return None
    return f"{date.year}-{date.month:02d}" if date.month else str(date.year)


def program_start_at(institution: HostInstitution):  # noqa: ANN201 - a prefill callable
    """A prefill callable: ``2021`` or ``2021-09``, when the education at ``institution`` began."""

    def program_start(record: Record) -> str | None:
        education = host_affiliation(record, institution)
        if education is None or education.section != "education":
            return None
        return _fuzzy(education.start_date)

    return program_start


def form_mapping(institution: HostInstitution) -> dict[str, Any]:
    """ThesisForm field -> flask-orcid prefill key (or callable)."""
    return {
        "given_names": "given_names",
        "family_name": "family_name",
        "email": "email",
        "department": "department",
        "program_start": program_start_at(institution),
    }


@dataclass
class Prefill:
    """The form's defaults from ORCID and, per field, where the value came from."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


def _affiliation_source(record: Record, institution: HostInstitution) -> str | None:
    affiliation = host_affiliation(record, institution)
    if affiliation is None:
        return None
    org = affiliation.organization.name if affiliation.organization else institution.name
    start = _fuzzy(affiliation.start_date)
    if affiliation.section == "education":
        if start:
            return _("From your ORCID record: your education at %(org)s, since %(start)s.",
                     org=org, start=start)
        return _("From your ORCID record: your education at %(org)s.", org=org)
    return _("From your ORCID record: your employment at %(org)s.", org=org)


def thesis_prefill(record: Record | None) -> Prefill:
    """Defaults for :class:`~example_repository.forms.ThesisForm` from an ORCID ``Record``."""
    if record is None:
        return Prefill()
    institution = host_institution()
    data = prefill_data(record, form_mapping(institution), institution=institution)
    affiliation = _affiliation_source(record, institution)
    labels = {
        "given_names": _("From your ORCID record (your name)."),
        "family_name": _("From your ORCID record (your name)."),
        "email": _("From your ORCID record (a verified email)."),
        "department": affiliation,
        "program_start": affiliation,
    }
    return Prefill(data, {name: labels[name] or "" for name in data if labels.get(name)})
