"""The metadata formats of the OAI-PMH endpoint: ``oai_dc``, ``oai_etdms`` (ETD-MS 1.0) and
``datacite`` (DataCite 4.7, the same document as ``/theses/<id>/datacite.xml``).

Simple Dublin Core and ETD-MS 1.0 give a person's name as plain text, with no attribute for
an identifier; each person is written by :func:`people.labelled`: an authenticated iD as its
URI after the name, a typed one as the bare iD marked ``not authenticated`` (docs/exports.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from lxml import etree

from . import datacite, people
from .forms import DEGREE_LABELS
from .licenses import license_of
from .metadata import DOCTORAL, full_title, pdf_available, thesis_kind
from .models import Thesis
from .xmltext import clean

XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
ETDMS = "http://www.ndltd.org/standards/metadata/etdms/1.0/"
#: ETD-MS 1.0 ``contributor/@role`` values for the sample's roles
ETDMS_ROLES = {"advisor": "advisor", "committee_member": "committee member"}


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    write: Callable[[Thesis], etree._Element]


def _add(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, tag, {k: clean(v) or "" for k, v in attrs.items()})
    child.text = clean(text)
    return child


def _identifiers(thesis: Thesis) -> list[str]:
    out = [f"https://doi.org/{thesis.doi}"] if thesis.doi else []
    if thesis.handle:
        out.append(f"https://hdl.handle.net/{thesis.handle}")
    out.append(url_for("public.landing", thesis_id=thesis.id, _external=True))
    return out


def _rights(thesis: Thesis) -> str | None:
    chosen = license_of(thesis.license)
    return chosen.url if chosen is not None else None


def oai_dc(thesis: Thesis) -> etree._Element:
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def dc(tag: str, text: str, **attrs: str) -> None:
        _add(root, f"{{{DC}}}{tag}", text, **attrs)

    lang = thesis.language or "en"
    dc("title", full_title(thesis), **{"{http://www.w3.org/XML/1998/namespace}lang": lang})
    for person in people.creators(thesis):
        dc("creator", people.labelled(person))
    for keyword in thesis.keyword_list:
        dc("subject", keyword)
    if thesis.abstract:
        dc("description", thesis.abstract)
    dc("publisher", current_app.config["REPOSITORY_INSTITUTION_NAME"])
    for person in people.contributors(thesis):
        if not person.is_creator:
            dc("contributor", people.labelled(person))
    if thesis.degree_date:
        dc("date", thesis.degree_date.isoformat())
    dc("type", "Text")
    dc("type", thesis_kind(thesis))
    if pdf_available(thesis):
        dc("format", "application/pdf")
    for identifier in _identifiers(thesis):
        dc("identifier", identifier)
    dc("language", lang)
    rights = _rights(thesis)
    if rights:
        dc("rights", rights)
    return root


def oai_etdms(thesis: Thesis) -> etree._Element:
    """ETD-MS 1.0, elements in the standard's order (title ... rights, then degree)."""
    root = etree.Element(f"{{{ETDMS}}}thesis", nsmap={None: ETDMS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation",
             f"{ETDMS} http://www.ndltd.org/standards/metadata/etdms/1.0/etdms.xsd")

    def el(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
        return _add(parent, f"{{{ETDMS}}}{tag}", text, **attrs)

    lang = thesis.language or "en"
    institution = current_app.config["REPOSITORY_INSTITUTION_NAME"]
    el(root, "title", full_title(thesis), **{"{http://www.w3.org/XML/1998/namespace}lang": lang})
    for person in people.creators(thesis):
        el(root, "creator", people.labelled(person))
    for keyword in thesis.keyword_list:
        el(root, "subject", keyword)
    if thesis.abstract:
        el(root, "description", thesis.abstract)
    el(root, "publisher", institution)
    for person in people.contributors(thesis):
        if person.role in ETDMS_ROLES:
            el(root, "contributor", people.labelled(person), role=ETDMS_ROLES[person.role])
    if thesis.degree_date:
        el(root, "date", thesis.degree_date.isoformat())
    el(root, "type", "Electronic Thesis or Dissertation")
    el(root, "type", "Text")
    if pdf_available(thesis):
        el(root, "format", "application/pdf")
    for identifier in _identifiers(thesis):
        el(root, "identifier", identifier)
    el(root, "language", lang)
    rights = _rights(thesis)
    if rights:
        el(root, "rights", rights)
    degree = etree.SubElement(root, f"{{{ETDMS}}}degree")
    with force_locale("en"):
        el(degree, "name", str(DEGREE_LABELS.get(thesis.degree, thesis.degree)))
    # ETD-MS 1.0 degree levels: 0 bachelor's, 1 master's, 2 doctoral
    el(degree, "level", "2" if thesis.degree in DOCTORAL else "1")
    if thesis.department:
        el(degree, "discipline", thesis.department)
    el(degree, "grantor", institution)
    return root


FORMATS = {
    f.prefix: f for f in (
        MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC, oai_dc),
        MetadataFormat("oai_etdms", "http://www.ndltd.org/standards/metadata/etdms/1.0/etdms.xsd",
                       ETDMS, oai_etdms),
        MetadataFormat("datacite", "https://schema.datacite.org/meta/kernel-4.7/metadata.xsd",
                       datacite.NS, datacite.resource),
    )
}
