"""A thesis as DataCite Metadata Schema 4.7 XML (kernel-4, the version current in 2026).

People: the author and co-authors are ``creator``s; advisors are ``contributor``s of type
``Supervisor``, committee members of type ``Other`` (DataCite's list has no examiner or
committee type). Each authenticated iD is a ``nameIdentifier`` with the ORCID scheme; a typed,
unauthenticated iD is left out and the person keeps their name only. DataCite has no way to
flag an identifier as unverified, and an ORCID ``nameIdentifier`` is an assertion others act
on: DataCite's ORCID auto-update writes the work to the record of each iD it finds there
(when its holder allows it).
ORCID asks for the same (orcid-model ``record_3.0/work-3.0.xsd:170``: contributor iDs "only
... if you have collected an authenticated iD"). See docs/exports.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import force_locale
from lxml import etree

from . import people
from .forms import DEGREE_LABELS
from .licenses import license_of
from .metadata import pdf_available, thesis_kind
from .models import Thesis
from .xmltext import clean

NS = "http://datacite.org/schema/kernel-4"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA_LOCATION = f"{NS} https://schema.datacite.org/meta/kernel-4.7/metadata.xsd"

#: A thesis' people by role -> DataCite contributorType (controlled list of kernel-4.7).
CONTRIBUTOR_TYPES = {"advisor": "Supervisor", "committee_member": "Other"}
#: SPDX identifiers of the sample's licences (DataCite's rightsIdentifierScheme "SPDX").
SPDX = {
    "cc-by-4.0": "CC-BY-4.0", "cc-by-sa-4.0": "CC-BY-SA-4.0", "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0", "cc-by-nd-4.0": "CC-BY-ND-4.0",
    "cc-by-nc-nd-4.0": "CC-BY-NC-ND-4.0", "cc0-1.0": "CC0-1.0",
}


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{NS}}}{tag}",
                             {k: clean(v) or "" for k, v in attrs.items() if v})
    if text is not None:
        child.text = clean(text)
    return child


def _ror(parent: etree._Element, tag: str, name: str) -> None:
    _el(parent, tag, name, affiliationIdentifier=current_app.config["REPOSITORY_INSTITUTION_ROR"],
        affiliationIdentifierScheme="ROR", schemeURI="https://ror.org")


def _person(parent: etree._Element, tag: str, person: people.Person, **attrs: str) -> None:
    """A creator or contributor; ``nameIdentifier`` for an authenticated iD only."""
    node = _el(parent, tag, **attrs)
    _el(node, f"{tag}Name", person.inverted_name, nameType="Personal")
    if person.given and person.family:
        _el(node, "givenName", person.given)
        _el(node, "familyName", person.family)
    uri = person.authenticated_uri
    if uri is not None:
        # the iD's own registry (orcid.org, sandbox.orcid.org, or the emulator in the demo)
        scheme = "{0.scheme}://{0.netloc}".format(urlsplit(uri))
        _el(node, "nameIdentifier", uri, nameIdentifierScheme="ORCID", schemeURI=scheme)
    if person.role == people.AUTHOR:
        _ror(node, "affiliation", current_app.config["REPOSITORY_INSTITUTION_NAME"])


def _people(root: etree._Element, thesis: Thesis) -> None:
    creators = _el(root, "creators")
    for person in people.creators(thesis):
        _person(creators, "creator", person)
    contributors = _el(root, "contributors")
    for person in people.contributors(thesis):
        if person.role in CONTRIBUTOR_TYPES:
            _person(contributors, "contributor", person,
                    contributorType=CONTRIBUTOR_TYPES[person.role])
    host = _el(contributors, "contributor", contributorType="HostingInstitution")
    _el(host, "contributorName", current_app.config["REPOSITORY_NAME"], nameType="Organizational")


def _description(root: etree._Element, thesis: Thesis, lang: str) -> None:
    with force_locale("en"):
        degree = str(DEGREE_LABELS.get(thesis.degree, thesis.degree))
    descriptions = _el(root, "descriptions")
    if thesis.abstract:
        _el(descriptions, "description", thesis.abstract, descriptionType="Abstract",
            **{XML_LANG: lang})
    institution = current_app.config["REPOSITORY_INSTITUTION_NAME"]
    details = ", ".join(part for part in (degree, thesis.department, institution) if part)
    _el(descriptions, "description", f"{thesis_kind(thesis)}: {details}",
        descriptionType="TechnicalInfo", **{XML_LANG: "en"})


def _dates_and_rights(root: etree._Element, thesis: Thesis) -> None:
    dates = _el(root, "dates")
    if thesis.degree_date:
        _el(dates, "date", thesis.degree_date.isoformat(), dateType="Issued")
    if thesis.published_at:
        # accepted by the graduate school = published here; the full text is available then,
        # or when its embargo ends
        _el(dates, "date", thesis.published_at.date().isoformat(), dateType="Accepted")
    if thesis.embargo_until:
        _el(dates, "date", thesis.embargo_until.isoformat(), dateType="Available",
            dateInformation="End of the embargo on the full text")
    elif thesis.published_at:
        _el(dates, "date", thesis.published_at.date().isoformat(), dateType="Available")
    chosen = license_of(thesis.license)
    if chosen is not None:
        with force_locale("en"):
            label = str(chosen.label)
        rights = _el(_el(root, "rightsList"), "rights", label, rightsURI=chosen.url)
        if chosen.code in SPDX:
            rights.set("rightsIdentifier", SPDX[chosen.code])
            rights.set("rightsIdentifierScheme", "SPDX")
            rights.set("schemeURI", "https://spdx.org/licenses/")


def resource(thesis: Thesis) -> etree._Element:
    """The ``resource`` element (also the ``datacite`` format of the OAI-PMH endpoint)."""
    cfg = current_app.config
    lang = thesis.language or "en"
    root = etree.Element(f"{{{NS}}}resource", nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    _el(root, "identifier", thesis.doi or "", identifierType="DOI")
    alternates = _el(root, "alternateIdentifiers")
    if thesis.handle:
        _el(alternates, "alternateIdentifier", thesis.handle, alternateIdentifierType="Handle")
    _el(alternates, "alternateIdentifier",
        url_for("public.landing", thesis_id=thesis.id, _external=True),
        alternateIdentifierType="URL")
    _people(root, thesis)
    titles = _el(root, "titles")
    _el(titles, "title", thesis.title, **{XML_LANG: lang})
    if thesis.subtitle:
        _el(titles, "title", thesis.subtitle, titleType="Subtitle", **{XML_LANG: lang})
    _el(root, "publisher", cfg["REPOSITORY_INSTITUTION_NAME"],
        publisherIdentifier=cfg["REPOSITORY_INSTITUTION_ROR"], publisherIdentifierScheme="ROR",
        schemeURI="https://ror.org")
    year = thesis.degree_date or (thesis.published_at.date() if thesis.published_at else None)
    _el(root, "publicationYear", str(year.year) if year else "")
    _el(root, "resourceType", thesis_kind(thesis), resourceTypeGeneral="Dissertation")
    if thesis.keyword_list:
        subjects = _el(root, "subjects")
        for keyword in thesis.keyword_list:
            _el(subjects, "subject", keyword, **{XML_LANG: lang})
    _dates_and_rights(root, thesis)
    _el(root, "language", lang)
    if pdf_available(thesis):
        _el(_el(root, "formats"), "format", "application/pdf")
    _description(root, thesis, lang)
    return root


def document(thesis: Thesis) -> bytes:
    return etree.tostring(resource(thesis), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)

