"""The ORCID v3.0 items flask-orcid writes (works, affiliations) and the records it reads.

Plain dataclasses: a site builds a :class:`Work` or an :class:`Affiliation`, the outbox stores
``to_dict()`` and later rebuilds it with ``from_dict()``, and the client sends ``to_xml()``.
ORCID's server-side rules live in :mod:`flask_orcid.validation`, the XML in
:mod:`flask_orcid.xml_writer` / :mod:`flask_orcid.xml_reader`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from .errors import ValidationError
from .identifiers import external_id_key
from .vocabulary import AFFILIATION_SECTIONS

__all__ = [
    "Affiliation",
    "AffiliationSummary",
    "Contributor",
    "Email",
    "ErrorInfo",
    "ExternalId",
    "FuzzyDate",
    "Organization",
    "Person",
    "Record",
    "Work",
    "WorkSummary",
    "item_from_dict",
]

_FUZZY = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class FuzzyDate:
    """ORCID's partial date: a year, optionally a month, optionally a day.

    ``str()`` gives ``2024``, ``2024-06`` or ``2024-06-01``. ORCID's range rules (years
    1900-2100, real calendar days) are checked by ``validate()``, not here, so that dates read
    from ORCID never fail to load.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        for name in ("year", "month", "day"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ValueError(f"FuzzyDate.{name} must be a whole number, not {value!r}.")
        if self.day is not None and self.month is None:
            raise ValueError("A FuzzyDate with a day needs a month too.")

    @classmethod
    def from_date(cls, value: _dt.date) -> FuzzyDate:
        """The full date of a :class:`datetime.date` (or datetime)."""
        return cls(value.year, value.month, value.day)

    @classmethod
    def parse(cls, text: str) -> FuzzyDate:
        """Parse ``2024``, ``2024-06`` or ``2024-06-30``; raises ValueError on anything else."""
        match = _FUZZY.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValueError(
                f"{text!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD, like 2024-06-30."
            )
        year, month, day = (int(part) if part else None for part in match.groups())
        date = cls(year, month, day)  # type: ignore[arg-type]
        problem = date.problem()
        if problem and "between 1900 and 2100" not in problem:
            raise ValueError(f"{text!r}: {problem}")
        return date

    def problem(self) -> str | None:
        """What ORCID would reject in this date (API-FACTS §5), or None."""
        if not 1900 <= self.year <= 2100:
            return f"the year must be between 1900 and 2100 (got {self.year})"
        if self.month is not None and not 1 <= self.month <= 12:
            return f"the month must be between 1 and 12 (got {self.month})"
        if self.day is not None:
            try:
                _dt.date(self.year, self.month or 1, self.day)
            except ValueError:
                return f"{self.year:04d}-{self.month:02d} has no day {self.day}"
        return None

    def sort_key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
            if self.day is not None:
                text += f"-{self.day:02d}"
        return text


def _date_from(value: Any, name: str) -> FuzzyDate | None:
    if value is None or isinstance(value, FuzzyDate):
        return value
    if isinstance(value, str):
        return FuzzyDate.parse(value)
    if isinstance(value, dict):
        return FuzzyDate(value["year"], value.get("month"), value.get("day"))
    raise ValueError(f"{name}: expected a date string like '2024-06', got {value!r}.")


def _str_date(value: FuzzyDate | None) -> str | None:
    return None if value is None else str(value)


def _check_keys(cls_name: str, data: dict, allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{cls_name}.from_dict needs a dict, got {type(data).__name__}.")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"{cls_name}.from_dict: unknown key(s) {', '.join(unknown)}.")


@dataclass
class ExternalId:
    """An identifier of the item: a DOI, a handle, … ``relationship`` is always sent.

    ``self`` ids identify the item itself and drive ORCID's duplicate check; a thesis has its
    handle and/or DOI as ``self``.
    """

    type: str
    value: str
    relationship: str = "self"
    url: str | None = None

    def key(self) -> tuple[str, str]:
        """``(type, normalized value)`` as ORCID compares ids (API-FACTS §5)."""
        return external_id_key(self.type, self.value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExternalId:
        _check_keys("ExternalId", data, {f.name for f in fields(cls)})
        return cls(**data)


@dataclass
class Contributor:
    """A person credited on a work.

    ``orcid`` is a bare iD; ORCID asks that it be set only for iDs collected through OAuth.
    ``role`` is a legacy role (``author``) or a CRediT URI
    (``http://credit.niso.org/contributor-roles/supervision/``).
    """

    credit_name: str | None = None
    orcid: str | None = None
    sequence: str | None = None
    role: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contributor:
        _check_keys("Contributor", data, {f.name for f in fields(cls)})
        return cls(**data)


@dataclass
class Organization:
    """An organization, identified for ORCID by ``disambiguated_id`` + ``disambiguation_source``.

    Prefer ROR, written as the full URI (``https://ror.org/052gg0110``), as ORCID stores it.
    """

    name: str
    city: str | None = None
    region: str | None = None
    country: str | None = None
    disambiguated_id: str | None = None
    disambiguation_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Organization:
        _check_keys("Organization", data, {f.name for f in fields(cls)})
        return cls(**data)


class _Item:
    """Shared behaviour of the two things a site writes: validation, XML, dict round-trip."""

    kind: str

    def problems(self) -> list[tuple[str, str]]:
        """Every ORCID rule this item breaks, as ``(field, message)``; empty when it is fine."""
        raise NotImplementedError

    def validate(self) -> None:
        """Raise :class:`~flask_orcid.ValidationError` naming the first field ORCID would refuse."""
        found = self.problems()
        if found:
            name, message = found[0]
            more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
            error = ValidationError(f"{message}{more}", field=name)
            error.problems = found  # type: ignore[attr-defined]
            raise error

    def self_ids(self) -> set[tuple[str, str]]:
        """``(type, normalized value)`` of every ``self`` external id (duplicate matching)."""
        return {x.key() for x in self.external_ids if x.relationship == "self"}  # type: ignore[attr-defined]


@dataclass
class Work(_Item):
    """A research output on the record; a thesis is ``type="dissertation-thesis"``."""

    title: str
    type: str = "dissertation-thesis"
    subtitle: str | None = None
    translated_title: str | None = None
    translated_title_language: str | None = None
    journal_title: str | None = None
    short_description: str | None = None
    citation_type: str | None = None
    citation_value: str | None = None
    publication_date: FuzzyDate | None = None
    external_ids: list[ExternalId] = field(default_factory=list)
    url: str | None = None
    contributors: list[Contributor] = field(default_factory=list)
    language_code: str | None = None
    country: str | None = None
    put_code: int | None = None
    visibility: str | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "work"

    def problems(self) -> list[tuple[str, str]]:
        from .validation import work_problems

        return work_problems(self)

    def to_xml(self, put_code: int | None = None) -> bytes:
        """ORCID v3.0 ``work:work`` XML; ``put_code`` goes on the root (only for PUT).

        Validates first. Visibility is never written: it belongs to the researcher.
        """
        self.validate()
        from .xml_writer import serialize, work_element

        return serialize(work_element(self, put_code))

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["publication_date"] = _str_date(self.publication_date)
        data["external_ids"] = [x.to_dict() for x in self.external_ids]
        data["contributors"] = [c.to_dict() for c in self.contributors]
        return {"kind": "work", **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Work:
        if isinstance(data, dict) and data.get("kind", "work") != "work":
            raise ValueError(f"Work.from_dict got an item of kind {data['kind']!r}.")
        _check_keys("Work", data, {f.name for f in fields(cls)} | {"kind"})
        values = dict(data)
        values.pop("kind", None)
        values["publication_date"] = _date_from(values.get("publication_date"), "publication_date")
        values["external_ids"] = [ExternalId.from_dict(x) for x in values.get("external_ids") or []]
        values["contributors"] = [Contributor.from_dict(c) for c in values.get("contributors") or []]
        return cls(**values)


@dataclass
class Affiliation(_Item):
    """An education, employment, qualification, distinction, invited-position, membership or
    service on the record. For a degree: ``section="education"``, ``role_title`` = the degree."""

    SECTIONS: ClassVar[tuple[str, ...]] = AFFILIATION_SECTIONS

    section: str
    #: Required for education and employment; the other sections may do with external ids.
    organization: Organization | None
    department: str | None = None
    role_title: str | None = None
    start_date: FuzzyDate | None = None
    end_date: FuzzyDate | None = None
    url: str | None = None
    external_ids: list[ExternalId] = field(default_factory=list)
    put_code: int | None = None
    visibility: str | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.section

    def problems(self) -> list[tuple[str, str]]:
        from .validation import affiliation_problems

        return affiliation_problems(self)

    def to_xml(self, put_code: int | None = None) -> bytes:
        """ORCID v3.0 XML for the section (``education:education``, …); validates first."""
        self.validate()
        from .xml_writer import affiliation_element, serialize

        return serialize(affiliation_element(self, put_code))

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["organization"] = self.organization.to_dict() if self.organization else None
        data["start_date"] = _str_date(self.start_date)
        data["end_date"] = _str_date(self.end_date)
        data["external_ids"] = [x.to_dict() for x in self.external_ids]
        return {"kind": self.section, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Affiliation:
        _check_keys("Affiliation", data, {f.name for f in fields(cls)} | {"kind"})
        values = dict(data)
        kind = values.pop("kind", values.get("section"))
        if kind != values.get("section"):
            raise ValueError(f"Affiliation.from_dict: kind {kind!r} != section {data.get('section')!r}.")
        org = values.get("organization")
        values["organization"] = Organization.from_dict(org) if org is not None else None
        values["start_date"] = _date_from(values.get("start_date"), "start_date")
        values["end_date"] = _date_from(values.get("end_date"), "end_date")
        values["external_ids"] = [ExternalId.from_dict(x) for x in values.get("external_ids") or []]
        return cls(**values)


def item_from_dict(data: dict[str, Any]) -> Work | Affiliation:
    """Rebuild a :class:`Work` or :class:`Affiliation` from ``to_dict()`` output (by ``kind``)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "work":
        return Work.from_dict(data)
    if kind in Affiliation.SECTIONS:
        return Affiliation.from_dict(data)
    raise ValueError(f"item_from_dict: unknown kind {kind!r}.")


# --- what the readers return --------------------------------------------------------------------


@dataclass
class Email:
    email: str
    primary: bool = False
    verified: bool = False
    visibility: str | None = None


@dataclass
class Person:
    """The ``/person`` section: names and the emails this token may see."""

    orcid: str | None = None
    given_names: str | None = None
    family_name: str | None = None
    credit_name: str | None = None
    other_names: list[str] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)


@dataclass
class WorkSummary:
    """One work as ``GET /works`` lists it (one per group member)."""

    put_code: int | None
    title: str | None
    type: str | None
    publication_date: FuzzyDate | None = None
    external_ids: list[ExternalId] = field(default_factory=list)
    source_client_id: str | None = None
    source_name: str | None = None
    visibility: str | None = None
    url: str | None = None

    def self_ids(self) -> set[tuple[str, str]]:
        return {x.key() for x in self.external_ids if x.relationship == "self"}


@dataclass
class AffiliationSummary:
    """One affiliation as ``GET /educations`` (or another section) lists it."""

    put_code: int | None
    section: str
    organization: Organization | None
    department: str | None = None
    role_title: str | None = None
    start_date: FuzzyDate | None = None
    end_date: FuzzyDate | None = None
    source_client_id: str | None = None
    source_name: str | None = None
    visibility: str | None = None


@dataclass
class Record:
    """The parts of a whole record flask-orcid uses (prefill, reconciliation, display)."""

    orcid: str | None = None
    given_names: str | None = None
    family_name: str | None = None
    credit_name: str | None = None
    other_names: list[str] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    educations: list[AffiliationSummary] = field(default_factory=list)
    employments: list[AffiliationSummary] = field(default_factory=list)
    works: list[WorkSummary] = field(default_factory=list)
    #: qualifications, distinctions, invited positions, memberships and services
    other_affiliations: list[AffiliationSummary] = field(default_factory=list)

    @classmethod
    def from_person(
        cls,
        person: Person,
        educations: list[AffiliationSummary] | None = None,
        employments: list[AffiliationSummary] | None = None,
        works: list[WorkSummary] | None = None,
    ) -> Record:
        return cls(
            orcid=person.orcid,
            given_names=person.given_names,
            family_name=person.family_name,
            credit_name=person.credit_name,
            other_names=list(person.other_names),
            emails=list(person.emails),
            educations=list(educations or []),
            employments=list(employments or []),
            works=list(works or []),
        )


_PUT_CODE_IN_MESSAGE = re.compile(r"put-code\s*:?\s*(\d+)", re.IGNORECASE)
_ORCID_IN_MESSAGE = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")


@dataclass
class ErrorInfo:
    """An ORCID error body (XML ``error:error``, its JSON twin, or OAuth ``{"error", …}``)."""

    status: int | None = None
    error_code: int | None = None
    developer_message: str | None = None
    user_message: str | None = None
    more_info: str | None = None
    #: the OAuth ``error`` value (``invalid_token``, ``forbidden``) for 401/403 JSON bodies
    error: str | None = None

    @property
    def existing_put_code(self) -> int | None:
        """For 409 / 9021: the put-code of the item we already added, when ORCID names it."""
        for text in (self.developer_message, self.user_message):
            match = _PUT_CODE_IN_MESSAGE.search(text or "")
            if match:
                return int(match.group(1))
        return None

    @property
    def primary_orcid(self) -> str | None:
        """For 301 / 9007: the iD the deprecated record was merged into, when ORCID names it."""
        match = _ORCID_IN_MESSAGE.findall(self.developer_message or "")
        return match[-1] if match else None


# The readers return these classes; re-exported here so ``flask_orcid.model`` is the one place.
from .xml_reader import (  # noqa: E402
    parse_affiliation,
    parse_affiliations,
    parse_bulk_response,
    parse_error,
    parse_person,
    parse_record,
    parse_work,
    parse_works,
    parse_works_bulk_read,
)

__all__ += [
    "parse_affiliation",
    "parse_affiliations",
    "parse_bulk_response",
    "parse_error",
    "parse_person",
    "parse_record",
    "parse_work",
    "parse_works",
    "parse_works_bulk_read",
]
