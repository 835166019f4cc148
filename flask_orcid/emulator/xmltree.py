"""ORCID's XML namespaces and the element builders shared by the readers and writers."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .state import AFFILIATION_SECTIONS

_PREFIXES = [
    "common", "work", "activities", "record", "person", "personal-details", "other-name",
    "email", "bulk", "error", "researcher-url", "address", "keyword", "external-identifier",
    *AFFILIATION_SECTIONS,
]
NS = {p: f"http://www.orcid.org/ns/{p}" for p in _PREFIXES}


def q(prefix: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for an ORCID prefix."""
    return f"{{{NS[prefix]}}}{local}"


def local_name(el: etree._Element) -> str:
    return etree.QName(el).localname


def new_root(prefix: str, local: str, **attrs: Any) -> etree._Element:
    """A document root declaring every ORCID namespace; ``put_code=`` becomes ``put-code``."""
    root = etree.Element(q(prefix, local), nsmap=NS)
    for key, value in attrs.items():
        if value is not None:
            root.set(key.replace("_", "-"), str(value))
    return root


def sub(parent: etree._Element, prefix: str, local: str, text: str | None = None,
        **attrs: Any) -> etree._Element:
    """A child element with optional text; attributes set to None are left out."""
    el = etree.SubElement(parent, q(prefix, local))
    if text is not None:
        el.text = text
    for key, value in attrs.items():
        if value is not None:
            el.set(key.replace("_", "-"), str(value))
    return el
