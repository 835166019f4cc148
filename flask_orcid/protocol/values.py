"""ORCID's value types shared by the items flask-orcid writes and the records it reads.

Partial dates, external identifiers, contributors and organizations: plain dataclasses with a
dict round-trip, no validation against ORCID's rules (that is :mod:`.validation`).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, fields
from typing import Any

from .identifiers import external_id_key

__all__ = ["Contributor", "ExternalId", "FuzzyDate", "Organization"]

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


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _field_values(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, shallow: what ``asdict`` gives for fields that hold
    text, numbers or None, without its deep copy (publishing converts an item on every deposit)."""
    return {name: getattr(obj, name) for name in _field_names(type(obj))}


def _str_date(value: FuzzyDate | None) -> str | None:
    return None if value is None else str(value)


def _check_keys(cls_name: str, data: object, allowed: set[str]) -> None:
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
        return _field_values(self)

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
        return _field_values(self)

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
        return _field_values(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Organization:
        _check_keys("Organization", data, {f.name for f in fields(cls)})
        return cls(**data)
