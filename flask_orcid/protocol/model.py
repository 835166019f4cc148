"""The ORCID v3.0 items a site writes (:class:`Work`, :class:`Affiliation`) and what it reads.

A site builds a :class:`Work` or an :class:`Affiliation`; the outbox stores ``to_dict()`` and
later rebuilds it with ``from_dict()``; the client sends ``to_xml()``. The fields live in
:mod:`.item_fields`, ORCID's server-side rules in :mod:`.validation`, the XML in
:mod:`.xml_writer` and :mod:`.xml_reader`. This module is the one place a caller imports the
item and record classes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from ..errors import ValidationError
from .item_fields import AffiliationFields, WorkFields
from .records import AffiliationSummary, Email, ErrorInfo, Person, Record, WorkSummary
from .validation import Problems, affiliation_problems, work_problems
from .values import Contributor, ExternalId, FuzzyDate, Organization
from .vocabulary import MAX_BULK
from .xml_writer import NS, affiliation_element, qname, serialize, work_element

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
    "raise_problems",
    "works_bulk_xml",
]


def raise_problems(found: Problems) -> None:
    """Raise :class:`~flask_orcid.ValidationError` for the first of ``found`` (if any)."""
    if found:
        name, message = found[0]
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        error = ValidationError(f"{message}{more}", field=name)
        # Every problem, for forms that show them all; ValidationError (flask_orcid.errors)
        # does not declare the attribute.
        error.problems = found
        raise error


class Work(WorkFields):
    """A research output on the record; a thesis is ``type="dissertation-thesis"``."""

    def problems(self) -> Problems:
        """Every ORCID rule this work breaks, as ``(field, message)``; empty when it is fine."""
        return work_problems(self)

    def validate(self) -> None:
        """Raise :class:`~flask_orcid.ValidationError` naming the first field ORCID would refuse."""
        raise_problems(self.problems())

    def to_xml(self, put_code: int | None = None) -> bytes:
        """ORCID v3.0 ``work:work`` XML; ``put_code`` goes on the root (only for PUT).

        Validates first. Visibility is never written: it belongs to the researcher.
        """
        self.validate()
        return serialize(work_element(self, put_code))


class Affiliation(AffiliationFields):
    """An education, employment, qualification, distinction, invited-position, membership or
    service on the record. For a degree: ``section="education"``, ``role_title`` = the degree."""

    def problems(self) -> Problems:
        """Every ORCID rule this affiliation breaks, as ``(field, message)``."""
        return affiliation_problems(self)

    def validate(self) -> None:
        """Raise :class:`~flask_orcid.ValidationError` naming the first field ORCID would refuse."""
        raise_problems(self.problems())

    def to_xml(self, put_code: int | None = None) -> bytes:
        """ORCID v3.0 XML for the section (``education:education``, …); validates first."""
        self.validate()
        return serialize(affiliation_element(self, put_code))


def item_from_dict(data: dict[str, Any]) -> Work | Affiliation:
    """Rebuild a :class:`Work` or :class:`Affiliation` from ``to_dict()`` output (by ``kind``)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "work":
        return Work.from_dict(data)
    if kind in Affiliation.SECTIONS:
        return Affiliation.from_dict(data)
    raise ValueError(f"item_from_dict: unknown kind {kind!r}.")


def works_bulk_xml(works: Iterable[Work]) -> bytes:
    """The ``bulk:bulk`` body for ``POST /works`` (at most :data:`~.vocabulary.MAX_BULK` works,
    each one validated)."""
    items = list(works)
    if not 1 <= len(items) <= MAX_BULK:
        raise ValueError(f"A bulk POST carries 1 to {MAX_BULK} works; got {len(items)}.")
    root = etree.Element(
        qname("bulk", "bulk"),
        nsmap={"bulk": NS["bulk"], "common": NS["common"], "work": NS["work"]},
    )
    for index, work in enumerate(items):
        try:
            work.validate()
        except ValidationError as exc:
            raise ValidationError(f"works[{index}].{exc}", field=f"works[{index}].{exc.field}") from exc
        root.append(work_element(work))
    return serialize(root)
