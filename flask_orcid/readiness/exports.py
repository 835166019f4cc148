"""exports: the machine-readable metadata of the site (JSON-LD, OAI-PMH, DataCite, ...) must
carry the authenticated iDs and must not pass an unauthenticated iD off as authenticated.

The exports come from the host (``CheckTargets.exports``, ``ORCID_CHECK_URLS['exports']``)
and from the FAIR signposting ``Link: <…>; rel="describedby"`` headers of the public pages,
so an export a site adds later is checked without configuration.

An iD the site did not authenticate counts as flagged when the object that holds it (in
JSON, the object and its parent object; in XML, the element, its parent and the parent's
other children) says so: a key, attribute or text matching :data:`FLAG`, such as
``"unauthenticated"``, ``"not authenticated"`` or ``authenticated="false"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from ..i18n import gettext as _
from .context import CheckRun
from .html_inspect import ORCID_ID
from .model import FAIL, PASS
from .site import Page

__all__ = ["FLAG", "describedby", "ids_in", "judge_exports"]

FLAG = re.compile(r"un-?authenticated|not[\s_-]+authenticated|authenticated\W{0,3}(false|no)\b",
                  re.IGNORECASE)
_LINK = re.compile(r"<([^>]+)>\s*((?:;\s*[^;,]+)*)")


def describedby(page: Page) -> list[str]:
    """The ``rel="describedby"`` targets of a page's ``Link`` headers."""
    out = []
    for header in page.link_headers:
        for target, params in _LINK.findall(header):
            if re.search(r'rel="?[^";]*\bdescribedby\b', params):
                out.append(target)
    return out


def _json_ids(node: Any, parent: Any = None) -> Iterator[tuple[str, bool]]:
    if isinstance(node, dict):
        own = " ".join(f"{k} {v}" for k, v in node.items() if not isinstance(v, dict | list))
        context = own + " " + (" ".join(f"{k} {v}" for k, v in parent.items()
                                        if not isinstance(v, dict | list))
                               if isinstance(parent, dict) else "")
        for value in node.values():
            if isinstance(value, str):
                for match in ORCID_ID.finditer(value):
                    yield match.group(1), bool(FLAG.search(context))
            else:
                yield from _json_ids(value, node)
    elif isinstance(node, list):
        for value in node:
            yield from _json_ids(value, parent)


def _xml_text(element: Any) -> str:
    parts = [f"{etree.QName(element).localname} {element.text or ''}"]
    parts += [f"{k} {v}" for k, v in element.attrib.items()]
    return " ".join(parts)


def _xml_ids(root: Any) -> Iterator[tuple[str, bool]]:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        own = " ".join([element.text or "", *element.attrib.values()])
        for match in ORCID_ID.finditer(own):
            group = element.getparent()
            around = [element] + ([group, *group] if group is not None else [])
            yield match.group(1), bool(FLAG.search(" ".join(_xml_text(e) for e in around)))


def ids_in(page: Page) -> list[tuple[str, bool]]:
    """(iD, flagged as unauthenticated) for every iD in an export; JSON or XML, else text."""
    text = page.text.strip()
    if text.startswith(("{", "[")):
        try:
            return list(_json_ids(json.loads(text)))
        except ValueError:
            pass
    if text.startswith("<"):
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            return list(_xml_ids(etree.fromstring(text.encode(), parser)))
        except etree.XMLSyntaxError:
            pass
    return [(m.group(1), bool(FLAG.search(text))) for m in ORCID_ID.finditer(text)]


def judge_exports(run: CheckRun, public: list[Page], known: set[str]) -> None:
    urls = list(dict.fromkeys([*run.targets.exports, *(u for p in public
                                                        for u in describedby(p))]))
    pages = [run.site.get(u) for u in urls if run.site.path_of(u) is not None]
    pages = [p for p in pages if p.status == 200]
    if not pages:
        run.add("exports", FAIL, _("No metadata export was found: list them in CheckTargets."
                                   "exports or link them from the public pages with "
                                   "rel=\"describedby\"."))
        return
    problems, carried, flagged = [], set(), 0
    for page in pages:
        for orcid, flag in ids_in(page):
            if orcid in known:
                carried.add(orcid)
            elif flag:
                flagged += 1
            else:
                problems.append(_("%(orcid)s in %(url)s is not authenticated and not flagged "
                                  "as such", orcid=orcid, url=page.url))
    if problems or not carried:
        run.add("exports", FAIL, "; ".join(problems or [_(
            "none of the %(n)d export(s) carries an authenticated iD", n=len(pages))]) + ".")
        return
    run.add("exports", PASS, _(
        "%(n)d export(s) checked (%(urls)s): %(a)d authenticated iD(s) carried, %(f)d "
        "unauthenticated iD(s) flagged, none unflagged.", n=len(pages),
        urls=", ".join(p.url for p in pages), a=len(carried), f=flagged))
