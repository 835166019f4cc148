"""ORCID v3.0 XML for the items flask-orcid writes, built with lxml.

Element order follows ``work-3.0.xsd`` and the ``affiliation`` type of ``common-3.0.xsd``
(API-FACTS §5, §6); the test suite validates every output against the official schemas.
Callers go through ``Work.to_xml()`` / ``Affiliation.to_xml()``, which validate first.
"""

from __future__ import annotations

from lxml import etree

from .item_fields import AffiliationFields, WorkFields
from .values import ExternalId, FuzzyDate, Organization

__all__ = ["NS", "affiliation_element", "qname", "serialize", "work_element"]

_BASE = "http://www.orcid.org/ns/"
#: Namespace URI per prefix, as ORCID's schemas and samples use them.
NS: dict[str, str] = {
    prefix: _BASE + prefix
    for prefix in (
        "common",
        "work",
        "bulk",
        "error",
        "activities",
        "record",
        "person",
        "personal-details",
        "other-name",
        "email",
        "education",
        "employment",
        "qualification",
        "distinction",
        "invited-position",
        "membership",
        "service",
    )
}


def qname(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent: etree._Element, prefix: str, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, qname(prefix, name))
    if text is not None:
        child.text = text
    return child


def _opt(parent: etree._Element, prefix: str, name: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, prefix, name, text)


def _date(parent: etree._Element, name: str, value: FuzzyDate | None) -> None:
    if value is None:
        return
    element = _sub(parent, "common", name)
    _sub(element, "common", "year", f"{value.year:04d}")
    # ORCID wants exactly two digits for month and day ("06", not "6"): API-FACTS §5.
    if value.month is not None:
        _sub(element, "common", "month", f"{value.month:02d}")
        if value.day is not None:
            _sub(element, "common", "day", f"{value.day:02d}")


def _external_ids(parent: etree._Element, items: list[ExternalId]) -> None:
    container = _sub(parent, "common", "external-ids")
    for item in items:
        element = _sub(container, "common", "external-id")
        _sub(element, "common", "external-id-type", item.type)
        _sub(element, "common", "external-id-value", item.value)
        _opt(element, "common", "external-id-url", item.url)
        # The XSD calls relationship optional; ORCID requires it on a work's ids (validate()
        # says so) but not on an affiliation's, and an empty element is an invalid enum (9051).
        _opt(element, "common", "external-id-relationship", item.relationship)


def _organization(parent: etree._Element, org: Organization) -> None:
    element = _sub(parent, "common", "organization")
    _sub(element, "common", "name", org.name)
    address = _sub(element, "common", "address")  # required by the XSD, even when empty
    _opt(address, "common", "city", org.city)
    _opt(address, "common", "region", org.region)
    _opt(address, "common", "country", org.country)
    if org.disambiguated_id is not None and org.disambiguation_source is not None:
        dis = _sub(element, "common", "disambiguated-organization")
        _sub(dis, "common", "disambiguated-organization-identifier", org.disambiguated_id)
        _sub(dis, "common", "disambiguation-source", org.disambiguation_source)


def _root(prefix: str, name: str, put_code: int | None) -> etree._Element:
    root = etree.Element(qname(prefix, name), nsmap={"common": NS["common"], prefix: NS[prefix]})
    # put-code only for PUT: in a POST body ORCID answers 400 / 9024 (API-FACTS §5).
    # visibility is never written: ORCID applies the researcher's default, and a PUT with a
    # different value is 403 / 9035.
    if put_code is not None:
        root.set("put-code", str(int(put_code)))
    return root


def work_element(work: WorkFields, put_code: int | None = None) -> etree._Element:
    """The ``work:work`` element for ``work`` (not validated here: use ``Work.to_xml``)."""
    root = _root("work", "work", put_code)
    title = _sub(root, "work", "title")
    _sub(title, "common", "title", work.title)
    _opt(title, "common", "subtitle", work.subtitle)
    if work.translated_title is not None:
        translated = _sub(title, "common", "translated-title", work.translated_title)
        translated.set("language-code", work.translated_title_language or "")
    _opt(root, "work", "journal-title", work.journal_title)
    _opt(root, "work", "short-description", work.short_description)
    if work.citation_type is not None and work.citation_value is not None:
        citation = _sub(root, "work", "citation")
        _sub(citation, "work", "citation-type", work.citation_type)
        _sub(citation, "work", "citation-value", work.citation_value)
    _sub(root, "work", "type", work.type)
    _date(root, "publication-date", work.publication_date)
    _external_ids(root, work.external_ids)
    _opt(root, "common", "url", work.url)
    if work.contributors:
        container = _sub(root, "work", "contributors")
        for person in work.contributors:
            element = _sub(container, "work", "contributor")
            if person.orcid is not None:
                # Only the path: it is valid in every environment, whereas a URI would name
                # orcid.org even on the sandbox. ORCID fills in uri/host when it stores the
                # contributor (UNCONFIRMED for v3.0; the XSD allows path alone).
                orcid = _sub(element, "common", "contributor-orcid")
                _sub(orcid, "common", "path", person.orcid)
            _opt(element, "work", "credit-name", person.credit_name)
            if person.sequence is not None or person.role is not None:
                attributes = _sub(element, "work", "contributor-attributes")
                _opt(attributes, "work", "contributor-sequence", person.sequence)
                _opt(attributes, "work", "contributor-role", person.role)
    _opt(root, "common", "language-code", work.language_code)
    _opt(root, "common", "country", work.country)
    return root


def affiliation_element(item: AffiliationFields, put_code: int | None = None) -> etree._Element:
    """The ``{section}:{section}`` element (``education:education``, …) for ``item``."""
    root = _root(item.section, item.section, put_code)
    _opt(root, "common", "department-name", item.department)
    _opt(root, "common", "role-title", item.role_title)
    _date(root, "start-date", item.start_date)
    _date(root, "end-date", item.end_date)
    if item.organization is not None:
        _organization(root, item.organization)
    _opt(root, "common", "url", item.url)
    if item.external_ids:
        _external_ids(root, item.external_ids)
    return root


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")
