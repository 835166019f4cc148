"""Reading what clients send: hardened XML and JSON parsing into the emulator's item data.

Input is parsed with a hardened lxml parser (no DTD, no entities, no network); elements must
come in the XSD's order. JSON accepts values both wrapped in ``{"value": ...}`` and bare.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from .rules import ApiError
from .xmltree import local_name, q

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True, remove_pis=True,
)


def invalid(message: str) -> ApiError:
    """An XML body the XSD refuses: OrcidBadRequestException, 400/9012 (ORCID-Source:
    orcid-api-common/.../jaxb/OrcidValidationJaxbContextResolver.java:326-327)."""
    return ApiError(400, 9012, "The client application made a bad request to the ORCID API. "
                    f"Full validation error: {message}",
                    "The client application made a bad request to the ORCID API.")


def invalid_json(message: str) -> ApiError:
    """A JSON body Jackson cannot map: InvalidJSONException, 400/9047 (ORCID-Source:
    orcid-api-common/.../jaxb/OrcidJacksonJaxbJsonProvider.java:68-69)."""
    return ApiError(400, 9047, f"400 Bad request: invalid JSON - {message}", "Invalid JSON.")


_SUMMARY_KEYS = {"put-code", "created-date", "last-modified-date", "source", "path",
                 "visibility", "display-index"}
#: Jackson fails on unknown properties (FAIL_ON_UNKNOWN_PROPERTIES is left on:
#: OrcidJacksonJaxbJsonProvider.java:54-57); the property names are the JAXB element names.
JSON_KEYS: dict[str, set[str]] = {
    "work": _SUMMARY_KEYS | {"title", "journal-title", "short-description", "citation", "type",
                             "publication-date", "external-ids", "url", "contributors",
                             "language-code", "country"},
    "affiliation": _SUMMARY_KEYS | {"department-name", "role-title", "start-date", "end-date",
                                    "organization", "url", "external-ids"},
    "title": {"title", "subtitle", "translated-title"},
    "translated-title": {"value", "language-code"},
    "citation": {"citation-type", "citation-value"},
    "date": {"year", "month", "day"},
    "external-ids": {"external-id"},
    "external-id": {"external-id-type", "external-id-value", "external-id-normalized",
                    "external-id-normalized-error", "external-id-url",
                    "external-id-relationship"},
    "contributors": {"contributor"},
    "contributor": {"contributor-orcid", "credit-name", "contributor-email",
                    "contributor-attributes"},
    "contributor-orcid": {"uri", "path", "host"},
    "contributor-attributes": {"contributor-sequence", "contributor-role"},
    "organization": {"name", "address", "disambiguated-organization"},
    "address": {"city", "region", "country"},
    "disambiguated-organization": {"disambiguated-organization-identifier",
                                   "disambiguation-source"},
}


def known_keys(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for key in obj:
        if key not in JSON_KEYS[kind]:
            raise invalid_json(f'Unrecognized field "{key}" ({kind}), not marked as ignorable')
    return obj


def parse_xml(body: bytes) -> etree._Element:
    if not body.strip():
        raise ApiError(400, 9001, "400 Bad Request: Content is not allowed in prolog.",
                       "The request body is empty.")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ApiError(400, 9001, f"400 Bad Request: Invalid XML: {exc}",
                       "The request body is not well-formed XML.") from None
    # lxml-stubs do not declare DocInfo.doctype, which lxml has had since 2.x.
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise ApiError(400, 9001, "400 Bad Request: DOCTYPE is not allowed.")
    return root


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, 9001, f"400 Bad Request: Invalid JSON: {exc}",
                       "The request body is not valid JSON.") from None


# -- XML -----------------------------------------------------------------------------------------
def _children(el: etree._Element, expected: list[tuple[str, str]],
              repeatable: tuple[str, ...] = ()) -> dict[str, list[etree._Element]]:
    """Children of ``el`` by local name, in the XSD's order; anything else is invalid (9020)."""
    index = {q(p, name): i for i, (p, name) in enumerate(expected)}
    last = -1
    found: dict[str, list[etree._Element]] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        i = index.get(child.tag)
        name = local_name(child)
        if i is None or i < last or (i == last and name not in repeatable):
            raise invalid(f"cvc-complex-type.2.4.a: Invalid content was found starting with "
                          f"element '{child.prefix}:{name}' in '{local_name(el)}'.")
        last = i
        found.setdefault(name, []).append(child)
    return found


def _text(items: dict[str, list[etree._Element]], name: str, strip: bool = True) -> str | None:
    if name not in items:
        return None
    text = items[name][0].text or ""
    return text.strip() if strip else text


def _first(items: dict[str, list[etree._Element]], name: str) -> etree._Element | None:
    return items[name][0] if name in items else None


_SUMMARY_PREFIX = [("common", "created-date"), ("common", "last-modified-date"),
                   ("common", "source")]


def _put_code_attr(root: etree._Element) -> int | None:
    raw = root.get("put-code")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid(f"put-code '{raw}' is not an integer.") from None


def _date_xml(el: etree._Element | None) -> dict[str, Any] | None:
    if el is None:
        return None
    parts = _children(el, [("common", "year"), ("common", "month"), ("common", "day")])
    return {k: _text(parts, k) for k in ("year", "month", "day")}


def _ext_ids_xml(el: etree._Element | None) -> list[dict[str, Any]]:
    if el is None:
        return []
    items = _children(el, [("common", "external-id")], repeatable=("external-id",))
    out = []
    for ext in items.get("external-id", []):
        parts = _children(ext, [
            *_SUMMARY_PREFIX, ("common", "external-id-type"), ("common", "external-id-value"),
            ("common", "external-id-normalized"), ("common", "external-id-normalized-error"),
            ("common", "external-id-url"), ("common", "external-id-relationship"),
        ])
        out.append({
            "type": _text(parts, "external-id-type"),
            "value": _text(parts, "external-id-value"),
            "url": _text(parts, "external-id-url"),
            "relationship": _text(parts, "external-id-relationship"),
        })
    return out


def _orcid_id_xml(el: etree._Element) -> dict[str, Any]:
    parts = _children(el, [("common", "uri"), ("common", "path"), ("common", "host")])
    uri, path = _text(parts, "uri"), _text(parts, "path")
    if not path and uri:
        path = uri.rstrip("/").rsplit("/", 1)[-1]
    return {"orcid": path, "orcid_uri": uri, "orcid_host": _text(parts, "host")}


WORK_ORDER = [
    *_SUMMARY_PREFIX, ("work", "title"), ("work", "journal-title"),
    ("work", "short-description"), ("work", "citation"), ("work", "type"),
    ("common", "publication-date"), ("common", "external-ids"), ("common", "url"),
    ("work", "contributors"), ("common", "language-code"), ("common", "country"),
]


def work_from_xml(root: etree._Element) -> tuple[dict[str, Any], int | None, str | None]:
    if root.tag != q("work", "work"):
        raise invalid(f"expected element 'work:work', found '{local_name(root)}'.")
    parts = _children(root, WORK_ORDER)
    title = _title_xml(parts["title"][0]) if "title" in parts else {}
    citation = _first(parts, "citation")
    cparts = _children(citation, [("work", "citation-type"), ("work", "citation-value")]) \
        if citation is not None else {}
    contributors = _contributors_xml(_first(parts, "contributors"))
    data = {
        "title": title.get("title"),
        "subtitle": title.get("subtitle"),
        "translated_title": title.get("translated_title"),
        "translated_title_language": title.get("translated_title_language"),
        "journal_title": _text(parts, "journal-title", strip=False),
        "short_description": _text(parts, "short-description", strip=False),
        "citation_type": _text(cparts, "citation-type"),
        "citation_value": _text(cparts, "citation-value", strip=False),
        "type": _text(parts, "type"),
        "publication_date": _date_xml(_first(parts, "publication-date")),
        "external_ids": _ext_ids_xml(_first(parts, "external-ids")),
        "url": _text(parts, "url"),
        "contributors": contributors,
        "language_code": _text(parts, "language-code"),
        "country": _text(parts, "country"),
    }
    return data, _put_code_attr(root), root.get("visibility")


def _contributors_xml(el: etree._Element | None) -> list[dict[str, Any]]:
    if el is None:
        return []
    contributors = []
    cs = _children(el, [("work", "contributor")], repeatable=("contributor",))
    for c in cs.get("contributor", []):
        cp = _children(c, [("common", "contributor-orcid"), ("work", "credit-name"),
                           ("work", "contributor-email"), ("work", "contributor-attributes")])
        attrs = _children(cp["contributor-attributes"][0], [
            ("work", "contributor-sequence"), ("work", "contributor-role")
        ]) if "contributor-attributes" in cp else {}
        entry = {
            "orcid": None, "orcid_uri": None, "orcid_host": None,
            "credit_name": _text(cp, "credit-name"),
            "email": _text(cp, "contributor-email"),
            "sequence": _text(attrs, "contributor-sequence"),
            "role": _text(attrs, "contributor-role"),
        }
        if "contributor-orcid" in cp:
            entry.update(_orcid_id_xml(cp["contributor-orcid"][0]))
        contributors.append(entry)
    return contributors


def _title_xml(el: etree._Element) -> dict[str, Any]:
    parts = _children(el, [("common", "title"), ("common", "subtitle"),
                           ("common", "translated-title")])
    translated = _first(parts, "translated-title")
    return {
        "title": _text(parts, "title", strip=False),
        "subtitle": _text(parts, "subtitle", strip=False),
        "translated_title": translated.text if translated is not None else None,
        "translated_title_language": translated.get("language-code")
        if translated is not None else None,
    }


AFFILIATION_ORDER = [
    *_SUMMARY_PREFIX, ("common", "department-name"), ("common", "role-title"),
    ("common", "start-date"), ("common", "end-date"), ("common", "organization"),
    ("common", "url"), ("common", "external-ids"),
]


def affiliation_from_xml(
    section: str, root: etree._Element
) -> tuple[dict[str, Any], int | None, str | None]:
    if root.tag != q(section, section):
        raise invalid(f"expected element '{section}:{section}', found '{local_name(root)}'.")
    parts = _children(root, AFFILIATION_ORDER)
    org = None
    if "organization" in parts:
        op = _children(parts["organization"][0], [
            ("common", "name"), ("common", "address"), ("common", "disambiguated-organization")])
        addr = _children(op["address"][0], [("common", "city"), ("common", "region"),
                                             ("common", "country")]) if "address" in op else {}
        dis = _children(op["disambiguated-organization"][0], [
            ("common", "disambiguated-organization-identifier"),
            ("common", "disambiguation-source")]) if "disambiguated-organization" in op else {}
        org = {
            "name": _text(op, "name"),
            "city": _text(addr, "city"),
            "region": _text(addr, "region"),
            "country": _text(addr, "country"),
            "disambiguated_id": _text(dis, "disambiguated-organization-identifier"),
            "disambiguation_source": _text(dis, "disambiguation-source"),
        }
    data = {
        "department_name": _text(parts, "department-name"),
        "role_title": _text(parts, "role-title"),
        "start_date": _date_xml(_first(parts, "start-date")),
        "end_date": _date_xml(_first(parts, "end-date")),
        "organization": org,
        "url": _text(parts, "url"),
        "external_ids": _ext_ids_xml(_first(parts, "external-ids")),
    }
    return data, _put_code_attr(root), root.get("visibility")


def bulk_from_xml(root: etree._Element) -> list[etree._Element]:
    if root.tag != q("bulk", "bulk"):
        raise invalid(f"expected element 'bulk:bulk', found '{local_name(root)}'.")
    parts = _children(root, [("work", "work")], repeatable=("work",))
    return parts.get("work", [])


# -- JSON ----------------------------------------------------------------------------------------
# ORCID wraps many values in {"value": ...}; its own samples are not always
# consistent, so both wrapped and bare values are accepted.
def _v(value: Any) -> Any:
    if isinstance(value, dict):
        value = value.get("value")
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise invalid_json("expected a value, found an object.")
    return str(value)


def _obj(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_json(f"{what} must be a JSON object.")
    return value


def _date_json(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    value = known_keys(_obj(value, "a date"), "date")
    return {k: _v(value.get(k)) for k in ("year", "month", "day")}


def _ext_ids_json(value: Any) -> list[dict[str, Any]]:
    items = known_keys(_obj(value, "external-ids"), "external-ids").get("external-id") or []
    if not isinstance(items, list):
        raise invalid_json("external-id must be a list.")
    return [
        {
            "type": _v(e.get("external-id-type")),
            "value": _v(e.get("external-id-value")),
            "url": _v(e.get("external-id-url")),
            "relationship": _v(e.get("external-id-relationship")),
        }
        for e in (known_keys(_obj(x, "external-id"), "external-id") for x in items)
    ]


def _put_code_json(doc: dict[str, Any]) -> int | None:
    raw = doc.get("put-code")
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise invalid_json(f"put-code '{raw}' is not an integer.") from None


def work_from_json(doc: Any) -> tuple[dict[str, Any], int | None, str | None]:
    doc = known_keys(_obj(doc, "The work"), "work")
    title = known_keys(_obj(doc.get("title"), "title"), "title")
    translated = title.get("translated-title")
    if isinstance(translated, dict):
        known_keys(translated, "translated-title")
    citation = known_keys(_obj(doc.get("citation"), "citation"), "citation")
    contributors = _contributors_json(doc.get("contributors"))
    data = {
        "title": _v(title.get("title")),
        "subtitle": _v(title.get("subtitle")),
        "translated_title": _v(translated),
        "translated_title_language": translated.get("language-code")
        if isinstance(translated, dict) else None,
        "journal_title": _v(doc.get("journal-title")),
        "short_description": _v(doc.get("short-description")),
        "citation_type": _v(citation.get("citation-type")),
        "citation_value": _v(citation.get("citation-value")),
        "type": _v(doc.get("type")),
        "publication_date": _date_json(doc.get("publication-date")),
        "external_ids": _ext_ids_json(doc.get("external-ids")),
        "url": _v(doc.get("url")),
        "contributors": contributors,
        "language_code": _v(doc.get("language-code")),
        "country": _v(doc.get("country")),
    }
    return data, _put_code_json(doc), doc.get("visibility")


def _contributors_json(value: Any) -> list[dict[str, Any]]:
    contributors = []
    for raw in (known_keys(_obj(value, "contributors"), "contributors").get("contributor") or []):
        c = known_keys(_obj(raw, "contributor"), "contributor")
        cid = known_keys(_obj(c.get("contributor-orcid"), "contributor-orcid"), "contributor-orcid")
        attrs = known_keys(_obj(c.get("contributor-attributes"), "contributor-attributes"),
                           "contributor-attributes")
        path = cid.get("path") or (cid.get("uri") or "").rstrip("/").rsplit("/", 1)[-1] or None
        contributors.append({
            "orcid": path, "orcid_uri": cid.get("uri"), "orcid_host": cid.get("host"),
            "credit_name": _v(c.get("credit-name")),
            "email": _v(c.get("contributor-email")),
            "sequence": _v(attrs.get("contributor-sequence")),
            "role": _v(attrs.get("contributor-role")),
        })
    return contributors


def affiliation_from_json(doc: Any) -> tuple[dict[str, Any], int | None, str | None]:
    doc = known_keys(_obj(doc, "The affiliation"), "affiliation")
    org = doc.get("organization")
    organization = None
    if org is not None:
        org = known_keys(_obj(org, "organization"), "organization")
        addr = known_keys(_obj(org.get("address"), "address"), "address")
        dis = known_keys(_obj(org.get("disambiguated-organization"),
                              "disambiguated-organization"), "disambiguated-organization")
        organization = {
            "name": _v(org.get("name")),
            "city": _v(addr.get("city")),
            "region": _v(addr.get("region")),
            "country": _v(addr.get("country")),
            "disambiguated_id": _v(dis.get("disambiguated-organization-identifier")),
            "disambiguation_source": _v(dis.get("disambiguation-source")),
        }
    data = {
        "department_name": _v(doc.get("department-name")),
        "role_title": _v(doc.get("role-title")),
        "start_date": _date_json(doc.get("start-date")),
        "end_date": _date_json(doc.get("end-date")),
        "organization": organization,
        "url": _v(doc.get("url")),
        "external_ids": _ext_ids_json(doc.get("external-ids")),
    }
    return data, _put_code_json(doc), doc.get("visibility")


def bulk_from_json(doc: Any) -> list[Any]:
    items = _obj(doc, "The bulk document").get("bulk")
    if not isinstance(items, list):
        raise ApiError(400, 9001, "400 Bad Request: 'bulk' must be a list of works.")
    return [_obj(x, "bulk element").get("work") for x in items]
