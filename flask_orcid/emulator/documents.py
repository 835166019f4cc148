"""ORCID v3.0 documents in XML and JSON: reading what clients send, writing what ORCID returns.

The emulator's own reader and writer (it never uses the extension's). Input is parsed with a
hardened lxml parser (no DTD, no entities, no network). Output follows the element order of
the official XSDs; JSON follows ORCID's JSON shapes (values wrapped in ``{"value": ...}``,
timestamps as epoch milliseconds, API-FACTS §5).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, request
from lxml import etree

from .rules import MORE_INFO, ApiError, id_key, normalize_id
from .state import AFFILIATION_SECTIONS, SECTIONS, Item, Researcher

XML_TYPES = ("application/vnd.orcid+xml", "application/orcid+xml", "application/xml")
JSON_TYPES = ("application/vnd.orcid+json", "application/orcid+json", "application/json")

_PREFIXES = [
    "common", "work", "activities", "record", "person", "personal-details", "other-name",
    "email", "bulk", "error", "researcher-url", "address", "keyword", "external-identifier",
    *AFFILIATION_SECTIONS,
]
NS = {p: f"http://www.orcid.org/ns/{p}" for p in _PREFIXES}
_ORCID_URI = re.compile(r"https://([^/]*orcid\.org|localhost.*/orcid-web)/(\d{4}-){3,}\d{3}[\dX]")
_PATH_ID = re.compile(r"(\d{4}-){3}\d{3}[\dX]")


def q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


# -- media types ---------------------------------------------------------------------------------
def response_format() -> tuple[str, str] | None:
    """("xml"|"json", media type) for the request's Accept; None when nothing fits (406)."""
    accept = request.accept_mimetypes
    if not accept or not request.headers.get("Accept"):
        return "xml", XML_TYPES[0]
    best = accept.best_match(list(XML_TYPES + JSON_TYPES))
    if best is None:
        return None
    return ("json" if best in JSON_TYPES else "xml"), best


def error_format() -> tuple[str, str]:
    fmt = response_format()
    if fmt is not None and request.headers.get("Accept"):
        return fmt
    ctype = (request.mimetype or "").lower()
    if ctype in JSON_TYPES:
        return "json", ctype
    return fmt or ("xml", XML_TYPES[0])


def request_format() -> str | None:
    ctype = (request.mimetype or "").lower()
    if ctype in XML_TYPES:
        return "xml"
    if ctype in JSON_TYPES:
        return "json"
    return None


def error_response(status: int, code: int, developer: str, user: str | None = None) -> Response:
    fmt, media = error_format()
    if fmt == "json":
        body = json.dumps(error_json(status, code, developer, user))
        return Response(body, status=status, mimetype=media)
    return xml_response(error_xml(status, code, developer, user), media, status)


def api_error_response(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.developer, exc.user)


def error_json(status: int, code: int, developer: str, user: str | None = None) -> dict:
    return {
        "response-code": status,
        "developer-message": developer,
        "user-message": user or developer,
        "error-code": code,
        "more-info": MORE_INFO,
    }


def error_xml(status: int, code: int, developer: str, user: str | None = None,
              parent: etree._Element | None = None) -> etree._Element:
    root = _sub(parent, "error", "error") if parent is not None else _root("error", "error")
    _sub(root, "error", "response-code", str(status))
    _sub(root, "error", "developer-message", developer)
    _sub(root, "error", "user-message", user or developer)
    _sub(root, "error", "error-code", str(code))
    _sub(root, "error", "more-info", MORE_INFO)
    return root


def xml_response(root: etree._Element, media: str, status: int = 200) -> Response:
    body = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", standalone=True, pretty_print=True
    )
    return Response(body, status=status, mimetype=media)


def json_response(data: Any, media: str, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    content_type=f"{media};charset=UTF-8")


# -- reading input -------------------------------------------------------------------------------
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True, remove_pis=True,
)


def _invalid(message: str) -> ApiError:
    return ApiError(400, 9020, f"400 Bad Request: Full validation error: {message}",
                    "Invalid incoming message.")


def parse_xml(body: bytes) -> etree._Element:
    if not body.strip():
        raise ApiError(400, 9001, "400 Bad Request: Content is not allowed in prolog.",
                       "The request body is empty.")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ApiError(400, 9001, f"400 Bad Request: Invalid XML: {exc}",
                       "The request body is not well-formed XML.") from None
    if root.getroottree().docinfo.doctype:
        raise ApiError(400, 9001, "400 Bad Request: DOCTYPE is not allowed.")
    return root


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, 9001, f"400 Bad Request: Invalid JSON: {exc}",
                       "The request body is not valid JSON.") from None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


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
        name = _local(child)
        if i is None or i < last or (i == last and name not in repeatable):
            raise _invalid(f"cvc-complex-type.2.4.a: Invalid content was found starting with "
                           f"element '{child.prefix}:{name}' in '{_local(el)}'.")
        last = i
        found.setdefault(name, []).append(child)
    return found


def _text(items: dict[str, list[etree._Element]], name: str, strip: bool = True) -> str | None:
    if name not in items:
        return None
    text = items[name][0].text or ""
    return text.strip() if strip else text


_SUMMARY_PREFIX = [("common", "created-date"), ("common", "last-modified-date"),
                   ("common", "source")]


def _put_code_attr(root: etree._Element) -> int | None:
    raw = root.get("put-code")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid(f"put-code '{raw}' is not an integer.") from None


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
        raise _invalid(f"expected element 'work:work', found '{_local(root)}'.")
    parts = _children(root, WORK_ORDER)
    if "title" not in parts:
        data_title: dict[str, Any] = {}
    else:
        data_title = {
            k: v for k, v in _title_xml(parts["title"][0]).items()
        }
    citation = parts.get("citation", [None])[0]
    cparts = _children(citation, [("work", "citation-type"), ("work", "citation-value")]) \
        if citation is not None else {}
    contributors = []
    if "contributors" in parts:
        cs = _children(parts["contributors"][0], [("work", "contributor")],
                       repeatable=("contributor",))
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
    data = {
        "title": data_title.get("title"),
        "subtitle": data_title.get("subtitle"),
        "translated_title": data_title.get("translated_title"),
        "translated_title_language": data_title.get("translated_title_language"),
        "journal_title": _text(parts, "journal-title", strip=False),
        "short_description": _text(parts, "short-description", strip=False),
        "citation_type": _text(cparts, "citation-type"),
        "citation_value": _text(cparts, "citation-value", strip=False),
        "type": _text(parts, "type"),
        "publication_date": _date_xml(parts.get("publication-date", [None])[0]),
        "external_ids": _ext_ids_xml(parts.get("external-ids", [None])[0]),
        "url": _text(parts, "url"),
        "contributors": contributors,
        "language_code": _text(parts, "language-code"),
        "country": _text(parts, "country"),
    }
    return data, _put_code_attr(root), root.get("visibility")


def _title_xml(el: etree._Element) -> dict[str, Any]:
    parts = _children(el, [("common", "title"), ("common", "subtitle"),
                           ("common", "translated-title")])
    translated = parts.get("translated-title", [None])[0]
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
        raise _invalid(f"expected element '{section}:{section}', found '{_local(root)}'.")
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
        "start_date": _date_xml(parts.get("start-date", [None])[0]),
        "end_date": _date_xml(parts.get("end-date", [None])[0]),
        "organization": org,
        "url": _text(parts, "url"),
        "external_ids": _ext_ids_xml(parts.get("external-ids", [None])[0]),
    }
    return data, _put_code_attr(root), root.get("visibility")


def bulk_from_xml(root: etree._Element) -> list[etree._Element]:
    if root.tag != q("bulk", "bulk"):
        raise _invalid(f"expected element 'bulk:bulk', found '{_local(root)}'.")
    parts = _children(root, [("work", "work")], repeatable=("work",))
    return parts.get("work", [])


# JSON input: ORCID wraps many values in {"value": ...}; its own samples are not always
# consistent, so both wrapped and bare values are accepted.
def _v(value: Any) -> Any:
    if isinstance(value, dict):
        value = value.get("value")
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise _invalid("expected a value, found an object.")
    return str(value)


def _obj(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, 9001, f"400 Bad Request: {what} must be a JSON object.")
    return value


def _date_json(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    value = _obj(value, "a date")
    return {k: _v(value.get(k)) for k in ("year", "month", "day")}


def _ext_ids_json(value: Any) -> list[dict[str, Any]]:
    items = _obj(value, "external-ids").get("external-id") or []
    if not isinstance(items, list):
        raise ApiError(400, 9001, "400 Bad Request: external-id must be a list.")
    return [
        {
            "type": _v(e.get("external-id-type")),
            "value": _v(e.get("external-id-value")),
            "url": _v(e.get("external-id-url")),
            "relationship": _v(e.get("external-id-relationship")),
        }
        for e in (_obj(x, "external-id") for x in items)
    ]


def _put_code_json(doc: dict[str, Any]) -> int | None:
    raw = doc.get("put-code")
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise _invalid(f"put-code '{raw}' is not an integer.") from None


def work_from_json(doc: Any) -> tuple[dict[str, Any], int | None, str | None]:
    doc = _obj(doc, "The work")
    title = _obj(doc.get("title"), "title")
    translated = title.get("translated-title")
    citation = _obj(doc.get("citation"), "citation")
    contributors = []
    for c in (_obj(doc.get("contributors"), "contributors").get("contributor") or []):
        c = _obj(c, "contributor")
        cid = _obj(c.get("contributor-orcid"), "contributor-orcid")
        attrs = _obj(c.get("contributor-attributes"), "contributor-attributes")
        path = cid.get("path") or (cid.get("uri") or "").rstrip("/").rsplit("/", 1)[-1] or None
        contributors.append({
            "orcid": path, "orcid_uri": cid.get("uri"), "orcid_host": cid.get("host"),
            "credit_name": _v(c.get("credit-name")),
            "email": _v(c.get("contributor-email")),
            "sequence": _v(attrs.get("contributor-sequence")),
            "role": _v(attrs.get("contributor-role")),
        })
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


def affiliation_from_json(doc: Any) -> tuple[dict[str, Any], int | None, str | None]:
    doc = _obj(doc, "The affiliation")
    org = doc.get("organization")
    organization = None
    if org is not None:
        org = _obj(org, "organization")
        addr = _obj(org.get("address"), "address")
        dis = _obj(org.get("disambiguated-organization"), "disambiguated-organization")
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


# -- writing output ------------------------------------------------------------------------------
@dataclass
class View:
    """Who is reading which record: decides what is visible and how ids are written."""

    researcher: Researcher
    visible: Callable[[Item], bool]
    limited: bool
    host: str
    base: str

    @property
    def orcid(self) -> str:
        return self.researcher.orcid

    def items(self, section: str) -> list[Item]:
        found = self.researcher.items.get(section, {}).values()
        return sorted((i for i in found if self.visible(i)), key=lambda i: i.put_code)

    def shows(self, visibility: str) -> bool:
        return visibility == "public" or (self.limited and visibility in ("limited",
                                                                          "registered-only"))


def _root(prefix: str, local: str, **attrs: Any) -> etree._Element:
    root = etree.Element(q(prefix, local), nsmap=NS)
    for key, value in attrs.items():
        if value is not None:
            root.set(key.replace("_", "-"), str(value))
    return root


def _sub(parent: etree._Element, prefix: str, local: str, text: str | None = None,
         **attrs: Any) -> etree._Element:
    el = etree.SubElement(parent, q(prefix, local))
    if text is not None:
        el.text = text
    for key, value in attrs.items():
        if value is not None:
            el.set(key.replace("_", "-"), str(value))
    return el


def iso(ts: float) -> str:
    """xs:dateTime with milliseconds, no trailing whitespace (API-FACTS §13)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def millis(ts: float) -> dict[str, int]:
    return {"value": int(ts * 1000)}


def _latest(items: list[Item]) -> float | None:
    return max((i.modified for i in items), default=None)


def _xml_summary_head(el: etree._Element, item: Item, view: View) -> None:
    _sub(el, "common", "created-date", iso(item.created))
    _sub(el, "common", "last-modified-date", iso(item.modified))
    src = _sub(el, "common", "source")
    if item.source_client_id:
        # ORCID also writes common:uri, but the XSD only accepts orcid.org hosts there; the
        # emulator writes path and host, which the schema allows on their own.
        cid = _sub(src, "common", "source-client-id")
        _sub(cid, "common", "path", item.source_client_id)
        _sub(cid, "common", "host", view.host)
    elif item.source_orcid:
        sid = _sub(src, "common", "source-orcid")
        _sub(sid, "common", "path", item.source_orcid)
        _sub(sid, "common", "host", view.host)
    _sub(src, "common", "source-name", item.source_name)


def _json_source(item: Item, view: View) -> dict[str, Any]:
    def ident(path: str, kind: str) -> dict[str, Any]:
        uri = f"{view.base}/client/{path}" if kind == "client" else f"{view.base}/{path}"
        return {"uri": uri, "path": path, "host": view.host}

    return {
        "source-orcid": ident(item.source_orcid, "orcid") if item.source_orcid else None,
        "source-client-id": ident(item.source_client_id, "client")
        if item.source_client_id else None,
        "source-name": {"value": item.source_name},
        "assertion-origin-orcid": None,
        "assertion-origin-client-id": None,
        "assertion-origin-name": None,
    }


def _xml_date(parent: etree._Element, local: str, date: dict[str, Any] | None) -> None:
    if not date or not date.get("year"):
        return
    el = _sub(parent, "common", local)
    for part in ("year", "month", "day"):
        if date.get(part):
            _sub(el, "common", part, str(date[part]))


def _json_date(date: dict[str, Any] | None) -> dict[str, Any] | None:
    if not date or not date.get("year"):
        return None
    return {p: ({"value": str(date[p])} if date.get(p) else None)
            for p in ("year", "month", "day")}


def _xml_ext_ids(parent: etree._Element, ids: list[dict[str, Any]]) -> None:
    wrapper = _sub(parent, "common", "external-ids")
    for ext in ids:
        el = _sub(wrapper, "common", "external-id")
        _sub(el, "common", "external-id-type", ext["type"])
        _sub(el, "common", "external-id-value", ext["value"])
        normalized = normalize_id(ext["type"], ext["value"])
        if normalized is not None:
            _sub(el, "common", "external-id-normalized", normalized, transient="true")
        else:
            err = _sub(el, "common", "external-id-normalized-error", transient="true")
            _sub(err, "common", "error-code", "8001")
            _sub(err, "common", "error-message",
                 f"Cannot normalize identifier value {ext['type']}:{ext['value']}")
        if ext.get("url"):
            _sub(el, "common", "external-id-url", ext["url"])
        if ext.get("relationship"):
            _sub(el, "common", "external-id-relationship", ext["relationship"])


def _json_ext_ids(ids: list[dict[str, Any]]) -> dict[str, Any]:
    out = []
    for ext in ids:
        normalized = normalize_id(ext["type"], ext["value"])
        out.append({
            "external-id-type": ext["type"],
            "external-id-value": ext["value"],
            "external-id-normalized": {"value": normalized, "transient": True}
            if normalized is not None else None,
            "external-id-normalized-error": None if normalized is not None else {
                "error-code": "8001",
                "error-message": f"Cannot normalize identifier value "
                                 f"{ext['type']}:{ext['value']}",
                "transient": True,
            },
            "external-id-url": {"value": ext["url"]} if ext.get("url") else None,
            "external-id-relationship": ext.get("relationship"),
        })
    return {"external-id": out}


def _xml_title(parent: etree._Element, data: dict[str, Any]) -> None:
    title = _sub(parent, "work", "title")
    _sub(title, "common", "title", data["title"])
    if data.get("subtitle"):
        _sub(title, "common", "subtitle", data["subtitle"])
    if data.get("translated_title"):
        _sub(title, "common", "translated-title", data["translated_title"],
             language_code=data.get("translated_title_language"))


def _json_title(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": {"value": data["title"]},
        "subtitle": {"value": data["subtitle"]} if data.get("subtitle") else None,
        "translated-title": {"value": data["translated_title"],
                             "language-code": data.get("translated_title_language")}
        if data.get("translated_title") else None,
    }


def _path(view: View, item: Item) -> str:
    return f"/{view.orcid}/{item.section}/{item.put_code}"


def work_xml(item: Item, view: View, parent: etree._Element | None = None) -> etree._Element:
    attrs = {"put_code": item.put_code, "path": _path(view, item),
             "visibility": item.visibility}
    el = _sub(parent, "work", "work", **attrs) if parent is not None else _root(
        "work", "work", **attrs)
    d = item.data
    _xml_summary_head(el, item, view)
    _xml_title(el, d)
    if d.get("journal_title"):
        _sub(el, "work", "journal-title", d["journal_title"])
    if d.get("short_description"):
        _sub(el, "work", "short-description", d["short_description"])
    if d.get("citation_type"):
        cit = _sub(el, "work", "citation")
        _sub(cit, "work", "citation-type", d["citation_type"])
        _sub(cit, "work", "citation-value", d["citation_value"])
    _sub(el, "work", "type", d["type"])
    _xml_date(el, "publication-date", d.get("publication_date"))
    _xml_ext_ids(el, d.get("external_ids", []))
    if d.get("url"):
        _sub(el, "common", "url", d["url"])
    if d.get("contributors"):
        cs = _sub(el, "work", "contributors")
        for c in d["contributors"]:
            ce = _sub(cs, "work", "contributor")
            if c.get("orcid"):
                co = _sub(ce, "common", "contributor-orcid")
                if c.get("orcid_uri") and _ORCID_URI.fullmatch(c["orcid_uri"]):
                    _sub(co, "common", "uri", c["orcid_uri"])
                _sub(co, "common", "path", c["orcid"])
                _sub(co, "common", "host", c.get("orcid_host") or "orcid.org")
            if c.get("credit_name"):
                _sub(ce, "work", "credit-name", c["credit_name"])
            # contributor-email is accepted but never returned on read (API-FACTS §5)
            if c.get("sequence") or c.get("role"):
                attrs_el = _sub(ce, "work", "contributor-attributes")
                if c.get("sequence"):
                    _sub(attrs_el, "work", "contributor-sequence", c["sequence"])
                if c.get("role"):
                    _sub(attrs_el, "work", "contributor-role", c["role"])
    if d.get("language_code"):
        _sub(el, "common", "language-code", d["language_code"])
    if d.get("country"):
        _sub(el, "common", "country", d["country"])
    return el


def work_json(item: Item, view: View) -> dict[str, Any]:
    d = item.data
    return {
        "created-date": millis(item.created),
        "last-modified-date": millis(item.modified),
        "source": _json_source(item, view),
        "put-code": item.put_code,
        "path": _path(view, item),
        "title": _json_title(d),
        "journal-title": {"value": d["journal_title"]} if d.get("journal_title") else None,
        "short-description": d.get("short_description"),
        "citation": {"citation-type": d["citation_type"], "citation-value": d["citation_value"]}
        if d.get("citation_type") else None,
        "type": d["type"],
        "publication-date": _json_date(d.get("publication_date")),
        "external-ids": _json_ext_ids(d.get("external_ids", [])),
        "url": {"value": d["url"]} if d.get("url") else None,
        "contributors": {"contributor": [
            {
                "contributor-orcid": {"uri": c.get("orcid_uri"), "path": c["orcid"],
                                      "host": c.get("orcid_host") or "orcid.org"}
                if c.get("orcid") else None,
                "credit-name": {"value": c["credit_name"]} if c.get("credit_name") else None,
                "contributor-email": None,
                "contributor-attributes": {"contributor-sequence": c.get("sequence"),
                                           "contributor-role": c.get("role")}
                if c.get("sequence") or c.get("role") else None,
            }
            for c in d.get("contributors", [])
        ]},
        "language-code": d.get("language_code"),
        "country": {"value": d["country"]} if d.get("country") else None,
        "visibility": item.visibility,
    }


def work_summary_xml(parent: etree._Element, item: Item, view: View) -> None:
    d = item.data
    el = _sub(parent, "work", "work-summary", put_code=item.put_code, path=_path(view, item),
              visibility=item.visibility, display_index="0")
    _xml_summary_head(el, item, view)
    _xml_title(el, d)
    _xml_ext_ids(el, d.get("external_ids", []))
    if d.get("url"):
        _sub(el, "common", "url", d["url"])
    _sub(el, "work", "type", d["type"])
    _xml_date(el, "publication-date", d.get("publication_date"))
    if d.get("journal_title"):
        _sub(el, "work", "journal-title", d["journal_title"])


def work_summary_json(item: Item, view: View) -> dict[str, Any]:
    d = item.data
    return {
        "put-code": item.put_code,
        "created-date": millis(item.created),
        "last-modified-date": millis(item.modified),
        "source": _json_source(item, view),
        "title": _json_title(d),
        "external-ids": _json_ext_ids(d.get("external_ids", [])),
        "url": {"value": d["url"]} if d.get("url") else None,
        "type": d["type"],
        "publication-date": _json_date(d.get("publication_date")),
        "journal-title": {"value": d["journal_title"]} if d.get("journal_title") else None,
        "visibility": item.visibility,
        "path": _path(view, item),
        "display-index": "0",
    }


def group_items(items: list[Item]) -> list[tuple[list[Item], list[dict[str, Any]]]]:
    """Group items sharing a ``self`` or ``version-of`` id (after normalization), as ORCID does."""
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        for ext in item.data.get("external_ids", []):
            if ext.get("relationship") not in ("self", "version-of"):
                continue
            key = id_key(ext)
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[Item]] = {}
    for i, item in enumerate(items):
        groups.setdefault(find(i), []).append(item)
    out = []
    for members in groups.values():
        ids: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for item in members:
            for ext in item.data.get("external_ids", []):
                if ext.get("relationship") not in ("self", "version-of"):
                    continue
                if id_key(ext) not in seen:
                    seen.add(id_key(ext))
                    ids.append(ext)
        out.append((members, ids))
    return out


def works_xml(view: View, parent: etree._Element | None = None) -> etree._Element:
    items = view.items("work")
    path = f"/{view.orcid}/works"
    el = _sub(parent, "activities", "works", path=path) if parent is not None else _root(
        "activities", "works", path=path)
    latest = _latest(items)
    if latest is not None:
        _sub(el, "common", "last-modified-date", iso(latest))
    for members, ids in group_items(items):
        group = _sub(el, "activities", "group")
        _sub(group, "common", "last-modified-date", iso(_latest(members) or 0))
        _xml_ext_ids(group, ids)
        for item in members:
            work_summary_xml(group, item, view)
    return el


def works_json(view: View) -> dict[str, Any]:
    items = view.items("work")
    latest = _latest(items)
    return {
        "last-modified-date": millis(latest) if latest is not None else None,
        "group": [
            {
                "last-modified-date": millis(_latest(members) or 0),
                "external-ids": _json_ext_ids(ids),
                "work-summary": [work_summary_json(i, view) for i in members],
            }
            for members, ids in group_items(items)
        ],
        "path": f"/{view.orcid}/works",
    }


def _xml_affiliation_body(el: etree._Element, item: Item, view: View) -> None:
    d = item.data
    _xml_summary_head(el, item, view)
    if d.get("department_name"):
        _sub(el, "common", "department-name", d["department_name"])
    if d.get("role_title"):
        _sub(el, "common", "role-title", d["role_title"])
    _xml_date(el, "start-date", d.get("start_date"))
    _xml_date(el, "end-date", d.get("end_date"))
    org = d.get("organization")
    if org:
        oe = _sub(el, "common", "organization")
        _sub(oe, "common", "name", org["name"])
        addr = _sub(oe, "common", "address")
        for part in ("city", "region", "country"):
            if org.get(part):
                _sub(addr, "common", part, org[part])
        if org.get("disambiguated_id"):
            dis = _sub(oe, "common", "disambiguated-organization")
            _sub(dis, "common", "disambiguated-organization-identifier", org["disambiguated_id"])
            _sub(dis, "common", "disambiguation-source", org["disambiguation_source"])
    if d.get("url"):
        _sub(el, "common", "url", d["url"])
    if d.get("external_ids"):
        _xml_ext_ids(el, d["external_ids"])


def affiliation_xml(item: Item, view: View) -> etree._Element:
    el = _root(item.section, item.section, put_code=item.put_code, path=_path(view, item),
               visibility=item.visibility)
    _xml_affiliation_body(el, item, view)
    return el


def affiliation_json(item: Item, view: View) -> dict[str, Any]:
    d = item.data
    org = d.get("organization")
    return {
        "created-date": millis(item.created),
        "last-modified-date": millis(item.modified),
        "source": _json_source(item, view),
        "put-code": item.put_code,
        "department-name": d.get("department_name"),
        "role-title": d.get("role_title"),
        "start-date": _json_date(d.get("start_date")),
        "end-date": _json_date(d.get("end_date")),
        "organization": {
            "name": org["name"],
            "address": {"city": org.get("city"), "region": org.get("region"),
                        "country": org.get("country")},
            "disambiguated-organization": {
                "disambiguated-organization-identifier": org["disambiguated_id"],
                "disambiguation-source": org["disambiguation_source"],
            } if org.get("disambiguated_id") else None,
        } if org else None,
        "url": {"value": d["url"]} if d.get("url") else None,
        "external-ids": _json_ext_ids(d.get("external_ids", [])) if d.get("external_ids")
        else None,
        "display-index": "0",
        "visibility": item.visibility,
        "path": _path(view, item),
    }


def affiliations_xml(section: str, view: View,
                     parent: etree._Element | None = None) -> etree._Element:
    plural = SECTIONS[section]
    items = view.items(section)
    path = f"/{view.orcid}/{plural}"
    el = _sub(parent, "activities", plural, path=path) if parent is not None else _root(
        "activities", plural, path=path)
    latest = _latest(items)
    if latest is not None:
        _sub(el, "common", "last-modified-date", iso(latest))
    for members, ids in group_items(items):
        group = _sub(el, "activities", "affiliation-group")
        _sub(group, "common", "last-modified-date", iso(_latest(members) or 0))
        _xml_ext_ids(group, ids)
        for item in members:
            summary = _sub(group, section, f"{section}-summary", put_code=item.put_code,
                           path=_path(view, item), visibility=item.visibility,
                           display_index="0")
            _xml_affiliation_body(summary, item, view)
    return el


def affiliations_json(section: str, view: View) -> dict[str, Any]:
    items = view.items(section)
    latest = _latest(items)
    return {
        "last-modified-date": millis(latest) if latest is not None else None,
        "affiliation-group": [
            {
                "last-modified-date": millis(_latest(members) or 0),
                "external-ids": _json_ext_ids(ids),
                "summaries": [{f"{section}-summary": affiliation_json(i, view)}
                              for i in members],
            }
            for members, ids in group_items(items)
        ],
        "path": f"/{view.orcid}/{SECTIONS[section]}",
    }


def bulk_xml(entries: list[Item | ApiError], view: View) -> etree._Element:
    root = _root("bulk", "bulk")
    for entry in entries:
        if isinstance(entry, ApiError):
            error_xml(entry.status, entry.code, entry.developer, entry.user, parent=root)
        else:
            work_xml(entry, view, parent=root)
    return root


def bulk_json(entries: list[Item | ApiError], view: View) -> dict[str, Any]:
    return {"bulk": [
        {"error": error_json(e.status, e.code, e.developer, e.user)}
        if isinstance(e, ApiError) else {"work": work_json(e, view)}
        for e in entries
    ]}


# -- person and record ---------------------------------------------------------------------------
def _orcid_source_xml(parent: etree._Element, view: View) -> None:
    src = _sub(parent, "common", "source")
    so = _sub(src, "common", "source-orcid")
    _sub(so, "common", "path", view.orcid)
    _sub(so, "common", "host", view.host)
    _sub(src, "common", "source-name", view.researcher.display_name)


def person_xml(view: View, parent: etree._Element | None = None) -> etree._Element:
    r = view.researcher
    path = f"/{r.orcid}/person"
    el = _sub(parent, "person", "person", path=path) if parent is not None else _root(
        "person", "person", path=path)
    created = iso(r.created)
    _sub(el, "common", "last-modified-date", created)
    if view.shows(r.name_visibility):
        name = _sub(el, "person", "name", visibility=r.name_visibility, path=r.orcid)
        _sub(name, "common", "created-date", created)
        _sub(name, "common", "last-modified-date", created)
        _sub(name, "personal-details", "given-names", r.given_names)
        if r.family_name:
            _sub(name, "personal-details", "family-name", r.family_name)
        if r.credit_name:
            _sub(name, "personal-details", "credit-name", r.credit_name)
    others = _sub(el, "other-name", "other-names", path=f"/{r.orcid}/other-names")
    for n, other in enumerate(r.other_names, start=1):
        on = _sub(others, "other-name", "other-name", put_code=n, visibility="public",
                  path=f"/{r.orcid}/other-names/{n}", display_index="0")
        _sub(on, "common", "created-date", created)
        _sub(on, "common", "last-modified-date", created)
        _orcid_source_xml(on, view)
        _sub(on, "other-name", "content", other)
    if r.biography:
        bio = _sub(el, "person", "biography", visibility="public", path=f"/{r.orcid}/biography")
        _sub(bio, "common", "created-date", created)
        _sub(bio, "common", "last-modified-date", created)
        _sub(bio, "personal-details", "content", r.biography)
    emails = _sub(el, "email", "emails", path=f"/{r.orcid}/email")
    for e in r.emails:
        if not view.shows(e.visibility):
            continue
        ee = _sub(emails, "email", "email", visibility=e.visibility,
                  verified=str(e.verified).lower(), primary=str(e.primary).lower())
        _sub(ee, "common", "created-date", created)
        _sub(ee, "common", "last-modified-date", created)
        _orcid_source_xml(ee, view)
        _sub(ee, "email", "email", e.email)
    return el


def person_json(view: View) -> dict[str, Any]:
    r = view.researcher
    created = millis(r.created)
    source = {
        "source-orcid": {"uri": f"{view.base}/{r.orcid}", "path": r.orcid, "host": view.host},
        "source-client-id": None,
        "source-name": {"value": r.display_name},
        "assertion-origin-orcid": None, "assertion-origin-client-id": None,
        "assertion-origin-name": None,
    }
    name = None
    if view.shows(r.name_visibility):
        name = {
            "created-date": created, "last-modified-date": created,
            "given-names": {"value": r.given_names},
            "family-name": {"value": r.family_name} if r.family_name else None,
            "credit-name": {"value": r.credit_name} if r.credit_name else None,
            "source": None, "visibility": r.name_visibility, "path": r.orcid,
        }
    return {
        "last-modified-date": created,
        "name": name,
        "other-names": {
            "last-modified-date": created,
            "other-name": [
                {"created-date": created, "last-modified-date": created, "source": source,
                 "content": other, "visibility": "public",
                 "path": f"/{r.orcid}/other-names/{n}", "put-code": n, "display-index": 0}
                for n, other in enumerate(r.other_names, start=1)
            ],
            "path": f"/{r.orcid}/other-names",
        },
        "biography": {"created-date": created, "last-modified-date": created,
                      "content": r.biography, "visibility": "public",
                      "path": f"/{r.orcid}/biography"} if r.biography else None,
        "researcher-urls": {"last-modified-date": None, "researcher-url": [],
                            "path": f"/{r.orcid}/researcher-urls"},
        "emails": {
            "last-modified-date": created,
            "email": [
                {"created-date": created, "last-modified-date": created, "source": source,
                 "email": e.email, "path": None, "visibility": e.visibility,
                 "verified": e.verified, "primary": e.primary, "put-code": None}
                for e in r.emails if view.shows(e.visibility)
            ],
            "path": f"/{r.orcid}/email",
        },
        "addresses": {"last-modified-date": None, "address": [],
                      "path": f"/{r.orcid}/address"},
        "keywords": {"last-modified-date": None, "keyword": [],
                     "path": f"/{r.orcid}/keywords"},
        "external-identifiers": {"last-modified-date": None, "external-identifier": [],
                                 "path": f"/{r.orcid}/external-identifiers"},
        "path": f"/{r.orcid}/person",
    }


_EMPTY_ACTIVITIES = {"fundings", "peer-reviews", "research-resources"}
_ACTIVITY_ORDER = ["distinctions", "educations", "employments", "fundings",
                   "invited-positions", "memberships", "peer-reviews", "qualifications",
                   "research-resources", "services", "works"]


def activities_xml(view: View, parent: etree._Element | None = None) -> etree._Element:
    path = f"/{view.orcid}/activities"
    el = _sub(parent, "activities", "activities-summary", path=path) if parent is not None \
        else _root("activities", "activities-summary", path=path)
    latest = _latest([i for s in SECTIONS for i in view.items(s)])
    if latest is not None:
        _sub(el, "common", "last-modified-date", iso(latest))
    for plural in _ACTIVITY_ORDER:
        if plural in _EMPTY_ACTIVITIES:
            _sub(el, "activities", plural, path=f"/{view.orcid}/{plural}")
        elif plural == "works":
            works_xml(view, parent=el)
        else:
            affiliations_xml(plural_to_section(plural), view, parent=el)
    return el


def plural_to_section(plural: str) -> str:
    return next(s for s, p in SECTIONS.items() if p == plural)


def activities_json(view: View) -> dict[str, Any]:
    latest = _latest([i for s in SECTIONS for i in view.items(s)])
    out: dict[str, Any] = {"last-modified-date": millis(latest) if latest else None}
    for plural in _ACTIVITY_ORDER:
        if plural in _EMPTY_ACTIVITIES:
            out[plural] = {"last-modified-date": None, "group": [],
                           "path": f"/{view.orcid}/{plural}"}
        elif plural == "works":
            out[plural] = works_json(view)
        else:
            out[plural] = affiliations_json(plural_to_section(plural), view)
    out["path"] = f"/{view.orcid}/activities"
    return out


def record_xml(view: View) -> etree._Element:
    root = _root("record", "record", path=f"/{view.orcid}")
    ident = _sub(root, "common", "orcid-identifier")
    _sub(ident, "common", "path", view.orcid)
    _sub(ident, "common", "host", view.host)
    person_xml(view, parent=root)
    activities_xml(view, parent=root)
    return root


def record_json(view: View) -> dict[str, Any]:
    return {
        "orcid-identifier": {"uri": f"{view.base}/{view.orcid}", "path": view.orcid,
                             "host": view.host},
        "preferences": {"locale": view.researcher.locale},
        "history": None,
        "person": person_json(view),
        "activities-summary": activities_json(view),
        "path": f"/{view.orcid}",
    }
