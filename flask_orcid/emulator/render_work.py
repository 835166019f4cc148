"""Writing works in XML and JSON: a work, its summary, the grouped works list and bulk results."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .formats import error_json, error_xml
from .render_common import (
    View,
    group_items,
    iso,
    item_path,
    json_date,
    json_ext_ids,
    json_source,
    last_modified,
    millis,
    xml_date,
    xml_ext_ids,
    xml_summary_head,
)
from .rules import ApiError
from .state import Item
from .xmltree import new_root, sub

_ORCID_URI = re.compile(r"https://([^/]*orcid\.org|localhost.*/orcid-web)/(\d{4}-){3,}\d{3}[\dX]")


def _xml_title(parent: etree._Element, data: dict[str, Any]) -> None:
    title = sub(parent, "work", "title")
    sub(title, "common", "title", data["title"])
    if data.get("subtitle"):
        sub(title, "common", "subtitle", data["subtitle"])
    if data.get("translated_title"):
        sub(title, "common", "translated-title", data["translated_title"],
            language_code=data.get("translated_title_language"))


def _json_title(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": {"value": data["title"]},
        "subtitle": {"value": data["subtitle"]} if data.get("subtitle") else None,
        "translated-title": {"value": data["translated_title"],
                             "language-code": data.get("translated_title_language")}
        if data.get("translated_title") else None,
    }


def work_xml(item: Item, view: View, parent: etree._Element | None = None) -> etree._Element:
    attrs: dict[str, Any] = {"put_code": item.put_code, "path": item_path(view, item),
                             "visibility": item.visibility}
    el = sub(parent, "work", "work", **attrs) if parent is not None else new_root(
        "work", "work", **attrs)
    d = item.data
    xml_summary_head(el, item, view)
    _xml_title(el, d)
    if d.get("journal_title"):
        sub(el, "work", "journal-title", d["journal_title"])
    if d.get("short_description"):
        sub(el, "work", "short-description", d["short_description"])
    if d.get("citation_type"):
        cit = sub(el, "work", "citation")
        sub(cit, "work", "citation-type", d["citation_type"])
        sub(cit, "work", "citation-value", d["citation_value"])
    sub(el, "work", "type", d["type"])
    xml_date(el, "publication-date", d.get("publication_date"))
    xml_ext_ids(el, d.get("external_ids", []))
    if d.get("url"):
        sub(el, "common", "url", d["url"])
    if d.get("contributors"):
        _xml_contributors(sub(el, "work", "contributors"), d["contributors"])
    if d.get("language_code"):
        sub(el, "common", "language-code", d["language_code"])
    if d.get("country"):
        sub(el, "common", "country", d["country"])
    return el


def _xml_contributors(parent: etree._Element, contributors: list[dict[str, Any]]) -> None:
    for c in contributors:
        ce = sub(parent, "work", "contributor")
        if c.get("orcid"):
            co = sub(ce, "common", "contributor-orcid")
            if c.get("orcid_uri") and _ORCID_URI.fullmatch(c["orcid_uri"]):
                sub(co, "common", "uri", c["orcid_uri"])
            sub(co, "common", "path", c["orcid"])
            sub(co, "common", "host", c.get("orcid_host") or "orcid.org")
        if c.get("credit_name"):
            sub(ce, "work", "credit-name", c["credit_name"])
        # contributor-email is accepted but never returned on read (API-FACTS §5)
        if c.get("sequence") or c.get("role"):
            attrs_el = sub(ce, "work", "contributor-attributes")
            if c.get("sequence"):
                sub(attrs_el, "work", "contributor-sequence", c["sequence"])
            if c.get("role"):
                sub(attrs_el, "work", "contributor-role", c["role"])


def work_json(item: Item, view: View) -> dict[str, Any]:
    d = item.data
    return {
        "created-date": millis(item.created),
        "last-modified-date": millis(item.modified),
        "source": json_source(item, view),
        "put-code": item.put_code,
        "path": item_path(view, item),
        "title": _json_title(d),
        "journal-title": {"value": d["journal_title"]} if d.get("journal_title") else None,
        "short-description": d.get("short_description"),
        "citation": {"citation-type": d["citation_type"], "citation-value": d["citation_value"]}
        if d.get("citation_type") else None,
        "type": d["type"],
        "publication-date": json_date(d.get("publication_date")),
        "external-ids": json_ext_ids(d.get("external_ids", [])),
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
    el = sub(parent, "work", "work-summary", put_code=item.put_code, path=item_path(view, item),
             visibility=item.visibility, display_index="0")
    xml_summary_head(el, item, view)
    _xml_title(el, d)
    xml_ext_ids(el, d.get("external_ids", []))
    if d.get("url"):
        sub(el, "common", "url", d["url"])
    sub(el, "work", "type", d["type"])
    xml_date(el, "publication-date", d.get("publication_date"))
    if d.get("journal_title"):
        sub(el, "work", "journal-title", d["journal_title"])


def work_summary_json(item: Item, view: View) -> dict[str, Any]:
    d = item.data
    return {
        "put-code": item.put_code,
        "created-date": millis(item.created),
        "last-modified-date": millis(item.modified),
        "source": json_source(item, view),
        "title": _json_title(d),
        "external-ids": json_ext_ids(d.get("external_ids", [])),
        "url": {"value": d["url"]} if d.get("url") else None,
        "type": d["type"],
        "publication-date": json_date(d.get("publication_date")),
        "journal-title": {"value": d["journal_title"]} if d.get("journal_title") else None,
        "visibility": item.visibility,
        "path": item_path(view, item),
        "display-index": "0",
    }


def works_xml(view: View, parent: etree._Element | None = None) -> etree._Element:
    items = view.items("work")
    path = f"/{view.orcid}/works"
    el = sub(parent, "activities", "works", path=path) if parent is not None else new_root(
        "activities", "works", path=path)
    latest = last_modified(items)
    if latest is not None:
        sub(el, "common", "last-modified-date", iso(latest))
    for members, ids in group_items(items):
        group = sub(el, "activities", "group")
        sub(group, "common", "last-modified-date", iso(last_modified(members) or 0))
        xml_ext_ids(group, ids)
        for item in members:
            work_summary_xml(group, item, view)
    return el


def works_json(view: View) -> dict[str, Any]:
    items = view.items("work")
    latest = last_modified(items)
    return {
        "last-modified-date": millis(latest) if latest is not None else None,
        "group": [
            {
                "last-modified-date": millis(last_modified(members) or 0),
                "external-ids": json_ext_ids(ids),
                "work-summary": [work_summary_json(i, view) for i in members],
            }
            for members, ids in group_items(items)
        ],
        "path": f"/{view.orcid}/works",
    }


def bulk_xml(entries: list[Item | ApiError], view: View) -> etree._Element:
    root = new_root("bulk", "bulk")
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
