"""The fields of the two kinds of item a site writes, with their dict round-trip.

:class:`WorkFields` and :class:`AffiliationFields` are what validation and the XML writer read;
:mod:`.model` adds the behaviour a site calls (``validate()``, ``to_xml()``) on top, so those
modules depend on the fields and the model depends on them, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self

from .values import (
    Contributor,
    ExternalId,
    FuzzyDate,
    Organization,
    _check_keys,
    _date_from,
    _field_values,
    _str_date,
)
from .vocabulary import AFFILIATION_SECTIONS

__all__ = ["AffiliationFields", "WorkFields"]


class _ItemFields:
    """What both kinds share: a ``kind`` and their ``self`` identifiers."""

    kind: str
    external_ids: list[ExternalId]

    def self_ids(self) -> set[tuple[str, str]]:
        """``(type, normalized value)`` of every ``self`` external id (duplicate matching)."""
        return {x.key() for x in self.external_ids if x.relationship == "self"}


@dataclass
class WorkFields(_ItemFields):
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

    def to_dict(self) -> dict[str, Any]:
        data = _field_values(self)
        data["publication_date"] = _str_date(self.publication_date)
        data["external_ids"] = [x.to_dict() for x in self.external_ids]
        data["contributors"] = [c.to_dict() for c in self.contributors]
        return {"kind": "work", **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
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
class AffiliationFields(_ItemFields):
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

    def to_dict(self) -> dict[str, Any]:
        data = _field_values(self)
        data["organization"] = self.organization.to_dict() if self.organization else None
        data["start_date"] = _str_date(self.start_date)
        data["end_date"] = _str_date(self.end_date)
        data["external_ids"] = [x.to_dict() for x in self.external_ids]
        return {"kind": self.section, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
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
