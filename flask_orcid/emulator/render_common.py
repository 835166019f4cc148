"""What every written document shares: the reader's View, dates, sources, ids and grouping.

Output follows the element order of the official XSDs; JSON follows ORCID's JSON shapes
(values wrapped in ``{"value": ...}``, timestamps as epoch milliseconds, API-FACTS §5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from .normalize import id_key, normalize_id
from .state import Item, Researcher
from .xmltree import sub


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


def iso(ts: float) -> str:
    """xs:dateTime with milliseconds, no trailing whitespace (API-FACTS §13)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def millis(ts: float) -> dict[str, int]:
    return {"value": int(ts * 1000)}


def last_modified(items: list[Item]) -> float | None:
    return max((i.modified for i in items), default=None)


def xml_summary_head(el: etree._Element, item: Item, view: View) -> None:
    sub(el, "common", "created-date", iso(item.created))
    sub(el, "common", "last-modified-date", iso(item.modified))
    src = sub(el, "common", "source")
    if item.source_client_id:
        # ORCID also writes common:uri, but the XSD only accepts orcid.org hosts there; the
        # emulator writes path and host, which the schema allows on their own.
        cid = sub(src, "common", "source-client-id")
        sub(cid, "common", "path", item.source_client_id)
        sub(cid, "common", "host", view.host)
    elif item.source_orcid:
        sid = sub(src, "common", "source-orcid")
        sub(sid, "common", "path", item.source_orcid)
        sub(sid, "common", "host", view.host)
    sub(src, "common", "source-name", item.source_name)


def json_source(item: Item, view: View) -> dict[str, Any]:
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


def xml_date(parent: etree._Element, local: str, date: dict[str, Any] | None) -> None:
    if not date or not date.get("year"):
        return
    el = sub(parent, "common", local)
    for part in ("year", "month", "day"):
        if date.get(part):
            sub(el, "common", part, str(date[part]))


def json_date(date: dict[str, Any] | None) -> dict[str, Any] | None:
    if not date or not date.get("year"):
        return None
    return {p: ({"value": str(date[p])} if date.get(p) else None)
            for p in ("year", "month", "day")}


def xml_ext_ids(parent: etree._Element, ids: list[dict[str, Any]]) -> None:
    wrapper = sub(parent, "common", "external-ids")
    for ext in ids:
        el = sub(wrapper, "common", "external-id")
        sub(el, "common", "external-id-type", ext["type"])
        sub(el, "common", "external-id-value", ext["value"])
        normalized = normalize_id(ext["type"], ext["value"])
        if normalized is not None:
            sub(el, "common", "external-id-normalized", normalized, transient="true")
        else:
            err = sub(el, "common", "external-id-normalized-error", transient="true")
            sub(err, "common", "error-code", "8001")
            sub(err, "common", "error-message",
                f"Cannot normalize identifier value {ext['type']}:{ext['value']}")
        if ext.get("url"):
            sub(el, "common", "external-id-url", ext["url"])
        if ext.get("relationship"):
            sub(el, "common", "external-id-relationship", ext["relationship"])


def json_ext_ids(ids: list[dict[str, Any]]) -> dict[str, Any]:
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


def item_path(view: View, item: Item) -> str:
    return f"/{view.orcid}/{item.section}/{item.put_code}"


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
