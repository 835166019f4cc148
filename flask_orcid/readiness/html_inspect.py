"""Reading the site's pages the way a reviewer looks at them: links, forms, marked text, and
how each ORCID iD on a page is displayed (with or without the iD icon, as a full URI or not).

lxml's HTML parser is lenient like a browser; nothing here runs the page's scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import html as lxml_html
from lxml.html import HtmlElement

__all__ = [
    "ORCID_ID",
    "IdDisplay",
    "benefit_text",
    "form_fields",
    "has_icon",
    "id_displays",
    "links",
    "parse",
    "text_of",
]

#: An iD anywhere in a URL or a text (the checksum is verified by the caller).
ORCID_ID = re.compile(r"(?<![\dA-Za-z])(\d{4}-\d{4}-\d{4}-\d{3}[\dX])(?![\dA-Za-z])")

#: The attribute (or class) a site puts on the block that explains ORCID and its benefits;
#: the extension's own "about ORCID" text carries the class.
BENEFITS_MARKERS = ("data-orcid-benefits", "orcid-about")


def parse(text: str) -> HtmlElement:
    """The page as an element tree (an empty page gives an empty <html>)."""
    return lxml_html.document_fromstring(text or "<html></html>")


def text_of(element: HtmlElement) -> str:
    """The element's visible text with whitespace collapsed (scripts and styles left out)."""
    parts = [t for node in element.iter() if node.tag not in ("script", "style")
             for t in (node.text, node.tail if node is not element else None) if t]
    return " ".join(" ".join(parts).split())


def links(doc: HtmlElement) -> list[HtmlElement]:
    """Every ``<a href>`` of the page."""
    return [a for a in doc.iter("a") if a.get("href")]


def links_to(doc: HtmlElement, path: str) -> list[HtmlElement]:
    """Links whose path is ``path`` (any query), relative or absolute."""
    return [a for a in links(doc) if urlsplit(str(a.get("href"))).path == path]


def form_fields(doc: HtmlElement, action_path: str) -> dict[str, str]:
    """The hidden and named fields of the first form posting to ``action_path``."""
    for form in doc.iter("form"):
        if urlsplit(str(form.get("action") or "")).path == action_path:
            return {str(i.get("name")): str(i.get("value") or "")
                    for i in form.iter("input") if i.get("name")}
    return {}


def benefit_text(doc: HtmlElement) -> str:
    """The text of the blocks marked as ORCID's explanation (all of them, joined)."""
    blocks = [el for el in doc.iter() if isinstance(el.tag, str) and (
        el.get(BENEFITS_MARKERS[0]) is not None
        or BENEFITS_MARKERS[1] in (el.get("class") or "").split())]
    # a marked block inside another marked block is counted once
    outer = [b for b in blocks if not any(o is not b and b in o.iterdescendants()
                                          for o in blocks)]
    return " ".join(text_of(b) for b in outer)


def _is_icon(element: HtmlElement) -> bool:
    """An ORCID iD icon: an inline SVG or an image whose class, source, title or text names
    ORCID (the extension's icon, ORCID's own SVG file, an <img alt="ORCID iD">)."""
    if not isinstance(element.tag, str):
        return False
    tag = element.tag.rsplit("}", 1)[-1].lower()
    if tag not in ("svg", "img"):
        return False
    described = " ".join(str(element.get(a) or "") for a in ("class", "src", "alt", "aria-label"))
    described += " " + text_of(element)
    return "orcid" in described.lower()


def has_icon(anchor: HtmlElement) -> bool:
    """Whether the iD icon is inside the link or right next to it (its sibling elements)."""
    if any(_is_icon(el) for el in anchor.iter()):
        return True
    neighbours = [anchor.getprevious(), anchor.getnext()]
    return any(n is not None and any(_is_icon(el) for el in n.iter()) for n in neighbours)


@dataclass
class IdDisplay:
    """One iD shown on a page: as a link (``href``) or as bare text."""

    orcid: str
    href: str | None
    text: str
    icon: bool


def id_displays(doc: HtmlElement) -> list[IdDisplay]:
    """Every iD the page shows: each link to an iD, and each iD in text outside such a link."""
    found: list[IdDisplay] = []
    # lxml hands out the same proxy for an element only while one is alive: keep them, so
    # their id() stays theirs
    kept: list[HtmlElement] = []
    linked: set[int] = set()
    for a in links(doc):
        match = ORCID_ID.search(str(a.get("href")))
        if match is None:
            continue
        kept += a.iter()
        linked.update(id(el) for el in kept)
        found.append(IdDisplay(match.group(1), str(a.get("href")), text_of(a), has_icon(a)))
    body = doc.find("body")
    for el in (body.iter() if body is not None else ()):
        if id(el) in linked or not isinstance(el.tag, str) or el.tag in ("script", "style"):
            continue
        parent = el.getparent()
        for text, holder in ((el.text, el), (el.tail, parent)):
            if holder is None or id(holder) in linked:
                continue
            for match in ORCID_ID.finditer(text or ""):
                found.append(IdDisplay(match.group(1), None, match.group(1),
                                       any(_is_icon(c) for c in holder)))
    return found
