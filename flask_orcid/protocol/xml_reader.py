"""Readers for ORCID v3.0 XML: records, person, works, affiliations, bulk answers and errors.

Lenient about content, strict about safety: missing sections give empty values and unknown
elements are ignored (ORCID adds fields over time), but every document goes through the
hardened parser in :mod:`.xmlsafe`, and a document of the wrong kind (an error body
where a work was expected) raises :class:`~flask_orcid.XMLError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, TypedDict, cast

from lxml import etree

from ..errors import XMLError
from .messages import REDACTED_IN_BODY, redact
from .model import Affiliation, Work
from .records import AffiliationSummary, Email, ErrorInfo, Person, Record, WorkSummary
from .values import Contributor, ExternalId, FuzzyDate, Organization
from .vocabulary import AFFILIATION_SECTIONS, SECTION_PLURALS
from .xml_writer import NS
from .xmlsafe import MAX_XML_BYTES, parse_xml

__all__ = [
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

log = logging.getLogger(__name__)

_Element = etree._Element


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _child(element: _Element | None, prefix: str, name: str) -> _Element | None:
    return None if element is None else element.find(_q(prefix, name))


def _text(element: _Element | None, prefix: str, name: str, *, strip: bool = True) -> str | None:
    child = _child(element, prefix, name)
    if child is None:
        return None
    # Text nodes of a parsed document are str (lxml-stubs say str | bytes).
    value = "".join(cast(Iterator[str], child.itertext()))
    if strip:
        value = value.strip()
    return value if value.strip() else None


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def _expect(root: _Element, *names: tuple[str, str]) -> None:
    if (etree.QName(root).namespace, etree.QName(root).localname) in {
        (NS[prefix], name) for prefix, name in names
    }:
        return
    wanted = " or ".join(f"{prefix}:{name}" for prefix, name in names)
    raise XMLError(f"Expected an ORCID {wanted} document, got <{etree.QName(root).localname}>.")


def _date(element: _Element | None) -> FuzzyDate | None:
    if element is None:
        return None
    year = _int(_text(element, "common", "year"))
    month = _int(_text(element, "common", "month"))
    day = _int(_text(element, "common", "day"))
    if year is None:
        return None
    return FuzzyDate(year, month, day if month is not None else None)


def _external_ids(parent: _Element | None) -> list[ExternalId]:
    container = _child(parent, "common", "external-ids")
    if container is None:
        return []
    items = []
    for element in container.findall(_q("common", "external-id")):
        items.append(
            ExternalId(
                type=_text(element, "common", "external-id-type") or "",
                value=_text(element, "common", "external-id-value") or "",
                # None when ORCID sent none: such an id is not a ``self`` id.
                relationship=_text(element, "common", "external-id-relationship"),  # type: ignore[arg-type]
                url=_text(element, "common", "external-id-url"),
            )
        )
    return items


def _source(element: _Element) -> tuple[str | None, str | None]:
    source = _child(element, "common", "source")
    client = _child(source, "common", "source-client-id")
    client_id = None
    if client is not None:
        client_id = _text(client, "common", "path")
        if client_id is None:
            uri = _text(client, "common", "uri")
            client_id = uri.rstrip("/").rsplit("/", 1)[-1] if uri else None
    return client_id, _text(source, "common", "source-name")


def _orcid_of(element: _Element | None) -> str | None:
    """The bare iD of a ``common:orcid-id`` element (path, or the end of the URI)."""
    if element is None:
        return None
    path = _text(element, "common", "path")
    if path:
        return path
    uri = _text(element, "common", "uri")
    return uri.rstrip("/").rsplit("/", 1)[-1] if uri else None


def _organization(parent: _Element) -> Organization | None:
    element = _child(parent, "common", "organization")
    if element is None:
        return None
    address = _child(element, "common", "address")
    dis = _child(element, "common", "disambiguated-organization")
    return Organization(
        name=_text(element, "common", "name") or "",
        city=_text(address, "common", "city"),
        region=_text(address, "common", "region"),
        country=_text(address, "common", "country"),
        disambiguated_id=_text(dis, "common", "disambiguated-organization-identifier"),
        disambiguation_source=_text(dis, "common", "disambiguation-source"),
    )


# --- works ---------------------------------------------------------------------------------------


def _work(element: _Element) -> Work:
    title = _child(element, "work", "title")
    translated = _child(title, "common", "translated-title")
    citation = _child(element, "work", "citation")
    contributors = []
    container = _child(element, "work", "contributors")
    for person in container.findall(_q("work", "contributor")) if container is not None else []:
        attributes = _child(person, "work", "contributor-attributes")
        contributors.append(
            Contributor(
                credit_name=_text(person, "work", "credit-name"),
                orcid=_orcid_of(_child(person, "common", "contributor-orcid")),
                sequence=_text(attributes, "work", "contributor-sequence"),
                role=_text(attributes, "work", "contributor-role"),
            )
        )
    return Work(
        title=_text(title, "common", "title") or "",
        type=_text(element, "work", "type") or "",
        subtitle=_text(title, "common", "subtitle"),
        translated_title=_text(title, "common", "translated-title"),
        translated_title_language=translated.get("language-code") if translated is not None else None,
        journal_title=_text(element, "work", "journal-title"),
        short_description=_text(element, "work", "short-description"),
        citation_type=_text(citation, "work", "citation-type"),
        # Kept verbatim: whitespace is meaningful in BibTeX and RIS.
        citation_value=_text(citation, "work", "citation-value", strip=False),
        publication_date=_date(_child(element, "common", "publication-date")),
        external_ids=_external_ids(element),
        url=_text(element, "common", "url"),
        contributors=contributors,
        language_code=_text(element, "common", "language-code"),
        country=_text(element, "common", "country"),
        put_code=_int(element.get("put-code")),
        visibility=element.get("visibility"),
    )


def _work_summary(element: _Element) -> WorkSummary:
    client_id, source_name = _source(element)
    return WorkSummary(
        put_code=_int(element.get("put-code")),
        title=_text(_child(element, "work", "title"), "common", "title"),
        type=_text(element, "work", "type"),
        publication_date=_date(_child(element, "common", "publication-date")),
        external_ids=_external_ids(element),
        source_client_id=client_id,
        source_name=source_name,
        visibility=element.get("visibility"),
        url=_text(element, "common", "url"),
    )


def parse_work(xml: bytes | str) -> Work:
    """One work read by put-code → :class:`Work` with ``put_code`` (and visibility) set."""
    root = parse_xml(xml)
    _expect(root, ("work", "work"))
    return _work(root)


def parse_works(xml: bytes | str) -> list[WorkSummary]:
    """``GET /works`` → one :class:`WorkSummary` per group member, in document order."""
    root = parse_xml(xml)
    _expect(root, ("activities", "works"))
    return [_work_summary(e) for e in root.iter(_q("work", "work-summary"))]


def parse_works_bulk_read(xml: bytes | str) -> list[Work]:
    """``GET /works/{pc},{pc},…`` → the works found; per-put-code errors are skipped (logged)."""
    root = parse_xml(xml)
    _expect(root, ("bulk", "bulk"))
    works = []
    for element in root:
        if element.tag == _q("work", "work"):
            works.append(_work(element))
        elif element.tag == _q("error", "error"):
            info = _error_element(element)
            log.info("bulk read: ORCID returned error %s for one put-code", info.error_code)
    return works


def parse_bulk_response(xml: bytes | str) -> list[Work | ErrorInfo]:
    """``POST /works`` (bulk) → per slot, the created :class:`Work` or an :class:`ErrorInfo`."""
    root = parse_xml(xml)
    _expect(root, ("bulk", "bulk"))
    results: list[Work | ErrorInfo] = []
    for element in root:
        if element.tag == _q("work", "work"):
            results.append(_work(element))
        elif element.tag == _q("error", "error"):
            results.append(_error_element(element))
    return results


# --- affiliations --------------------------------------------------------------------------------


class _AffiliationFields(TypedDict):
    """What an affiliation and its summary share."""

    organization: Organization | None
    department: str | None
    role_title: str | None
    start_date: FuzzyDate | None
    end_date: FuzzyDate | None


def _affiliation_fields(element: _Element) -> _AffiliationFields:
    return {
        "organization": _organization(element),
        "department": _text(element, "common", "department-name"),
        "role_title": _text(element, "common", "role-title"),
        "start_date": _date(_child(element, "common", "start-date")),
        "end_date": _date(_child(element, "common", "end-date")),
    }


def _affiliation_summary(element: _Element, section: str) -> AffiliationSummary:
    client_id, source_name = _source(element)
    return AffiliationSummary(
        put_code=_int(element.get("put-code")),
        section=section,
        source_client_id=client_id,
        source_name=source_name,
        visibility=element.get("visibility"),
        **_affiliation_fields(element),
    )


def _summaries(container: _Element | None, section: str) -> list[AffiliationSummary]:
    if container is None:
        return []
    return [_affiliation_summary(e, section) for e in container.iter(_q(section, f"{section}-summary"))]


def parse_affiliations(xml: bytes | str) -> list[AffiliationSummary]:
    """``GET /educations`` (or any other affiliation section) → its summaries."""
    root = parse_xml(xml)
    _expect(root, *(("activities", SECTION_PLURALS[s]) for s in AFFILIATION_SECTIONS))
    plural = etree.QName(root).localname
    section = next(s for s, p in SECTION_PLURALS.items() if p == plural)
    return _summaries(root, section)


def parse_affiliation(xml: bytes | str) -> Affiliation:
    """``GET /education/{put-code}`` (or another section) → :class:`Affiliation`."""
    root = parse_xml(xml)
    _expect(root, *((s, s) for s in AFFILIATION_SECTIONS))
    section = etree.QName(root).localname
    return Affiliation(
        section=section,
        url=_text(root, "common", "url"),
        external_ids=_external_ids(root),
        put_code=_int(root.get("put-code")),
        visibility=root.get("visibility"),
        **_affiliation_fields(root),
    )


# --- person and record ---------------------------------------------------------------------------


def _person(element: _Element | None, orcid: str | None) -> Person:
    if element is None:
        return Person(orcid=orcid)
    if orcid is None:
        # /person's path is "/0000-0002-1825-0097/person": the iD is the first segment
        orcid = (element.get("path") or "").strip("/").split("/")[0] or None
    name = _child(element, "person", "name")
    other_names = []
    container = _child(element, "other-name", "other-names")
    for other in container.findall(_q("other-name", "other-name")) if container is not None else []:
        content = _text(other, "other-name", "content")
        if content:
            other_names.append(content)
    emails = []
    container = _child(element, "email", "emails")
    for entry in container.findall(_q("email", "email")) if container is not None else []:
        address = _text(entry, "email", "email")
        if address:
            emails.append(
                Email(
                    email=address,
                    primary=entry.get("primary", "").strip().lower() == "true",
                    verified=entry.get("verified", "").strip().lower() == "true",
                    visibility=entry.get("visibility"),
                )
            )
    return Person(
        orcid=orcid,
        given_names=_text(name, "personal-details", "given-names"),
        family_name=_text(name, "personal-details", "family-name"),
        credit_name=_text(name, "personal-details", "credit-name"),
        other_names=other_names,
        emails=emails,
    )


def parse_person(xml: bytes | str) -> Person:
    """``GET /person`` → names and the emails the token may see."""
    root = parse_xml(xml)
    _expect(root, ("person", "person"))
    return _person(root, None)


def parse_record(xml: bytes | str) -> Record:
    """``GET /record`` → :class:`Record`; absent sections are empty, never an error."""
    root = parse_xml(xml)
    _expect(root, ("record", "record"))
    orcid = _orcid_of(_child(root, "common", "orcid-identifier"))
    if orcid is None:
        orcid = (root.get("path") or "").strip("/") or None
    person = _person(_child(root, "person", "person"), orcid)
    activities = _child(root, "activities", "activities-summary")
    works_container = _child(activities, "activities", "works")
    works = [] if works_container is None else [
        _work_summary(e) for e in works_container.iter(_q("work", "work-summary"))
    ]
    sections = {
        s: _summaries(_child(activities, "activities", SECTION_PLURALS[s]), s)
        for s in AFFILIATION_SECTIONS
    }
    record = Record.from_person(
        person,
        educations=sections.pop("education"),
        employments=sections.pop("employment"),
        works=works,
    )
    record.other_affiliations = [item for items in sections.values() for item in items]
    return record


# --- errors --------------------------------------------------------------------------------------

def _redact(text: str | None) -> str | None:
    # The body's own credentials are unknown here: only the pattern rules of redact() apply.
    return redact(text, marker=REDACTED_IN_BODY)


def _error_element(element: _Element) -> ErrorInfo:
    return ErrorInfo(
        status=_int(_text(element, "error", "response-code")),
        error_code=_int(_text(element, "error", "error-code")),
        developer_message=_redact(_text(element, "error", "developer-message")),
        user_message=_redact(_text(element, "error", "user-message")),
        more_info=_text(element, "error", "more-info"),
    )


def _snippet(body: bytes) -> str | None:
    text = " ".join(body[:2000].decode("utf-8", "replace").split())
    return _redact(text[:500]) if text else None


def parse_error(body: bytes | str | None, content_type: str | None = None) -> ErrorInfo:
    """Whatever ORCID sent with an error status, as an :class:`ErrorInfo`; never raises.

    Understands ``error:error`` XML, its JSON twin (hyphenated keys), and the OAuth JSON form
    ``{"error", "error_description"}`` of 401/403 answers. Anything else (an HTML page from a
    proxy, a hostile document) becomes a short, redacted ``developer_message``.
    """
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    kind = (content_type or "").lower()
    stripped = body.strip()
    if len(body) > MAX_XML_BYTES:
        return ErrorInfo(developer_message="An oversized error body was not read.")
    if "json" in kind or stripped.startswith(b"{"):
        try:
            data = json.loads(stripped.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):  # hostile nesting
            data = None
        if isinstance(data, dict):
            return _error_json(data)
    if "xml" in kind or stripped.startswith(b"<"):
        try:
            root = parse_xml(body)
        except XMLError as exc:
            log.warning("ORCID error body refused: %s", exc)
            return ErrorInfo(developer_message="The error body could not be read safely.")
        element = root if root.tag == _q("error", "error") else root.find(".//" + _q("error", "error"))
        if element is not None:
            return _error_element(element)
    return ErrorInfo(developer_message=_snippet(body))


def _error_json(data: dict[str, Any]) -> ErrorInfo:
    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    if "error" in data and "developer-message" not in data:
        return ErrorInfo(
            developer_message=_redact(text("error_description")),
            error=text("error"),
        )
    return ErrorInfo(
        status=_int(text("response-code")),
        error_code=_int(text("error-code")),
        developer_message=_redact(text("developer-message")),
        user_message=_redact(text("user-message")),
        more_info=text("more-info"),
    )
