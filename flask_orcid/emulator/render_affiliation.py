"""Writing affiliations (employment, education, ...) in XML and JSON: one item and a section."""

from __future__ import annotations

from typing import Any

from lxml import etree

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
from .state import SECTIONS, Item
from .xmltree import new_root, sub


def _xml_affiliation_body(el: etree._Element, item: Item, view: View) -> None:
    d = item.data
    xml_summary_head(el, item, view)
    if d.get("department_name"):
        sub(el, "common", "department-name", d["department_name"])
    if d.get("role_title"):
        sub(el, "common", "role-title", d["role_title"])
    xml_date(el, "start-date", d.get("start_date"))
    xml_date(el, "end-date", d.get("end_date"))
    org = d.get("organization")
    if org:
        oe = sub(el, "common", "organization")
        sub(oe, "common", "name", org["name"])
        addr = sub(oe, "common", "address")
        for part in ("city", "region", "country"):
            if org.get(part):
                sub(addr, "common", part, org[part])
        if org.get("disambiguated_id"):
            dis = sub(oe, "common", "disambiguated-organization")
            sub(dis, "common", "disambiguated-organization-identifier", org["disambiguated_id"])
            sub(dis, "common", "disambiguation-source", org["disambiguation_source"])
    if d.get("url"):
        sub(el, "common", "url", d["url"])
    if d.get("external_ids"):
        xml_ext_ids(el, d["external_ids"])


def affiliation_xml(item: Item, view: View) -> etree._Element:
    el = new_root(item.section, item.section, put_code=item.put_code, path=item_path(view, item),
                  visibility=item.visibility)
    _xml_affiliation_body(el, item, view)
    return el


def affiliation_json(item: Item, view: View) -> dict[str, Any]:
    d = item.data
    org = d.get("organization")
    return {
        "created-date": millis(item.created),
        "last-modified-date": millis(item.modified),
        "source": json_source(item, view),
        "put-code": item.put_code,
        "department-name": d.get("department_name"),
        "role-title": d.get("role_title"),
        "start-date": json_date(d.get("start_date")),
        "end-date": json_date(d.get("end_date")),
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
        "external-ids": json_ext_ids(d.get("external_ids", [])) if d.get("external_ids")
        else None,
        "display-index": "0",
        "visibility": item.visibility,
        "path": item_path(view, item),
    }


def affiliations_xml(section: str, view: View,
                     parent: etree._Element | None = None) -> etree._Element:
    plural = SECTIONS[section]
    items = view.items(section)
    path = f"/{view.orcid}/{plural}"
    el = sub(parent, "activities", plural, path=path) if parent is not None else new_root(
        "activities", plural, path=path)
    latest = last_modified(items)
    if latest is not None:
        sub(el, "common", "last-modified-date", iso(latest))
    for members, ids in group_items(items):
        group = sub(el, "activities", "affiliation-group")
        sub(group, "common", "last-modified-date", iso(last_modified(members) or 0))
        xml_ext_ids(group, ids)
        for item in members:
            summary = sub(group, section, f"{section}-summary", put_code=item.put_code,
                          path=item_path(view, item), visibility=item.visibility,
                          display_index="0")
            _xml_affiliation_body(summary, item, view)
    return el


def affiliations_json(section: str, view: View) -> dict[str, Any]:
    items = view.items(section)
    latest = last_modified(items)
    return {
        "last-modified-date": millis(latest) if latest is not None else None,
        "affiliation-group": [
            {
                "last-modified-date": millis(last_modified(members) or 0),
                "external-ids": json_ext_ids(ids),
                "summaries": [{f"{section}-summary": affiliation_json(i, view)}
                              for i in members],
            }
            for members, ids in group_items(items)
        ],
        "path": f"/{view.orcid}/{SECTIONS[section]}",
    }
