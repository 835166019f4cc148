"""Collect: fill the host's forms from the researcher's ORCID record (API-FACTS §11, §12 step 4).

Three steps, each usable alone:

- :func:`~flask_orcid.sync.record_reader.read_for_prefill` reads what a form needs (``/person``
  plus the education and employment sections; never ``/record``).
- :func:`prefill_data` turns the :class:`~flask_orcid.Record` into a flat dict for a form. With
  ``institution=`` (a :class:`HostInstitution`), the institution-specific keys (institution,
  department, ROR, role title) come only from an affiliation at the host's own institution,
  matched by ROR first, then by normalized name and country; otherwise they stay empty.
  :func:`prefill_sources` says where each value came from, for the form to show.
- :func:`prefill_form` puts that dict into a WTForms form without ever overriding what the user
  typed or submitted.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wtforms.fields import FieldList, FormField

from .protocol.records import AffiliationSummary, Email, Record
from .sync.record_reader import PublicTokenCache, read_for_prefill

__all__ = [
    "AFFILIATION_KEYS",
    "DEFAULT_PREFILL_KEYS",
    "HostInstitution",
    "PrefillSource",
    "PublicTokenCache",
    "current_affiliation",
    "host_affiliation",
    "matches_institution",
    "normalize_org_name",
    "prefill_sources",
    "prefill_data",
    "prefill_form",
    "prefill_email",
    "read_for_prefill",
    "verified_at_institution",
]

log = logging.getLogger(__name__)

#: Keys :func:`prefill_data` produces when no mapping is given.
DEFAULT_PREFILL_KEYS = (
    "given_names",
    "family_name",
    "credit_name",
    "email",
    "orcid",
    "institution",
    "department",
    "institution_ror",
    "role_title",
)

#: The keys that describe the researcher's place at an institution: filled only from an
#: affiliation at the host's institution when :func:`prefill_data` is given one.
AFFILIATION_KEYS = ("institution", "department", "institution_ror", "role_title")

Mapping_ = Mapping[str, "str | Callable[[Any], Any]"]


@dataclass(frozen=True)
class HostInstitution:
    """The host's own institution, to recognise its affiliations on a record.

    ``ror`` is a ROR id in any usual form (``https://ror.org/05gq02987`` or ``05gq02987``);
    ``country`` is the ISO 3166-1 alpha-2 code ORCID uses (``US``).
    """

    name: str
    country: str | None = None
    ror: str | None = None
    #: the institution's email domains (``example.edu``): a researcher whose record shows one
    #: of them as an ORCID-verified email domain (a trust marker of the member /summary)
    #: belongs here, so an affiliation named like the institution counts even without a ROR
    #: id or a country to confirm it
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrefillSource:
    """Where a prefilled value came from: ``kind`` is ``"person"`` (names), ``"email"`` or the
    affiliation section (``"education"``, ``"employment"``); ``affiliation`` is set for those."""

    kind: str
    affiliation: AffiliationSummary | None = None


# --------------------------------------------------------------------------- mapping


def prefill_email(emails: list[Email] | None) -> str | None:
    """The address to prefill: the primary one if verified, else the first verified one.

    Unverified addresses are never used (a decision; the issue left it open): one may be a typo
    or somebody else's address, and a form that sends mail to it would leak to a stranger. The
    researcher types an address instead.
    """
    verified = [e for e in emails or [] if getattr(e, "verified", False) and e.email]
    for email in verified:
        if email.primary:
            return email.email
    return verified[0].email if verified else None


def _date_key(date: Any) -> tuple[int, int, int]:
    if date is None:
        return (0, 0, 0)
    return (date.year or 0, getattr(date, "month", None) or 0, getattr(date, "day", None) or 0)


def _is_ongoing(summary: AffiliationSummary, today: _dt.date) -> bool:
    # No end date, or one still in the future (an expected graduation date).
    return summary.end_date is None or _date_key(summary.end_date) >= (
        today.year,
        today.month,
        today.day,
    )


def _pick_current(
    affiliations: list[AffiliationSummary], today: _dt.date
) -> AffiliationSummary | None:
    if not affiliations:
        return None
    ongoing = [a for a in affiliations if _is_ongoing(a, today)]
    if ongoing:
        return max(ongoing, key=lambda a: _date_key(a.start_date))
    return max(affiliations, key=lambda a: (_date_key(a.end_date), _date_key(a.start_date)))


def current_affiliation(record: Record, today: _dt.date | None = None) -> AffiliationSummary | None:
    """The researcher's current education (ongoing, latest start; else the latest ended),
    falling back to the current employment the same way when there is no education at all."""
    today = today or _dt.date.today()
    return _pick_current(list(record.educations or []), today) or _pick_current(
        list(record.employments or []), today
    )


def _ror_id(value: str | None) -> str | None:
    """The bare ROR id (``05gq02987``) of any usual spelling, lower-cased."""
    if not value:
        return None
    bare = value.strip().lower().rstrip("/").rsplit("/", 1)[-1]
    return bare or None


def normalize_org_name(name: str | None) -> str:
    """An organization's name for comparison: no accents, case, punctuation, leading "the"
    or repeated spaces (``"The Brown  University."`` and ``"brown university"`` are equal)."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w\s]", " ", text.replace("&", " and "))
    words = text.split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def matches_institution(organization: Any, institution: HostInstitution) -> bool:
    """Is ``organization`` the host's institution? By ROR when both have one; else by
    normalized name and country (a missing country on either side never matches)."""
    if organization is None:
        return False
    theirs = _ror_id(_ror(organization))
    ours = _ror_id(institution.ror)
    if theirs and ours:
        return theirs == ours
    if not institution.country or not getattr(organization, "country", None):
        return False
    return (
        normalize_org_name(organization.name) == normalize_org_name(institution.name)
        and organization.country.strip().upper() == institution.country.strip().upper()
    )


def verified_at_institution(record: Record, institution: HostInstitution) -> bool:
    """Does the record show an ORCID-verified email domain of ``institution`` (the domain
    itself or a subdomain: ``chem.example.edu`` belongs to ``example.edu``)?"""
    ours = [d.strip().lower().lstrip("@") for d in institution.domains if d.strip()]
    for domain in getattr(record, "verified_email_domains", None) or []:
        domain = domain.strip().lower()
        if any(domain == d or domain.endswith("." + d) for d in ours):
            return True
    return False


def _at_institution(organization: Any, institution: HostInstitution, vouched: bool) -> bool:
    if matches_institution(organization, institution):
        return True
    # A verified institutional email vouches for a name-only match (no ROR to compare, no
    # country on one side); a different ROR id still rules the organization out.
    if not vouched or organization is None:
        return False
    theirs, ours = _ror_id(_ror(organization)), _ror_id(institution.ror)
    if theirs and ours:
        return False
    return normalize_org_name(organization.name) == normalize_org_name(institution.name)


def host_affiliation(
    record: Record, institution: HostInstitution, today: _dt.date | None = None
) -> AffiliationSummary | None:
    """The researcher's affiliation at the host's institution: the current (or latest)
    education there, else the current (or latest) employment there, else ``None``.

    When the record's trust markers show a verified email domain of the institution
    (:attr:`HostInstitution.domains`), an affiliation named like the institution counts even
    where its ROR id or country cannot confirm it (:func:`verified_at_institution`)."""
    today = today or _dt.date.today()
    vouched = verified_at_institution(record, institution)
    for section in (record.educations, record.employments):
        ours = [a for a in section or []
                if _at_institution(a.organization, institution, vouched)]
        picked = _pick_current(ours, today)
        if picked is not None:
            return picked
    return None


def _affiliation(record: Record, institution: HostInstitution | None) -> AffiliationSummary | None:
    if institution is None:
        return current_affiliation(record)
    return host_affiliation(record, institution)


def _ror(organization: Any) -> str | None:
    if organization is None or not organization.disambiguated_id:
        return None
    if (organization.disambiguation_source or "").upper() != "ROR":
        return None
    return organization.disambiguated_id


def _defaults(record: Record, institution: HostInstitution | None = None) -> dict[str, Any]:
    current = _affiliation(record, institution)
    organization = current.organization if current else None
    return {
        "given_names": record.given_names,
        "family_name": record.family_name,
        "credit_name": record.credit_name,
        "email": prefill_email(record.emails),
        # Authenticated: the record was read through the researcher's OAuth connection.
        "orcid": record.orcid,
        "institution": organization.name if organization else None,
        "department": current.department if current else None,
        "institution_ror": _ror(organization),
        "role_title": current.role_title if current else None,
    }


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def prefill_data(
    record: Record,
    mapping: Mapping_ | None = None,
    *,
    institution: HostInstitution | None = None,
) -> dict[str, Any]:
    """Form data from ``record``: only keys with a value (empty ones are left out).

    Pass ``institution`` (the host's own) so that the keys in :data:`AFFILIATION_KEYS` come
    only from an affiliation there; a researcher's faculty or start date at another university
    must not land in your form, nor, through it, in their ORCID record. Without it they come
    from the researcher's current affiliation, wherever it is (for hosts that are not an
    institution).

    Without ``mapping`` the keys are :data:`DEFAULT_PREFILL_KEYS`. With one, the keys are the
    form's field names and each value names a default key or is a ``callable(record)``::

        prefill_data(record, {"first_name": "given_names", "surname": "family_name",
                              "other": lambda r: ", ".join(r.other_names)})
    """
    defaults = _defaults(record, institution)
    if mapping is None:
        return {k: v for k, v in defaults.items() if _present(v)}
    data: dict[str, Any] = {}
    for field_name, source in mapping.items():
        if callable(source):
            value = source(record)
        elif source in defaults:
            value = defaults[source]
        else:
            raise KeyError(
                f"Prefill mapping for {field_name!r} names {source!r}, which is not one of "
                f"{', '.join(DEFAULT_PREFILL_KEYS)}; use one of those or a callable(record)."
            )
        if _present(value):
            data[field_name] = value
    return data


def prefill_sources(
    record: Record, institution: HostInstitution | None = None
) -> dict[str, PrefillSource]:
    """For each default key that :func:`prefill_data` fills, where its value came from."""
    data = prefill_data(record, institution=institution)
    affiliation = _affiliation(record, institution)
    sources: dict[str, PrefillSource] = {}
    for key in data:
        if key in AFFILIATION_KEYS and affiliation is not None:
            sources[key] = PrefillSource(affiliation.section, affiliation)
        elif key == "email":
            sources[key] = PrefillSource("email")
        else:
            sources[key] = PrefillSource("person")
    return sources


# --------------------------------------------------------------------------- WTForms


def _was_submitted(form: Any) -> bool:
    is_submitted = getattr(form, "is_submitted", None)
    if callable(is_submitted) and is_submitted():
        return True
    # A plain wtforms.Form bound to request data: a field present in the submitted data has a
    # non-empty raw_data (an empty string typed on purpose gives [""]).
    return any(getattr(field, "raw_data", None) for field in form)


def _is_empty(field: Any) -> bool:
    return not _present(field.data)


def prefill_form(
    form: Any,
    data_or_record: Mapping[str, Any] | Record,
    mapping: Mapping_ | None = None,
    *,
    submitted: bool | None = None,
) -> list[str]:
    """Fill the empty fields of a WTForms ``form`` from ORCID; return the names filled.

    The user's data always wins: when the form was submitted (Flask-WTF's ``is_submitted()``,
    or any field present in the bound form data) nothing is touched, not even a field the user
    emptied on purpose. On a fresh form only empty fields are filled, so values from ``obj=``
    or ``data=`` (a saved draft) stay. Pass ``submitted`` to decide yourself.

    ``data_or_record`` is a :class:`~flask_orcid.Record` (turned into data with ``mapping``) or
    a dict from :func:`prefill_data`; with a dict, ``mapping`` values name its keys or are
    callables receiving the dict.
    """
    if submitted is None:
        submitted = _was_submitted(form)
    if submitted:
        return []
    if isinstance(data_or_record, Mapping):
        data: Mapping[str, Any] = data_or_record
        if mapping is not None:
            data = {
                name: (src(data_or_record) if callable(src) else data_or_record.get(src))
                for name, src in mapping.items()
            }
    else:
        data = prefill_data(data_or_record, mapping)
    filled = []
    for name, value in data.items():
        field = form[name] if name in form else None
        # Only simple fields: not sub-forms or lists, and never the CSRF token.
        if field is None or name == "csrf_token" or isinstance(field, (FieldList, FormField)):
            continue
        if not _present(value) or not _is_empty(field):
            continue
        field.data = value
        filled.append(name)
    return filled
