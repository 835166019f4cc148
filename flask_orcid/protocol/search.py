"""ORCID's record search: queries for an institution's people, results, and the answer readers.

ORCID's limits (API-FACTS §4; ORCID-Source ``orcid-core/src/main/java/org/orcid/core/manager/
v3/OrcidSearchManager.java:25-29``): at most 1000 rows a call (also the default), and callers
without a token may not start past 10,000. Only public data is indexed, so a search finds the
people who made their link to the institution public.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import XMLError
from .xmlsafe import parse_xml

__all__ = [
    "MAX_ROWS",
    "MAX_START_ANONYMOUS",
    "ExpandedResult",
    "SearchPage",
    "institution_query",
    "parse_expanded_search",
    "parse_search",
    "quote",
]

MAX_ROWS = 1000
MAX_START_ANONYMOUS = 10000

_SEARCH = "http://www.orcid.org/ns/search"
_EXPANDED = "http://www.orcid.org/ns/expanded-search"
_COMMON = "http://www.orcid.org/ns/common"
_ORCID_ID = re.compile(r"^(\d{4}-){3}\d{3}[\dX]$")


def quote(value: str) -> str:
    """``value`` as one quoted Solr phrase (quotes and backslashes escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def institution_query(*, ror: str | None = None, grid: str | None = None,
                      ringgold: str | None = None, names: list[str] | None = None,
                      email_domains: list[str] | None = None) -> str:
    """A query for the record holders who list an institution, any of the ways given.

    Email domains become ``email:*@domain`` (ORCID's own example); the domain is reduced to
    the characters a domain may hold, so nothing else can reach the query.
    """
    parts: list[str] = []
    if ror:
        parts.append(f"ror-org-id:{quote(ror)}")
    if grid:
        parts.append(f"grid-org-id:{quote(grid)}")
    if ringgold:
        parts.append(f"ringgold-org-id:{quote(ringgold)}")
    for name in names or []:
        if name.strip():
            parts.append(f"affiliation-org-name:{quote(name.strip())}")
    for domain in email_domains or []:
        clean = re.sub(r"[^A-Za-z0-9.-]", "", domain.lstrip("@"))
        if clean:
            parts.append(f"email:*@{clean}")
    if not parts:
        raise ValueError("institution_query needs a ROR, GRID or Ringgold id, a name or a domain.")
    return " OR ".join(parts)


@dataclass
class ExpandedResult:
    """One expanded-search hit: the public names, emails and institution names."""

    orcid: str
    given_names: str | None = None
    family_names: str | None = None
    credit_name: str | None = None
    other_names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    institution_names: list[str] = field(default_factory=list)


@dataclass
class SearchPage:
    """One page of results and ORCID's ``num-found`` for the whole query."""

    num_found: int
    start: int
    results: list[ExpandedResult] = field(default_factory=list)


def _num_found(root: etree._Element) -> int:
    try:
        return max(int(root.get("num-found") or 0), 0)
    except ValueError:
        raise XMLError("ORCID's search answer has no usable num-found.") from None


def _texts(element: etree._Element, name: str) -> list[str]:
    found = element.findall(f"{{{_EXPANDED}}}{name}")
    return [e.text.strip() for e in found if e.text and e.text.strip()]


def _orcid(value: str | None) -> str | None:
    value = (value or "").strip().rsplit("/", 1)[-1]
    return value if _ORCID_ID.match(value) else None


def parse_search(xml: bytes | str, start: int = 0) -> SearchPage:
    """A ``search:search`` answer; each result carries only its iD."""
    root = parse_xml(xml)
    if root.tag != f"{{{_SEARCH}}}search":
        raise XMLError("Expected ORCID's search answer, got another document.")
    results = []
    for result in root.findall(f"{{{_SEARCH}}}result"):
        ident = result.find(f"{{{_COMMON}}}orcid-identifier")
        orcid = None if ident is None else _orcid(
            ident.findtext(f"{{{_COMMON}}}path") or ident.findtext(f"{{{_COMMON}}}uri"))
        if orcid is not None:
            results.append(ExpandedResult(orcid=orcid))
    return SearchPage(_num_found(root), start, results)


def parse_expanded_search(xml: bytes | str, start: int = 0) -> SearchPage:
    """An ``expanded-search:expanded-search`` answer."""
    root = parse_xml(xml)
    if root.tag != f"{{{_EXPANDED}}}expanded-search":
        raise XMLError("Expected ORCID's expanded-search answer, got another document.")
    results = []
    for el in root.findall(f"{{{_EXPANDED}}}expanded-result"):
        orcid = _orcid(el.findtext(f"{{{_EXPANDED}}}orcid-id"))
        if orcid is None:
            continue  # not an iD: nothing to link to
        first: dict[str, str | None] = {
            name: next(iter(_texts(el, name)), None)
            for name in ("given-names", "family-names", "credit-name")}
        results.append(ExpandedResult(
            orcid=orcid, given_names=first["given-names"], family_names=first["family-names"],
            credit_name=first["credit-name"], other_names=_texts(el, "other-name"),
            emails=_texts(el, "email"), institution_names=_texts(el, "institution-name"),
        ))
    return SearchPage(_num_found(root), start, results)
